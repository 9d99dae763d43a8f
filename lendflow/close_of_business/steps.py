"""The business steps of close of business, each over one chunk on one business date.

Only loans with something to do are read into Python: instalments falling due,
arrears, and loans overdue before today. Each step records what it decides on the
day's working set (`cob_day.Day`); instalments and the journal are written by the
step, loan rows once for the day after the last step.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lendflow.close_of_business.borrowers import borrower_classes
from lendflow.close_of_business.day import Day, Item, LoanDay, set_checked
from lendflow.config.product_spec import ProductSpec
from lendflow.domain.accrual import NO_TERMS, Terms, reaches_non_accrual
from lendflow.domain.business_days import NonWorkingDue
from lendflow.domain.calendar import year_length
from lendflow.domain.classification import UpgradeRule, grade, on_time_days
from lendflow.domain.delinquency import (
    bucket_for,
    daily_penalty,
    days_late,
    effective_dpd,
    move_for,
)
from lendflow.domain.errors import Conflict
from lendflow.domain.ledger import Account
from lendflow.domain.loan import charges_falling_due
from lendflow.domain.provisions import LoanProvision, allowance_used, is_month_end
from lendflow.domain.statuses import LoanStatus
from lendflow.states.machine import machine
from lendflow.store import cob_queries as q
from lendflow.store.cob_ledger import LedgerLine

if TYPE_CHECKING:
    from lendflow.config.policy import Policy

MOVES = {
    # trigger: (event, count)
    "fall_overdue": ("LoanFellOverdue", "became_overdue"),
    "cure": ("LoanCured", "cured"),
    "write_off": ("LoanWrittenOff", "written_off"),
}


def expire_approvals(day: Day) -> None:
    """Approvals not taken up within the product's validity lapse (few a day: row by row)."""
    loan_machine = machine("loan")
    for loan_id, version, customer_id, expires in q.expiring_approvals(day.uow, day.params):
        move = loan_machine.fire(
            LoanStatus.APPROVED.value,
            "expire",
            {"as_of": day.d, "approval_expires_on": expires},
            label=f"loan {loan_id}",
        )
        set_checked(
            day.uow,
            [
                {
                    "b_id": loan_id,
                    "b_version": version,
                    "state": move.dest,
                    "version": version + 1,
                    "updated_at": q.utc_now(),
                }
            ],
        )
        day.event(
            loan_id,
            customer_id,
            "LoanExpired",
            "expire",
            LoanStatus.APPROVED.value,
            move.dest,
            expired_on=expires,
        )
        day.counts["approvals_expired"] += 1


def accrue_interest(day: Day) -> None:
    """The day's contract interest of every live loan, set-based: one sum over the range's
    loan rows (what each running period has earned by today less what is accrued of it)
    posted as one entry naming no loan; the watermark's statement then moves each loan's
    accrued interest to today (`cob_queries.WATERMARK_ACCRUING`). Loans in non-accrual
    (few, through their own index) accrue to suspense instead, loan by loan.
    """
    day.accrued = True
    total, day.following = q.accrual_due(day.uow, day.params)
    if total:
        day.post(
            kind="accrual",
            lines=[
                (None, Account.INTEREST_ACCRUED, max(total, 0), max(-total, 0)),
                (None, Account.INTEREST_INCOME, max(-total, 0), max(total, 0)),
            ],
        )
        day.counts["interest_accrued"] += total
    lines: list[LedgerLine] = []
    for amount, *row in q.fetch(day.uow, q.ACCRUAL_SUSPENDED, day.params):
        if not amount:
            continue
        loan_id = row[0]
        loan = day.loans.get(loan_id)
        if loan is None:
            # only the suspense moves: the rest of the row is written as read
            loan = day.loans[loan_id] = LoanDay.of_charged(tuple(row))
        loan.add_interest_suspended += amount
        lines.append((loan_id, Account.INTEREST_ACCRUED, max(amount, 0), max(-amount, 0)))
        lines.append((loan_id, Account.INTEREST_SUSPENSE, max(-amount, 0), max(amount, 0)))
        day.counts["interest_suspended"] += amount
    day.post(kind="accrual_suspended", lines=lines)


