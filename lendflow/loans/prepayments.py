"""Partial prepayments: principal returned early, with the interest recalculated.

How the borrower says it. Money posted with `loan repay` (or a repayment file, or the
API's repayments) is always an ordinary repayment: what is due first, then the next
instalments in advance, as scheduled, whatever the product says. A prepayment is asked
for explicitly (`loan prepay ID --amount`, `POST /api/v1/loans/{id}/prepayments`): the
whole amount goes to principal on the loan's open business date, and the product's
`prepayment` setting recalculates the rest of the schedule (`domain.recalculation`):
`reduce_instalment` re-amortises it over the instalments left, `reduce_term` keeps the
instalment and drops the last ones. A product on `none` refuses it, and so does a loan
with anything due and unpaid (pay it first), money paid ahead on instalments not yet due
(the recalculation starts from an unpaid schedule), an amount that reaches the payoff
(settle with `loan repay`), or an accelerated or restructured loan.

One transaction: the schedule before and after kept as versions (`schedule_versions`),
the instalments rewritten (fewer under `reduce_term`), the entry `prepayment` (Dr cash,
Cr loan principal; idempotent by key), the borrower's contract supplement sealed with its
SHA-256, and the event `InterestRecalculated`. Interest not yet due is not on the books
(it becomes receivable when its instalment falls due), so lowering it moves no income.
A loan with a prepayment is not reprocessed: a backdated or reversed repayment is refused
(`domain.loan_actions.ACTION_ENTRY_KINDS`), since its schedule depends on the day.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.accrual import expected_accrued, running_columns
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.ledger import Account, EntryDraft, Line, balance_changes
from lendflow.domain.loan import Loan
from lendflow.domain.money import format_fen
from lendflow.domain.recalculation import PrepaymentMethod, recalculate
from lendflow.domain.repayment import InstalmentState
from lendflow.domain.schedule import generate
from lendflow.domain.statuses import LoanStatus
from lendflow.loans.records import contract_terms, loan_event
from lendflow.loans.repayments import check_not_backdated, post_loan_lines
from lendflow.loans.results import (
    PrepaymentResult,
    Recalculated,
    ScheduleVersionRow,
    ScheduleVersions,
    ScheduleVersionView,
)
from lendflow.loans.views import loan_view, replay_of, storable
from lendflow.products.catalogue import spec_for
from lendflow.store import idempotency
from lendflow.store import loans as loan_store
from lendflow.store import schedule_versions as versions
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.config.product_spec import ProductSpec
    from lendflow.workspace.context import Workspace

OPERATION = "prepay"
ENTRY_KIND = "prepayment"


def prepay(
    ws: Workspace,
    actor: Actor,
    loan_id: int,
    amount: int,
    as_of: date,
    idempotency_key: str | None = None,
) -> PrepaymentResult:
    """Take `amount` as principal returned early on the loan's open business date and
    recalculate the rest of its schedule by the product's `prepayment` setting. A replay
    of the same key returns the first answer and moves no money."""
    actor.require(Permission.REPAY, "post repayments")
    if amount <= 0:
        raise BadInput("a prepayment must be more than zero")
    key = idempotency_key or f"prepay-{secrets.token_hex(8)}"
    request = {"loan_id": loan_id, "amount": amount, "as_of": as_of.isoformat()}

    def use_case(uow: UnitOfWork) -> PrepaymentResult:
        loan = loan_store.get(uow, loan_id, for_update=True)
        stored = idempotency.replay(uow, key, OPERATION, request)
        if stored is not None:
            return replay_of(ws, uow, stored, actor, PrepaymentResult)
        spec = spec_for(uow, loan)
        _check_prepayable(loan, spec)
        check_not_backdated(ws, uow, loan, as_of)
        rows = loan_store.instalments(uow, loan_id)
        aggregate = Loan.from_rows(loan, rows)
        charges = aggregate.recognise_due(as_of)
        _check_nothing_owed(aggregate, as_of)
        method = spec.prepayment
        terms = contract_terms(spec, loan)
        scheduled = {i.n: i.due_date for i in generate(terms).instalments}
        # the schedule's own dates (before any working-day move), as the audit rebuilds it
        current = [
            (r["n"], scheduled.get(r["n"], r["due_date"]), r["principal"], r["interest"], r["fee"])
            for r in rows
        ]
        done = recalculate(current, as_of, amount, method, terms, loan["disbursed_on"])
        stored_due = {r["n"]: r["due_date"] for r in rows}
        new_rows = [(n, stored_due[n], p, i, f) for n, _, p, i, f in done.rows]
        kept = versions.for_loan(uow, loan_id)
        if not kept:
            old_rows = [
                (r["n"], r["due_date"], r["principal"], r["interest"], r["fee"]) for r in rows
            ]
            versions.add(uow, loan_id, 1, loan["disbursed_on"], "payout", old_rows)
        version = (kept[-1]["version"] if kept else 1) + 1
        versions.add(
            uow, loan_id, version, as_of, "prepayment", new_rows, method=method.value, amount=amount
        )
        for instalment_id, values in aggregate.changed_instalments().items():
            loan_store.update_instalment(uow, instalment_id, values)
        by_n = {r["n"]: r for r in rows}
        for n, _, principal, interest, _ in done.rows:
            row = by_n[n]
            if (row["principal"], row["interest"]) != (principal, interest):
                loan_store.update_instalment(
                    uow, row["id"], {"principal": principal, "interest": interest}
                )
        loan_store.delete_instalments(uow, loan_id, list(done.dropped))
        if charges:
            post_loan_lines(uow, loan, "charges_due", charges, as_of, actor)
        lines = EntryDraft(ENTRY_KIND).debit(Account.CASH, amount)
        lines = lines.credit(Account.LOAN_PRINCIPAL, amount).lines()
        post_loan_lines(uow, loan, ENTRY_KIND, lines, as_of, actor, f"{OPERATION}:{key}", key)
        accrual, true_up = _trued_accrual(loan, loan_store.instalments(uow, loan_id))
        if true_up:
            post_loan_lines(uow, loan, "accrual_true_up", true_up, as_of, actor)
        moved: dict[str, int] = {}
        for entry in (charges, lines, true_up):
            for column, delta in balance_changes(entry).items():
                moved[column] = moved.get(column, 0) + delta
        maturity = max(r[1] for r in new_rows)
        updated = loan_store.save(
            uow,
            loan,
            {
                **{c: loan[c] + d for c, d in moved.items() if d},
                **accrual,
                "maturity_on": maturity,
            },
        )
        figures = {
            "version": version,
            "method": method.value,
            "amount": amount,
            "principal_before": done.balance_before,
            "principal_after": done.balance_after,
            "instalment_before": done.level_before,
            "instalment_after": done.level_after,
            "interest_before": done.interest_before,
            "interest_after": done.interest_after,
            "interest_saved": done.interest_saved,
            "maturity_before": max(r["due_date"] for r in rows),
            "maturity_after": maturity,
        }
        from lendflow.documents.issuing import issue_contract_supplement

        supplement = issue_contract_supplement(ws, uow, updated, actor, as_of, figures, new_rows)
        loan_event(
            uow,
            updated,
            "InterestRecalculated",
            actor,
            as_of,
            {
                **{k: v for k, v in figures.items() if not isinstance(v, date)},
                "maturity_on": maturity.isoformat(),
                "instalments_dropped": list(done.dropped),
                "supplement_sha256": supplement["sha256"],
                "idempotency_key": key,
            },
        )
        result = loan_view(
            ws,
            uow,
            updated,
            actor,
            as_of,
            loan_store.instalments(uow, loan_id),
            result=PrepaymentResult,
            prepayment=Recalculated(
                amount=amount,
                method=method.value,
                schedule_version=version,
                principal_before=done.balance_before,
                principal_after=done.balance_after,
                instalment_before=done.level_before,
                instalment_after=done.level_after,
                interest_before=done.interest_before,
                interest_after=done.interest_after,
                interest_saved=done.interest_saved,
                instalments_dropped=list(done.dropped),
                maturity_on=maturity,
                supplement_sha256=supplement["sha256"],
                idempotency_key=key,
            ),
        )
        idempotency.remember(uow, key, OPERATION, request, storable(result), loan_id)
        return result

    return run_in_transaction(ws.engine, use_case)


def schedule_versions(ws: Workspace, actor: Actor, loan_id: int) -> ScheduleVersions:
    """Every kept version of the loan's schedule, oldest first (none before its first
    recalculation: then the schedule is the one `loan schedule` shows)."""
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> ScheduleVersions:
        loan_store.get(uow, loan_id)
        return ScheduleVersions(
            loan_id=loan_id,
            versions=[
                ScheduleVersionView(
                    version=v["version"],
                    effective_on=v["effective_on"],
                    reason=v["reason"],
                    method=v["method"],
                    amount=v["amount"],
                    interest=v["interest"],
                    instalments=[
                        ScheduleVersionRow(
                            n=n, due_date=due, principal=principal, interest=interest, fee=fee
                        )
                        for n, due, principal, interest, fee in v["rows"]
                    ],
                )
                for v in versions.for_loan(uow, loan_id)
            ],
        )

    return run_in_transaction(ws.engine, use_case)


def _check_prepayable(loan: dict[str, Any], spec: ProductSpec) -> None:
    if spec.prepayment is PrepaymentMethod.NONE:
        raise Refused(
            f"refused by rule PREPAYMENT: {spec.code} does not recalculate interest on a"
            " prepayment; post the money with loan repay (it pays the next instalments in"
            " advance)"
        )
    if loan["state"] != LoanStatus.ACTIVE.value:
        raise Refused(
            f"loan {loan['id']} is {loan['state']}; a prepayment needs an active loan with"
            " nothing due unpaid"
        )
    if loan.get("accelerated_on") or loan.get("restructured_on"):
        raise Refused(
            f"loan {loan['id']} was accelerated or restructured; its schedule is not"
            " recalculated on a prepayment (post the money with loan repay)"
        )


def _check_nothing_owed(loan: Loan, as_of: date) -> None:
    due = sum(s.owed().total for s in loan.states() if s.due_date <= as_of)
    if due:
        raise Refused(
            f"loan {loan.id} has {format_fen(due)} due and unpaid on {as_of}; post it with"
            " loan repay before a prepayment"
        )
    ahead = sum(
        s.principal_paid + s.interest_paid + s.fee_paid for s in loan.states() if s.due_date > as_of
    )
    if ahead:
        raise Refused(
            f"loan {loan.id} has {format_fen(ahead)} paid ahead on instalments not yet due;"
            " a prepayment recalculates an unpaid schedule only"
        )


def _trued_accrual(
    loan: dict[str, Any], rows: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[Line]]:
    """The running period as recalculated, and the entry that brings the interest accrued
    so far to what the new schedule earned by the last closed day (less, after a
    prepayment): against income, or suspense for a loan in non-accrual."""
    states = [InstalmentState.from_row(r) for r in rows]
    started = loan["disbursed_on"]
    columns = running_columns(states, started)
    through = loan["cob_through"]
    if through is None or through < started:
        return {**columns, "interest_accrued": loan["interest_accrued"]}, []
    trued = expected_accrued(states, started, through)
    change = trued - loan["interest_accrued"]
    income = (
        Account.INTEREST_INCOME
        if loan["non_accrual_since"] is None
        else (Account.INTEREST_SUSPENSE)
    )
    draft = EntryDraft("accrual_true_up")
    if change > 0:
        draft = draft.debit(Account.INTEREST_ACCRUED, change).credit(income, change)
    elif change < 0:
        draft = draft.debit(income, -change).credit(Account.INTEREST_ACCRUED, -change)
    return {**columns, "interest_accrued": trued}, draft.lines() if change else []
