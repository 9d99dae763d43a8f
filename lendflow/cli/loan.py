"""`lendflow loan`: operators advance loans; every command is one service call."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lendflow.cli.common import (
    AsOption,
    JsonOption,
    KeyOption,
    NoteOption,
    OnOption,
    ProductOption,
    acting,
    amount_text,
    business_date,
    parse_code,
    parse_id,
    parse_key,
    parse_line,
    parse_money,
    parse_note,
    parse_reference,
)
from lendflow.cli.output import console, print_json, print_result
from lendflow.domain.bounds import AmountKind
from lendflow.domain.errors import BadInput
from lendflow.domain.money import format_fen
from lendflow.domain.schedule import MAX_REPAYMENTS

if TYPE_CHECKING:
    from pydantic import BaseModel

    from lendflow.loans.results import LoanRequestView

app = typer.Typer(
    help="Apply, review, decide, disburse, repay and inspect loans.", no_args_is_help=True
)

LoanId = Annotated[int, typer.Argument(help="Loan id.", parser=parse_id("loan id"))]


def _done(result: BaseModel, json_output: bool, message: str) -> None:
    if json_output:
        print_result(result)
    else:
        typer.echo(message)


@app.command("apply")
def apply(
    product: Annotated[
        str | None, typer.Option(help="Product code.", parser=parse_code("--product"))
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Applicant's full name.", parser=parse_line("--name"))
    ] = None,
    id_number: Annotated[
        str | None,
        typer.Option(help="Chinese national ID (18 characters).", parser=parse_code("--id-number")),
    ] = None,
    phone: Annotated[
        str | None, typer.Option(help="Mainland mobile number.", parser=parse_code("--phone"))
    ] = None,
    monthly_income: Annotated[
        str | None,
        typer.Option(
            help="Monthly income in yuan.",
            parser=amount_text("--monthly-income", AmountKind.INCOME),
        ),
    ] = None,
    amount: Annotated[
        str | None,
        typer.Option(
            help="Amount requested in yuan.", parser=amount_text("--amount", AmountKind.LOAN)
        ),
    ] = None,
    term: Annotated[
        int | None, typer.Option(help="Number of repayments.", min=1, max=MAX_REPAYMENTS)
    ] = None,
    purpose: Annotated[
        str | None, typer.Option(help="Loan purpose code.", parser=parse_code("--purpose"))
    ] = None,
    monthly_debt: Annotated[
        str | None,
        typer.Option(
            help="Monthly repayments owed to other lenders, in yuan.",
            parser=amount_text("--monthly-debt", AmountKind.INCOME),
        ),
    ] = None,
    employment: Annotated[
        str | None,
        typer.Option(
            help="salaried, civil_servant, self_employed, business_owner, …",
            parser=parse_code("--employment"),
        ),
    ] = None,
    referrer: Annotated[
        str | None,
        typer.Option(
            help="Who referred the applicant: customer number or national ID.",
            parser=parse_code("--referrer"),
        ),
    ] = None,
    consent: Annotated[
        list[str] | None,
        typer.Option(
            "--consent",
            help="A consent the applicant gave (repeat): credit_check, personal_information,"
            " sensitive_personal_information, credit_reporting, or all.",
            parser=parse_code("--consent"),
        ),
    ] = None,
    consent_language: Annotated[
        str, typer.Option(help="Language of the consent texts shown: zh-CN or en.")
    ] = "zh-CN",
    applicant: Annotated[
        Path | None,
        typer.Option(help="JSON file with the fields above (id_number or national_id)."),
    ] = None,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Take an application; prints the new loan's id. The applicant must have consented to
    personal_information and sensitive_personal_information; review needs credit_check."""
    from lendflow.loans.applications import Application
    from lendflow.loans.applications import apply as apply_loan

    if applicant is not None:
        given = [
            o for o, v in (("--product", product), ("--name", name), ("--amount", amount)) if v
        ]
        if given:
            raise BadInput(
                "give the applicant either as --applicant FILE or as options,"
                f" not both ({given[0]})"
            )
        application = Application.from_file(applicant)
        if consent:  # given as options beside the file: they are the applicant's consents
            from dataclasses import replace

            from lendflow.domain.consents import parse_consents

            application = replace(application, consents=parse_consents(consent))
    else:
        application = Application.parse(
            product=product,
            name=name,
            national_id=id_number,
            phone=phone,
            monthly_income=monthly_income,
            amount=amount,
            term=term,
            purpose=purpose,
            monthly_debt=monthly_debt,
            employment=employment,
            referrer=referrer,
            consents=consent,
            channel="terminal",
            consent_locale=consent_language,
        )
    as_of = business_date(on)
    with acting(user) as (ws, actor):
        result = apply_loan(ws, actor, application, as_of)
    if json_output:
        print_result(result)
    else:
        typer.echo(result.id)