def _next_terms(row: tuple[Any, ...]) -> dict[str, int | None]:
    """The running period after an instalment falls due: the next one's, from its due
    date (a recognised or missing next one: nothing runs)."""
    due, next_due, next_interest, next_waived, next_recognised = row[10:15]
    if next_due is None or next_recognised:
        return dict(NO_TERMS)
    begin = q.as_date(due)
    return Terms(
        begin.toordinal(), (q.as_date(next_due) - begin).days, next_interest, next_waived
    ).columns()


def recognise_due(day: Day) -> None:
    """Interest and fees of instalments falling due become receivable, once each.

    The interest leaves accrual (Cr interest_accrued: the accrual brought it to the whole
    period's by its due date), the loan's next period starts accruing, a periodic fee is
    income as its period ends and the instalment's share of an upfront fee is released
    from deferred fee income."""
    rows = q.fetch(day.uow, q.FALLING_DUE_TODAY, day.params)
    earlier = q.fetch(day.uow, q.FELL_DUE_EARLIER, day.params)
    if earlier:
        held = q.fetch_by_ids(
            day.uow, q.LOANS_TO_CHARGE, sorted({r[1] for r in earlier}), day.params
        )
        by_id = {r[0]: r for r in held}
        rows += [(*r, *by_id[r[1]]) for r in earlier if r[1] in by_id]
    if not rows:
        return
    loans = day.loans
    # a loan written off by an earlier step today takes no more charges
    rows = [r for r in rows if r[1] not in loans or loans[r[1]].live]
    # each row: instalment id, loan id, the six columns of CHARGE_COLUMNS, its upfront
    # share, number and due date, the next instalment's (due date, interest, waived,
    # recognised), then the loan's own; the loan's last instalment today sets its terms
    last_n: dict[int, int] = {}
    released: dict[int, int] = defaultdict(int)
    for row in rows:
        _, loan_id, i, i_paid, i_waived, f, f_paid, f_waived, share, n = row[:10]
        loan = loans.get(loan_id)
        if loan is None:
            loan = loans[loan_id] = LoanDay.of_charged(row[15:])
        interest, fee = charges_falling_due(i, i_paid, i_waived, f, f_paid, f_waived)
        loan.add_interest += interest
        loan.add_fee += fee
        released[loan_id] += share + f_paid  # the upfront share, and a fee paid ahead
        if loan.terms is not None:
            loan.taken_from_accrual += i - i_waived
            if n > last_n.get(loan_id, -1):
                last_n[loan_id] = n
                loan.new_terms = _next_terms(row)
    lines: list[LedgerLine] = []
    interest_total = fee_total = 0
    for loan in loans.values():
        if loan.add_interest:
            lines.append((loan.id, Account.INTEREST_RECEIVABLE, loan.add_interest, 0))
            interest_total += loan.add_interest
        if loan.add_fee:
            lines.append((loan.id, Account.FEE_RECEIVABLE, loan.add_fee, 0))
            fee_total += loan.add_fee
        if released.get(loan.id):
            lines.append((loan.id, Account.DEFERRED_FEE_INCOME, released[loan.id], 0))
            fee_total += released[loan.id]
    # interest paid ahead was credited to interest_accrued when it came (`Loan.repay`)
    lines += [(None, Account.INTEREST_ACCRUED, 0, interest_total)]
    lines += [(None, Account.FEE_INCOME, 0, fee_total)]
    day.post(kind="charges_due", lines=lines)
    q.execute_rows(day.uow, q.MARK_RECOGNISED, ("b_id",), [(r[0],) for r in rows])
    day.counts["instalments_fell_due"] += len(rows)


