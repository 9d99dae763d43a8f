"""Reporting a month's loans to the credit reference system (征信报送).

A licensed lender reports every loan's status once a month. `report_month` makes one
record per reportable loan for a month that close of business has closed, from the
loan's own history (`domain.credit_reporting`), hands the month to the credit reference
system's port (`workspace.credit_bureau`: a file, or the HTTP API's answer) and keeps
what each record said, so a month run again after its history changed (a backdated
repayment, a reversed one) sends a correction record for each loan whose figures
changed, and the same figures as before otherwise: the same book writes the same bytes.

A loan is reportable for a month when it was paid out by the month's last day, was not
closed or written off before the month began, and its borrower's `credit_reporting`
consent was given by the month's end and not withdrawn by then. The borrower is named
by a pseudonymous, stable reference (`borrower_reference`), never by name or ID number.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.business_date import check_horizon
from lendflow.domain.credit_reporting import (
    AccountDates,
    BureauRecord,
    DelinquencyRules,
    DueDates,
    Month,
    Movement,
    ScheduledInstalment,
    month_figures,
    parse_month,
    revision_for,
    status_string,
    written_off_on,
)
from lendflow.domain.errors import Refused
from lendflow.loans.results import CreditReportResult
from lendflow.products.catalogue import spec_for
from lendflow.rendering.product_views import contract_number
from lendflow.store import credit_reports as store
from lendflow.store.uow import UnitOfWork, run_in_transaction
from lendflow.workspace.credit_bureau import BureauReport, CreditBureau

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


def borrower_reference(customer_id: int) -> str:
    """The borrower as the credit report names them: the lender's customer number.

    Pseudonymous (only the lender's register links it to a person) and stable (a key
    rotation re-seals and re-hashes personal data but never renumbers a customer), so
    every loan of one borrower carries the same reference in every month.
    """
    return f"LF-B-{customer_id:08d}"


def report_month(
    ws: Workspace, actor: Actor, month: str | Month, as_of: date, bureau: CreditBureau
) -> CreditReportResult:
    """Send `month`'s records through `bureau`, in one transaction with the record of them.

    Refused for a month not over on `as_of`, or one close of business has not closed to
    its last day for every live loan: its figures could still change overnight. The
    records are handed over before the commit, so a month is kept as reported only once
    the bureau has it (a failed commit leaves records that a new run sends again alike).
    """
    actor.require(Permission.REPORT_CREDIT, "report to the credit reference system")
    wanted = month if isinstance(month, Month) else parse_month(month)
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)
    last = wanted.last
    if last >= as_of:
        raise Refused(f"month {wanted} is not over on {as_of}: report it once it has closed")

    def use_case(uow: UnitOfWork) -> CreditReportResult:
        _check_closed(uow, wanted)
        records, news = _records(uow, wanted)
        store.add_all(
            uow,
            (
                {
                    "month": str(wanted),
                    "loan_id": loan_id,
                    "revision": record.revision,
                    "figures": figures,
                    "figures_sha256": record.digest(),
                    "reported_on": as_of,
                    "reported_by": actor.name,
                }
                for loan_id, record, figures in news
            ),
        )
        delivery = bureau.submit(BureauReport(str(wanted), last, tuple(records)))
        corrections = sum(1 for r in records if r.is_correction)
        return CreditReportResult(
            month=str(wanted),
            as_at=last,
            records=len(records),
            corrections=corrections,
            first_reported=sum(1 for _, r, _ in news if not r.is_correction),
            outstanding=sum(r.outstanding for r in records),
            destination=delivery.destination,
            sha256=delivery.sha256,
            size=delivery.size,
        )

    return run_in_transaction(ws.engine, use_case)


def _check_closed(uow: UnitOfWork, month: Month) -> None:
    """Every loan live and paid out by the month's end must be closed through its last day.

    Per loan, not by the latest run (`close_of_business.sweep.last_closed` reads the run
    records, and a run closes one id range): a loan left behind would be reported with
    days it has not lived yet.
    """
    behind, first_id, through = store.not_closed_through(uow, month.last)
    if behind:
        closed = f"only through {through}" if through is not None else "on no day yet"
        raise Refused(
            f"month {month} is not closed: close of business has closed loan {first_id}"
            f" {closed} ({behind} live loan{'s' if behind != 1 else ''} behind);"
            f" close {month.last} first"
        )


def _records(
    uow: UnitOfWork, month: Month
) -> tuple[list[BureauRecord], list[tuple[int, BureauRecord, str]]]:
    """Every reportable loan's record for the month in loan order, and those that are news
    (first reported, or corrected): (loan id, record, figures as canonical JSON)."""
    first, last = month.first, month.last
    records: list[BureauRecord] = []
    news: list[tuple[int, BureauRecord, str]] = []
    for chunk in store.reportable_chunks(uow, first, last):
        ids = [loan["id"] for loan in chunk]
        schedules = store.instalments_of(uow, ids)
        journal = store.movements_of(uow, ids, last)
        reported = store.last_reported(uow, str(month), ids)
        for loan in chunk:
            movements = [Movement(*line) for line in journal.get(loan["id"], [])]
            ended = written_off_on(movements)
            if ended is not None and ended < first:
                continue  # written off before the month: its last record was that month's
            record = _record(uow, loan, schedules.get(loan["id"], []), movements, ended, month)
            revision, is_news = revision_for(reported.get(loan["id"]), record.digest())
            record = replace(record, revision=revision)
            records.append(record)
            if is_news:
                news.append((loan["id"], record, record.canonical()))
    return records, news


def _record(
    uow: UnitOfWork,
    loan: dict[str, Any],
    rows: list[dict[str, Any]],
    movements: list[Movement],
    written_off: date | None,
    month: Month,
) -> BureauRecord:
    account = AccountDates(
        opened_on=loan["disbursed_on"],
        instalments=tuple(DueDates(r["due_date"], r["paid_on"]) for r in rows),
        closed_on=loan["closed_on"],
        written_off_on=written_off,
    )
    scheduled = [
        ScheduledInstalment(
            due_date=r["due_date"],
            principal=r["principal"],
            interest=r["interest"],
            fee=r["fee"],
            waived=r["interest_waived"] + r["fee_waived"],
            paid_on=r["paid_on"],
        )
        for r in rows
    ]
    rules = spec_for(uow, loan).delinquency
    figures = month_figures(
        scheduled,
        movements,
        month,
        DelinquencyRules(
            rules.grace_days,
            rules.arrears_tolerance,
            tuple(rules.levels),
            rules.upgrade.rule(),
        ),
        closed_on=loan["closed_on"],
    )
    return BureauRecord(
        account=contract_number(loan["id"]),
        borrower=borrower_reference(loan["customer_id"]),
        opened_on=loan["disbursed_on"],
        amount=loan["principal"],
        term=loan["term"],
        method=loan["method"],
        due=figures.due,
        paid=figures.paid,
        outstanding=figures.outstanding,
        overdue_amount=figures.overdue_amount,
        overdue_days=figures.overdue_days,
        status=status_string(account, month),
        class_level=figures.class_level,
    )