@app.command("review")
def review(
    loan_id: LoanId, on: OnOption = None, user: AsOption = None, json_output: JsonOption = False
) -> None:
    """Review a submitted application: automated review approves, declines or refers it
    to the manual queue (`lendflow queue list`)."""
    from lendflow.loans.applications import start_review

    with acting(user) as (ws, actor):
        result = start_review(ws, actor, loan_id, business_date(on))
    _done(result, json_output, f"loan {loan_id} is {result.status}")


@app.command("approve")
def approve(
    loan_id: LoanId,
    amount: Annotated[
        int | None,
        typer.Option(
            help="Approved amount (default: as requested).",
            parser=parse_money("--amount", AmountKind.LOAN),
        ),
    ] = None,
    note: NoteOption = None,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Approve an application under review."""
    from lendflow.loans.applications import approve as approve_loan

    with acting(user) as (ws, actor):
        result = approve_loan(ws, actor, loan_id, business_date(on), amount, note)
    approved = "—" if result.approved is None else format_fen(result.approved)
    _done(
        result,
        json_output,
        f"loan {loan_id} approved for {approved}, valid until {result.approval_expires_on}",
    )


@app.command("reject")
def reject(
    loan_id: LoanId,
    reason: Annotated[
        str, typer.Option(help="Reason code, e.g. DTI_TOO_HIGH.", parser=parse_code("--reason"))
    ],
    note: NoteOption = None,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Decline an application under review."""
    from lendflow.loans.applications import reject as reject_loan

    with acting(user) as (ws, actor):
        result = reject_loan(ws, actor, loan_id, business_date(on), reason, note)
    _done(result, json_output, f"loan {loan_id} rejected ({reason})")


@app.command("withdraw")
def withdraw(
    loan_id: LoanId,
    note: Annotated[
        str | None, typer.Option(help="Why the applicant withdrew.", parser=parse_note("--note"))
    ] = None,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Withdraw an application before disbursement."""
    from lendflow.loans.applications import withdraw as withdraw_loan

    with acting(user) as (ws, actor):
        result = withdraw_loan(ws, actor, loan_id, business_date(on), note)
    _done(result, json_output, f"loan {loan_id} withdrawn")


@app.command("disburse")
def disburse(
    loan_id: LoanId,
    idempotency_key: KeyOption = None,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Pay out an approved loan through the payment gateway and activate it."""
    from lendflow.loans.disbursement import disburse as disburse_loan

    with acting(user) as (ws, actor):
        result = disburse_loan(ws, actor, loan_id, business_date(on), idempotency_key)
    apr = "—" if result.apr is None else result.apr.compound
    _done(
        result,
        json_output,
        f"loan {loan_id} disbursed: {format_fen(result.principal)}, APR {apr}%",
    )


@app.command("repay")
def repay(
    loan_id: LoanId,
    amount: Annotated[
        int,
        typer.Option(
            help="Amount received, in yuan.", parser=parse_money("--amount", AmountKind.REPAYMENT)
        ),
    ],
    idempotency_key: KeyOption = None,
    on: OnOption = None,
    backdated: Annotated[
        bool,
        typer.Option(
            "--backdated",
            help="Money that arrived on a closed day (--on): reprocess the loan from it.",
        ),
    ] = False,
    reference: Annotated[
        str | None,
        typer.Option(
            "--reference",
            help="The payer's own reference (a bank serial number), kept with the payment.",
            parser=parse_reference("--reference"),
        ),
    ] = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Post a repayment on the loan's open business date; it is allocated by the product's
    waterfall. With --backdated, money that arrived on a closed day reprocesses the loan."""
    from lendflow.loans.repayments import repay as repay_loan
    from lendflow.loans.repayments import repay_backdated

    if backdated and not on:
        raise BadInput("--backdated needs --on: the day the money arrived")
    post = repay_backdated if backdated else repay_loan
    with acting(user) as (ws, actor):
        result = post(ws, actor, loan_id, amount, business_date(on), idempotency_key, reference)
    credit = result.credit_balance
    _done(
        result,
        json_output,
        f"loan {loan_id} is {result.status}; outstanding {format_fen(result.outstanding.total)}"
        + (f", credit balance {format_fen(credit)}" if credit else ""),
    )


@app.command("prepay")
def prepay(
    loan_id: LoanId,
    amount: Annotated[
        int,
        typer.Option(
            help="Principal returned early, in yuan.",
            parser=parse_money("--amount", AmountKind.REPAYMENT),
        ),
    ],
    idempotency_key: KeyOption = None,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Take principal back early and recalculate the rest of the schedule by the
    product's prepayment setting (reduce_instalment or reduce_term); a contract
    supplement is issued. Money posted with `loan repay` only pays instalments ahead."""
    from lendflow.loans.prepayments import prepay as prepay_loan

    with acting(user) as (ws, actor):
        result = prepay_loan(ws, actor, loan_id, amount, business_date(on), idempotency_key)
    got = result.prepayment
    _done(
        result,
        json_output,
        f"loan {loan_id}: {format_fen(got.amount)} prepaid ({got.method}); instalment"
        f" {format_fen(got.instalment_before)} -> {format_fen(got.instalment_after)}, interest"
        f" {format_fen(got.interest_saved)} less, last due {got.maturity_on};"
        f" schedule version {got.schedule_version}",
    )


@app.command("schedule-versions")
def schedule_versions(
    loan_id: LoanId, user: AsOption = None, json_output: JsonOption = False
) -> None:
    """Every kept version of the loan's schedule (each prepayment that recalculated it)."""
    from lendflow.loans.prepayments import schedule_versions as versions_of

    with acting(user) as (ws, actor):
        found = versions_of(ws, actor, loan_id)
    if json_output:
        print_result(found)
        return
    if not found.versions:
        typer.echo(f"loan {loan_id}: its schedule was never recalculated")
    for version in found.versions:
        how = f" ({version.method}, {format_fen(version.amount)} prepaid)" if version.method else ""
        typer.echo(
            f"version {version.version} from {version.effective_on}: {version.reason}{how},"
            f" {len(version.instalments)} instalments, interest {format_fen(version.interest)}"
        )


@app.command("reverse-repayment")
def reverse_repayment(
    loan_id: LoanId,
    transaction: Annotated[
        str,
        typer.Option(
            "--transaction",
            help="The repayment's idempotency key.",
            parser=parse_key("--transaction"),
        ),
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why it is taken back.", parser=parse_note("--reason"))
    ],
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Ask for a repayment to be reversed; another person approves it (approve-reversal)."""
    from lendflow.loans.reversals import ask_reversal

    with acting(user) as (ws, actor):
        result = ask_reversal(ws, actor, loan_id, transaction, reason, business_date(on))
    _done(
        result,
        json_output,
        f"reversal {result.id} of {result.reference} ({format_fen(result.amount)} on"
        f" {result.value_date}) waits for another person: `loan approve-reversal {result.id}`",
    )


@app.command("approve-reversal")
def approve_reversal(
    reversal_id: Annotated[
        int, typer.Argument(help="Reversal id.", parser=parse_id("reversal id"))
    ],
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Approve a repayment reversal someone else asked for; the loan is reprocessed."""
    from lendflow.loans.reversals import approve_reversal as approve

    with acting(user) as (ws, actor):
        result = approve(ws, actor, reversal_id, business_date(on))
    _done(result, json_output, f"repayment {result.reference} on loan {result.loan_id} reversed")


ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why, for the record.", parser=parse_note("--reason"))
]


def _asked(result: LoanRequestView, json_output: bool, what: str) -> None:
    _done(
        result,
        json_output,
        f"request {result.id}: {what} on loan {result.loan_id} waits for another person:"
        f" `loan approve-request {result.id}`",
    )


@app.command("waive")
def waive(
    loan_id: LoanId,
    reason: ReasonOption,
    penalty: Annotated[
        int | None,
        typer.Option(
            "--penalty",
            help="Penalty interest to waive, in yuan.",
            parser=parse_money("--penalty", AmountKind.FEE),
        ),
    ] = None,
    fees: Annotated[
        int | None,
        typer.Option(
            "--fees", help="Fees to waive, in yuan.", parser=parse_money("--fees", AmountKind.FEE)
        ),
    ] = None,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Ask to waive penalty or fees the borrower owes; another person approves it."""
    from lendflow.loans.loan_requests import ask_waiver

    if (penalty is None) == (fees is None):
        raise BadInput("give --penalty AMOUNT or --fees AMOUNT (one of them)")
    component, amount = ("penalty", penalty) if penalty is not None else ("fees", fees)
    assert amount is not None
    with acting(user) as (ws, actor):
        result = ask_waiver(ws, actor, loan_id, component, amount, reason, business_date(on))
    _asked(result, json_output, f"waiving {format_fen(amount)} of {component}")


@app.command("accelerate")
def accelerate(
    loan_id: LoanId,
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why, for the record.", parser=parse_note("--reason")),
    ] = "declared due after the product's days past due",
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Ask to declare the whole loan due (after the product's days past due, 90 by
    default); another person approves it, and the borrower is sent a notice."""
    from lendflow.loans.loan_requests import ask_acceleration

    with acting(user) as (ws, actor):
        result = ask_acceleration(ws, actor, loan_id, reason, business_date(on))
    _asked(result, json_output, "declaring the whole loan due")


@app.command("restructure")
def restructure(
    loan_id: LoanId,
    term: Annotated[
        int,
        typer.Option("--term", help="Repayments of the new schedule.", min=1, max=MAX_REPAYMENTS),
    ],
    rate: Annotated[
        str | None,
        typer.Option(
            "--rate",
            help="Nominal annual rate in percent (default: the loan's), within the product's band.",
            parser=parse_code("--rate"),
        ),
    ] = None,
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why, for the record.", parser=parse_note("--reason")),
    ] = "repayment plan agreed with the borrower",
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Ask for a new schedule for everything the loan owes; another person approves it."""
    from lendflow.domain.money import parse_decimal
    from lendflow.loans.loan_requests import ask_restructure

    annual_rate = None if rate is None else parse_decimal(rate, field="--rate")
    with acting(user) as (ws, actor):
        result = ask_restructure(ws, actor, loan_id, term, annual_rate, reason, business_date(on))
    _asked(result, json_output, f"a new schedule of {term} repayments")


@app.command("approve-request")
def approve_request(
    request_id: Annotated[
        int, typer.Argument(help="Loan request id.", parser=parse_id("request id"))
    ],
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Approve a waiver, acceleration or restructure someone else asked for; it is booked
    on the loan's open business date."""
    from lendflow.loans.loan_requests import approve_request as approve

    with acting(user) as (ws, actor):
        result = approve(ws, actor, request_id, business_date(on))
    done = {
        "waive": "waived",
        "accelerate": "declared due",
        "restructure": "restructured",
    }[result.kind]
    loan = result.loan
    owed = "" if loan is None else f"; outstanding {format_fen(loan.outstanding.total)}"
    _done(result, json_output, f"loan {result.loan_id} {done} (request {result.id}){owed}")


@app.command("decline-request")
def decline_request(
    request_id: Annotated[
        int, typer.Argument(help="Loan request id.", parser=parse_id("request id"))
    ],
    reason: ReasonOption,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Decline a waiver, acceleration or restructure someone else asked for, saying why;
    nothing moves, and it can never be approved after."""
    from lendflow.loans.loan_requests import decline_request as decline

    with acting(user) as (ws, actor):
        result = decline(ws, actor, request_id, reason, business_date(on))
    _done(
        result,
        json_output,
        f"request {result.id} ({result.kind} on loan {result.loan_id}) declined:"
        f" {result.declined_because}",
    )


@app.command("requests")
def requests(loan_id: LoanId, user: AsOption = None, json_output: JsonOption = False) -> None:
    """The waivers, accelerations and restructures asked on the loan, oldest first."""
    from lendflow.loans.loan_requests import list_requests

    with acting(user) as (ws, actor):
        result = list_requests(ws, actor, loan_id)
    if json_output:
        print_result(result)
        return
    for item in result.items:
        decided = f" by {item.decided_by} on {item.decided_on}" if item.decided_by else ""
        typer.echo(
            f"{item.id}  {item.kind:<11} {item.status:<8} asked by {item.asked_by} on"
            f" {item.asked_on}{decided}: {item.reason}"
        )


@app.command("refund")
def refund(
    loan_id: LoanId,
    amount: Annotated[
        int,
        typer.Option(
            help="Amount to pay back, in yuan.",
            parser=parse_money("--amount", AmountKind.REPAYMENT),
        ),
    ],
    reference: Annotated[
        str,
        typer.Option(
            "--reference",
            help="The refund's own reference: the same reference again pays once.",
            parser=parse_reference("--reference"),
        ),
    ],
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Pay the borrower's credit balance back through the payment gateway."""
    from lendflow.loans.refunds import refund as refund_credit

    with acting(user) as (ws, actor):
        result = refund_credit(ws, actor, loan_id, amount, reference, business_date(on))
    again = " (already paid: nothing moved)" if result.replayed else ""
    _done(
        result,
        json_output,
        f"refunded {format_fen(result.refund.amount)} on loan {loan_id}{again}; credit balance"
        f" {format_fen(result.credit_balance)}",
    )


@app.command("quote")
def quote(
    loan_id: LoanId, on: OnOption = None, user: AsOption = None, json_output: JsonOption = False
) -> None:
    """What it takes to settle the loan on the business date."""
    from lendflow.loans.repayments import quote as quote_loan

    with acting(user) as (ws, actor):
        quoted = quote_loan(ws, actor, loan_id, business_date(on))
    _done(
        quoted,
        json_output,
        f"payoff on {quoted.as_of}: {format_fen(quoted.total)} (principal"
        f" {format_fen(quoted.principal)}, interest {format_fen(quoted.interest)}, fees"
        f" {format_fen(quoted.fees)}, penalty {format_fen(quoted.penalty)})",
    )


@app.command("show")
def show(
    loan_id: LoanId, on: OnOption = None, user: AsOption = None, json_output: JsonOption = False
) -> None:
    """A loan's terms, status, balances and days past due."""
    from lendflow.loans.show import show as show_loan

    with acting(user) as (ws, actor):
        shown = show_loan(ws, actor, loan_id, business_date(on))
    if json_output:
        print_result(shown)
        return
    from lendflow.cli.tables import print_loan

    print_loan(shown)


@app.command("list")
def list_loans(
    state: Annotated[
        str | None, typer.Option(help="Only loans in this status.", parser=parse_code("--state"))
    ] = None,
    product: ProductOption = None,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1, max=10_000)] = 100,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Loans, oldest first."""
    from lendflow.loans.views import list_loans as list_views

    with acting(user) as (ws, actor):
        found = list_views(ws, actor, state=state, product=product, limit=limit)
    rows = [row.model_dump(mode="json") for row in found]
    if json_output:
        print_json(rows)
        return
    from lendflow.cli.tables import print_rows

    print_rows(
        "Loans",
        rows,
        ["id", "state", "product", "customer", "amount", "principal_outstanding", "dpd"],
    )


@app.command("schedule")
def schedule(loan_id: LoanId, user: AsOption = None, json_output: JsonOption = False) -> None:
    """The loan's repayment schedule and what has been paid of each instalment."""
    from lendflow.loans.views import schedule as loan_schedule

    with acting(user) as (ws, actor):
        scheduled = loan_schedule(ws, actor, loan_id)
    if json_output:
        print_result(scheduled)
        return
    from lendflow.cli.tables import print_loan_schedule

    print_loan_schedule(scheduled)


@app.command("events")
def loan_events(loan_id: LoanId, user: AsOption = None, json_output: JsonOption = False) -> None:
    """The loan's audit trail."""
    from lendflow.loans.views import loan_events as events_of

    with acting(user) as (ws, actor):
        rows = [event.model_dump(mode="json") for event in events_of(ws, actor, loan_id)]
    if json_output:
        print_json(rows)
        return
    from lendflow.cli.tables import print_rows

    print_rows(
        f"Events of loan {loan_id}", rows, ["id", "business_date", "name", "from", "to", "actor"]
    )
    console.print(f"{len(rows)} events", highlight=False)


@app.command("transactions")
def transactions(loan_id: LoanId, user: AsOption = None, json_output: JsonOption = False) -> None:
    """The loan's journal entries and their lines, oldest first, with what reversed them."""
    from lendflow.loans.views import loan_transactions

    with acting(user) as (ws, actor):
        page = loan_transactions(ws, actor, loan_id)
    if json_output:
        print_result(page)
        return
    from lendflow.cli.tables import print_loan_transactions

    print_loan_transactions(loan_id, page)
    console.print(f"{page.total} entries", highlight=False)