def _load_delinquent(day: Day) -> None:
    """Read in full the loans with arrears, or overdue before today, still to close."""
    items: dict[int, list[Item]] = defaultdict(list)
    for item in q.fetch(day.uow, q.ARREARS, day.params):
        items[item[1]].append(item)
    rows = q.fetch(day.uow, q.OVERDUE_BEFORE, day.params)
    seen = {r[0] for r in rows}
    for graded_nightly in (q.HELD, q.RESTRUCTURED):
        rows += [r for r in q.fetch(day.uow, graded_nightly, day.params) if r[0] not in seen]
        seen = {r[0] for r in rows}
    missing = sorted(loan_id for loan_id in items if loan_id not in seen)
    rows += q.fetch_by_ids(day.uow, q.LOANS_BY_IDS, missing, day.params)
    loans = day.loans
    for row in rows:
        loan_id = row[0]
        loan = loans.get(loan_id)
        if loan is None:
            loan = loans[loan_id] = LoanDay(loan_id, 0, 0, 0, 0)
        loan.read_in_full(row)
        loan.spec = day.spec(loan.product_version_id)
        loan.items = items.get(loan_id, [])


@dataclass(frozen=True)
class _Rules:
    """A product's delinquency rules, in the shapes the domain functions take."""

    tolerance: int
    grace: int
    write_off_dpd: int
    buckets: list[tuple[str, int | None]]
    classes: list[tuple[str, int]]
    upgrade: UpgradeRule
    holiday_grace: bool
    """A due date on a non-working day is not late before the next working day has passed
    (`move` and `keep_with_grace`; `ignore` counts it as it falls)."""

    @classmethod
    def of(cls, spec: ProductSpec) -> _Rules:
        rules = spec.delinquency
        return cls(
            rules.arrears_tolerance,
            rules.grace_days,
            rules.write_off_dpd,
            [(b.name, b.max_dpd) for b in rules.buckets],
            rules.levels,
            rules.upgrade.rule(),
            spec.schedule.non_working_due is not NonWorkingDue.IGNORE,
        )


def _on_time(day: Day) -> dict[int, list[tuple[date, date | None]]]:
    """The scheduled instalments of the loans held at their class, by loan."""
    held = sorted(loan.id for loan in day.judged() if loan.held_since is not None)
    found: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for loan_id, due, paid in q.fetch_by_ids(day.uow, q.HELD_INSTALMENTS, held, {}):
        found[loan_id].append((q.as_date(due), q.as_date(paid) if paid is not None else None))
    return found


def delinquency(day: Day) -> None:
    """Days past due, moves through the loan machine, bucket and class; write-offs."""
    _load_delinquent(day)
    loan_machine = machine("loan")
    table = loan_machine.table
    write_offs: list[LoanDay] = []
    rules: dict[int, _Rules] = {}
    held = _on_time(day)
    for loan in day.judged():
        found = rules.get(loan.product_version_id)
        if found is None:
            assert loan.spec is not None
            found = rules[loan.product_version_id] = _Rules.of(loan.spec)
        oldest = min((i[2] for i in loan.items), default=None)
        if found.holiday_grace and oldest is not None:
            grace = day.grace()  # one set per date: mostly empty (the day before was worked)
            if grace:
                # still in grace: not in arrears today, and no penalty on it (a later step)
                loan.items = [i for i in loan.items if i[2] not in grace]
                oldest = min((i[2] for i in loan.items), default=None)
            # late from the day after the due date's next working day
            late_from = day.on_time_until(oldest) if oldest is not None else None
        else:
            late_from = q.as_date(oldest) if oldest is not None else None
        loan.days_late = days_late(
            late_from,
            sum(i[3] + i[4] + i[5] + i[6] for i in loan.items),
            day.d,
            found.tolerance,
        )
        dpd = effective_dpd(loan.days_late, found.grace)
        state = loan.state
        trigger = move_for(state, dpd, found.write_off_dpd)
        if trigger and (state, trigger) not in table:  # pragma: no cover
            # the sweep moves loans only along the machine's own table
            raise Conflict(loan_machine.refusal(f"loan {loan.id}", state, trigger))
        loan.new_state = table[(state, trigger)] if trigger else state
        loan.new_dpd = dpd
        loan.new_bucket = bucket_for(dpd, found.buckets)
        since = loan.held_since
        seen = on_time_days(held.get(loan.id, ()), since, day.d, found.grace) if since else []
        assert loan.spec is not None
        floor = loan.spec.delinquency.upgrade.restructure(loan.restructured_on)
        graded = grade(
            found.classes, found.upgrade, loan.evidence_class, dpd, since, day.d, seen, floor
        )
        loan.new_classification, loan.new_held_since = graded.code, graded.held_since
        loan.new_own_classification, loan.reason, loan.trigger = None, graded.reason, trigger
    borrower_classes(day)
    for loan in day.judged():
        if _record_judgement(day, loan) and loan.trigger == "write_off":
            write_offs.append(loan)
    _write_off(day, write_offs)


def _record_judgement(day: Day, loan: LoanDay) -> bool:
    """The events of what the day decided for a judged loan; whether anything changed."""
    state, dpd = loan.state, loan.new_dpd
    if (
        loan.new_state,
        dpd,
        loan.new_bucket,
        loan.new_classification,
        loan.new_held_since,
        loan.new_own_classification,
    ) == (
        state,
        loan.dpd,
        loan.bucket,
        loan.classification,
        loan.held_since,
        loan.own_classification,
    ):
        return False
    loan.moved = True
    reclassified = loan.classification != loan.new_classification
    because = {"reason": loan.reason} if reclassified else {}
    trigger = loan.trigger
    if trigger:
        name, count = MOVES[trigger]
        day.event(
            loan.id,
            loan.customer_id,
            name,
            trigger,
            state,
            loan.new_state,
            dpd=dpd,
            bucket=loan.new_bucket,
            classification=loan.new_classification,
            **because,
        )
        day.counts[count] += 1
    elif reclassified:
        day.event(
            loan.id,
            loan.customer_id,
            "LoanReclassified",
            dpd=dpd,
            classification=loan.new_classification,
            previous=loan.classification,
            **because,
        )
        day.counts["reclassified"] += 1
    return True


def _write_off(day: Day, written: list[LoanDay]) -> None:
    """Take written-off balances off the books: principal, receivables and interest
    accrued, against the loan's own allowance first (what the month ends provided for it)
    and the rest to expense; what was held in suspense or deferred was never income, so it
    lessens the loss instead."""
    lines: list[LedgerLine] = []
    unearned = {
        r[0]: (int(r[1]), int(r[2]))
        for r in q.fetch_by_ids(day.uow, q.UNEARNED, sorted(loan.id for loan in written), {})
    }
    allowances = _allowances(day, [loan.id for loan in written])
    for loan in written:
        paid_ahead, deferred = unearned.get(loan.id, (0, 0))
        accrued = loan.accrued_after(day.d) - paid_ahead if loan.terms or loan.new_terms else 0
        parts = {
            Account.LOAN_PRINCIPAL: loan.principal,
            Account.INTEREST_RECEIVABLE: loan.interest + loan.add_interest,
            Account.FEE_RECEIVABLE: loan.fee + loan.add_fee,
            Account.PENALTY_RECEIVABLE: loan.penalty + loan.add_penalty,
            Account.INTEREST_ACCRUED: accrued,
        }
        held = {
            Account.INTEREST_SUSPENSE: loan.interest_suspended + loan.add_interest_suspended,
            Account.PENALTY_SUSPENSE: loan.penalty_suspended + loan.add_penalty_suspended,
            Account.DEFERRED_FEE_INCOME: deferred,
        }
        total = sum(parts.values()) - sum(held.values())
        if not any(parts.values()) and not any(held.values()):
            continue
        used = allowance_used(allowances.get(loan.id, 0), max(total, 0))
        if used:
            lines.append((loan.id, Account.LOAN_LOSS_ALLOWANCE, used, 0))
        lines.append((loan.id, Account.WRITE_OFF_EXPENSE, max(total - used, 0), max(-total, 0)))
        lines += [
            (loan.id, account, max(-amount, 0), max(amount, 0))
            for account, amount in parts.items()
            if amount
        ]
        lines += [(loan.id, account, amount, 0) for account, amount in held.items() if amount]
        loan.written_off = True
        loan.accrual_cleared = True
        day.counts["written_off_principal"] += loan.principal
    day.post(kind="write_off", lines=lines)


def non_accrual(day: Day) -> None:
    """A loan graded `policy.non_accrual.from_class` or worse stops accruing to income:
    the interest and penalty it owes on the books and has not paid (receivable, and
    interest accrued less interest paid ahead) go from income to suspense, and from
    tomorrow its accrual and penalty go to suspense too. A loan graded back above it
    accrues to income again; what is held stays held until the borrower pays it."""
    stop_from = day.policy.non_accrual.from_class
    entering: list[LoanDay] = []
    for loan in day.judged():
        if not loan.live:
            continue
        assert loan.spec is not None
        stops = reaches_non_accrual(
            loan.spec.delinquency.levels, loan.new_classification, stop_from
        )
        if stops and loan.non_accrual_since is None:
            entering.append(loan)
        elif not stops and loan.non_accrual_since is not None:
            loan.new_non_accrual = None
            loan.non_accrual_changed = True
            day.event(
                loan.id,
                loan.customer_id,
                "LoanAccrualResumed",
                classification=loan.new_classification,
            )
            day.counts["accrual_resumed"] += 1
    if not entering:
        return
    paid_ahead = {
        r[0]: int(r[1])
        for r in q.fetch_by_ids(day.uow, q.UNEARNED, sorted(loan.id for loan in entering), {})
    }
    lines: list[LedgerLine] = []
    for loan in entering:
        accrued = loan.accrued_after(day.d) - paid_ahead.get(loan.id, 0)
        interest = loan.interest + loan.add_interest + max(accrued, 0)
        penalty = loan.penalty + loan.add_penalty
        loan.new_non_accrual = day.d
        loan.non_accrual_changed = True
        loan.add_interest_suspended += interest
        loan.add_penalty_suspended += penalty
        lines += [
            (loan.id, Account.INTEREST_INCOME, interest, 0),
            (loan.id, Account.INTEREST_SUSPENSE, 0, interest),
            (loan.id, Account.PENALTY_INCOME, penalty, 0),
            (loan.id, Account.PENALTY_SUSPENSE, 0, penalty),
        ]
        day.event(
            loan.id,
            loan.customer_id,
            "LoanStoppedAccruing",
            classification=loan.new_classification,
            interest_suspended=interest,
            penalty_suspended=penalty,
        )
        day.counts["stopped_accruing"] += 1
        day.counts["income_reversed"] += interest + penalty
    day.post(kind="non_accrual", lines=lines)


def _allowances(day: Day, loan_ids: list[int]) -> dict[int, int]:
    """Each loan's allowance as its journal lines hold it (the day's earlier lines too)."""
    if not loan_ids:
        return {}
    return {
        loan_id: int(amount)
        for loan_id, amount in q.fetch_by_ids(day.uow, q.ALLOWANCE_OF, sorted(loan_ids), {})
    }


def provisions(day: Day) -> None:
    """At a month end, provide for each loan by its class and post the change in its
    allowance against the provision expense (`domain.provisions`).

    The range's live loans closed through the day before are provided for at their
    principal and class as the day left them (after the delinquency step); a loan that
    left the live book with an allowance (paid off, or written off with more provided
    than it lost, or recovered since) is released to nothing. A loan behind the range
    is provided for when its own month end is closed. Each provision is kept in
    `loan_provisions` for the report and the audit.
    """
    if not is_month_end(day.d):
        return
    rates = day.policy.provisions.domain()
    held = {
        loan_id: int(amount)
        for loan_id, amount in q.fetch(day.uow, q.ALLOWANCE_IN_RANGE, day.params)
    }
    provided: dict[int, LoanProvision] = {}
    for loan_id, klass, principal in q.fetch(day.uow, q.TO_PROVIDE, day.params):
        seen = day.loans.get(loan_id)
        if seen is not None and seen.judged:
            if not seen.live or seen.written_off:
                continue  # left the book today: released below
            klass = seen.new_classification
        provided[loan_id] = rates.of(int(principal), klass)
    left = sorted(loan_id for loan_id, amount in held.items() if amount and loan_id not in provided)
    released: dict[int, str] = {}
    for loan_id, state, klass in q.fetch_by_ids(day.uow, q.STATES_OF, left, {}):
        seen = day.loans.get(loan_id)
        gone = seen.new_state if seen is not None and seen.judged else state
        if gone not in q.LIVE:
            released[loan_id] = klass
    lines: list[LedgerLine] = []
    change = 0
    for loan_id, provision in provided.items():
        delta = provision.total - held.get(loan_id, 0)
        lines.append((loan_id, Account.LOAN_LOSS_ALLOWANCE, max(-delta, 0), max(delta, 0)))
        change += delta
    for loan_id in released:
        delta = -held[loan_id]
        lines.append((loan_id, Account.LOAN_LOSS_ALLOWANCE, max(-delta, 0), max(delta, 0)))
        change += delta
    lines.append((None, Account.PROVISION_EXPENSE, max(change, 0), max(-change, 0)))
    day.post(kind="provision", lines=lines)
    day.counts["provision_charged"] += change
    if day.quiet:
        return
    rows = [
        (day.d, loan_id, p.classification, p.principal, str(p.rate), p.specific, p.general)
        for loan_id, p in provided.items()
    ]
    rows += [(day.d, loan_id, klass, 0, "0", 0, 0) for loan_id, klass in released.items()]
    q.execute_rows(day.uow, q.UPSERT_PROVISION[day.uow.dialect], q.PROVISION_KEYS, rows)


def _penalty_rate(spec: ProductSpec, policy: Policy) -> Decimal | None:
    if spec.penalty is None:
        return None
    return min(spec.penalty.annual_rate, policy.overdue_charges_cap)


def penalty(day: Day) -> None:
    """Penalty interest for the day on each overdue instalment, posted once, and never
    more than the all-in charges cap leaves of it."""
    accrued: dict[int, list[tuple[int, int]]] = {}  # loan id: (instalment id, fen) each
    terms: dict[int, tuple[int, int, int, bool] | None] = {}  # by product version
    for loan in day.judged():
        if loan.new_state != LoanStatus.OVERDUE:
            continue
        if loan.product_version_id not in terms:
            assert loan.spec is not None
            terms[loan.product_version_id] = _penalty_terms(day, loan.spec)
        term = terms[loan.product_version_id]
        if term is None:
            continue
        num, den, days, with_interest = term
        bases = [(item[0], item[3] + (item[4] if with_interest else 0)) for item in loan.items]
        found = [
            (item_id, amount)
            for item_id, base in bases
            if (amount := daily_penalty(base, num, den, days))
        ]
        if found:
            accrued[loan.id] = found
    if not accrued:
        return
    _hold_to_charges_cap(day, accrued)
    per_item: list[tuple[int, int]] = []
    lines: list[LedgerLine] = []
    held: list[LedgerLine] = []  # of loans in non-accrual: to suspense, loan by loan
    total = 0
    for loan_id, found in accrued.items():
        added = sum(amount for _, amount in found)
        if not added:
            continue
        loan = day.loans[loan_id]
        loan.add_penalty += added
        per_item += [entry for entry in found if entry[1]]
        if loan.accruing:
            lines.append((loan_id, Account.PENALTY_RECEIVABLE, added, 0))
            total += added
        else:
            loan.add_penalty_suspended += added
            held.append((loan_id, Account.PENALTY_RECEIVABLE, added, 0))
            held.append((loan_id, Account.PENALTY_SUSPENSE, 0, added))
            day.counts["penalty_suspended"] += added
    if not per_item:
        return
    if total:
        lines.append((None, Account.PENALTY_INCOME, 0, total))
        day.post(kind="penalty", lines=lines)
    day.post(kind="penalty_suspended", lines=held)
    q.execute_rows(day.uow, q.ADD_PENALTY, ("b_id", "b_amount"), per_item)
    day.counts["penalty_accrued"] += total


def _hold_to_charges_cap(day: Day, accrued: dict[int, list[tuple[int, int]]]) -> None:
    """Cut each loan's penalty for the day to what the all-in charges cap leaves.

    The cap allows its rate on its base at each close of business since payout (today's
    included): the principal outstanding, or on the stricter base the principal past
    due. What it weighs of the charges so far (everything, today's interest and fees
    fallen due included; or only the penalty) comes off it first, and penalty takes only
    the rest. A cut is taken from the latest instalments first, so the oldest arrears
    keep theirs.
    """
    cap = day.policy.charges_cap
    for loan_id, penalty, contract in q.fetch_by_ids(
        day.uow, q.CHARGES_SO_FAR, sorted(accrued), {}
    ):
        found = accrued[loan_id]
        loan = day.loans[loan_id]
        base = cap.base_days(
            loan.principal_days + loan.principal,
            loan.overdue_principal_days + loan.overdue_principal,
        )
        room = cap.allowed(base) - cap.weighed(int(penalty), int(contract))
        cut = sum(amount for _, amount in found) - max(room, 0)
        if cut <= 0:
            continue
        day.counts["penalty_capped"] += cut
        for at in range(len(found) - 1, -1, -1):
            item_id, amount = found[at]
            taken = min(amount, cut)
            found[at] = (item_id, amount - taken)
            cut -= taken
            if not cut:
                break


def _penalty_terms(day: Day, spec: ProductSpec) -> tuple[int, int, int, bool] | None:
    """(rate numerator, denominator, days in the year, on interest too) or None: no penalty."""
    rate = _penalty_rate(spec, day.policy)
    if not rate:
        return None
    assert spec.penalty is not None
    num, den = rate.as_integer_ratio()
    days = year_length(day.d.year, spec.penalty.days_in_year)
    return num, den, days, spec.penalty.base == "overdue_principal_and_interest"


def collection_notices(day: Day) -> None:
    """One notice per loan and milestone, on the day the borrower is that many days late.

    Counted in days late, not in days past due after grace: the 1-day reminder is
    meant for the borrower still inside the grace period. The notices are rendered
    while the day closes and recorded, each with its document, just before it commits.
    """
    milestones = set(day.config.notice_days)
    due = [
        loan for loan in day.judged() if loan.days_late in milestones and loan.new_state in q.LIVE
    ]
    if not due:
        return
    sent = {
        (r[0], r[1]) for r in q.fetch_by_ids(day.uow, q.NOTICES_SENT, [loan.id for loan in due], {})
    }
    new = [loan for loan in due if (loan.id, loan.days_late) not in sent]
    started = day.notices.start(day.uow, [loan.id for loan in new], day.d) if day.notices else None

    def record() -> None:
        shas = started.finish(day.uow) if started is not None else [None] * len(new)
        if started is not None:
            day.counts["notices_not_rendered"] += shas.count(None)
        now = q.utc_now()
        q.execute_rows(
            day.uow,
            q.INSERT_NOTICE,
            ("loan_id", "business_date", "dpd", "kind", "document_sha256", "created_at"),
            [(loan.id, day.d, loan.days_late, "collection", sha, now)
             for loan, sha in zip(new, shas, strict=True)],
        )  # fmt: skip

    day.finishing.append(record)
    for loan in new:
        day.event(loan.id, loan.customer_id, "CollectionNoticeIssued", days_late=loan.days_late)
    day.counts["notices"] += len(new)


STEPS = {
    "expire_approvals": expire_approvals,
    "accrue_interest": accrue_interest,
    "recognise_due": recognise_due,
    "delinquency": delinquency,
    "non_accrual": non_accrual,
    "penalty": penalty,
    "collection_notices": collection_notices,
    "provisions": provisions,
}
