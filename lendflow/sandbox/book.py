"""The functional test: synthetic applicants through every path of the real engine.

In the sandbox, on fixed business dates, operators take applications, the
product's automated review approves, rejects and refers, a risk officer
decides a referral, an applicant withdraws, the approved loans are paid out,
and borrowers repay on time, late, never, or early — with close of business
run over every date between. Each path is one named check with the figures
that show it happened as the product promises.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from lendflow.close_of_business.sweep import close_range, id_ranges
from lendflow.config.cob import CobConfig, load_cob_config
from lendflow.documents import issuing as documents
from lendflow.domain.consents import CONSENTS
from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import LendflowError
from lendflow.domain.identity import sample_national_id
from lendflow.domain.money import format_fen, format_grouped
from lendflow.domain.repayment import InstalmentState
from lendflow.loans import applications, disbursement, repayments
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.sandbox.workspace import guarded
from lendflow.store import loans as loan_store
from lendflow.store.uow import run_in_transaction

if TYPE_CHECKING:
    from lendflow.config.product_spec import ProductSpec
    from lendflow.loans.results import LoanDetail, LoanEvent, LoanResult
    from lendflow.workspace.context import Workspace

OPENING = date(2025, 3, 3)
"""The sandbox book opens on this Monday: a fixed date, so a spec gives the same book,
figure for figure, whenever it is tested."""
DAY = timedelta(days=1)
LATE_BY = 7
"""Days after the grace period that the late borrower pays the arrears."""
PAYOFF_AFTER = 10
"""Days after the first due date that the early borrower settles the loan."""
COB_ACTOR = "system"
FUNCTIONAL_CHECKS = (
    "automated_approve",
    "automated_reject",
    "refer_then_officer_approve",
    "withdraw",
    "disburse",
    "repay_on_time",
    "late_then_cured",
    "default_and_write_off",
    "prepay",
)
MONEY_PATHS = ("repay_on_time", "late_then_cured", "default_and_write_off", "prepay")
"""The paths that need a loan paid out; each takes one approved loan."""
GIVEN_NAMES = "甲乙丙丁戊己庚辛壬癸"
BRANCHES = "子丑寅卯辰巳午未申酉戌亥"


@dataclass(frozen=True)
class Profile:
    """What an applicant tells the lender, chosen to land on one path of the credit policy."""

    label: str
    age: int
    monthly_income: int
    monthly_debt: int
    employment: str

    def describe(self) -> str:
        return (
            f"{self.employment.replace('_', ' ')}, {self.age}, income"
            f" {format_grouped(self.monthly_income)} and debts {format_grouped(self.monthly_debt)}"
            " a month"
        )


# Each tuple is tried in order until automated review gives the wanted outcome: the
# first fits a consumer scorecard, the later ones a small-business one.
GOOD = (
    Profile("good", 38, 2_500_000, 0, "civil_servant"),
    Profile("good", 45, 10_000_000, 0, "business_owner"),
)
MARGINAL = (
    Profile("marginal", 24, 600_000, 180_000, "freelance"),
    Profile("marginal", 22, 450_000, 150_000, "unknown"),
    Profile("marginal", 35, 2_000_000, 0, "business_owner"),
    Profile("marginal", 26, 5_000_000, 0, "self_employed"),
)
POOR = (
    Profile("poor", 22, 300_000, 250_000, "unemployed"),
    Profile("poor", 21, 200_000, 0, "unemployed"),
)


@dataclass
class PathLog:
    """What happened to the loans of one path: their ids, what was seen, what went wrong."""

    loans: list[int] = field(default_factory=list)
    seen: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass
class BookRun:
    """The functional test's checks, and the sandbox book it left for the other tests."""

    checks: list[Criterion]
    loans: list[dict[str, Any]]
    first_day: date
    last_day: date
    cob_days: int


class Book:
    """Drives the sandbox book as operators, a risk officer and borrowers would."""

    def __init__(self, ws: Workspace, spec: ProductSpec, cob: CobConfig | None = None) -> None:
        self.ws = ws
        self.spec = spec
        self.cob = cob or load_cob_config()
        self.ops = ws.actor("ops")
        self.risk = ws.actor("risk")
        self.auditor = ws.actor("auditor")
        self.serial = 0
        self.closed_through = OPENING - DAY
        self.cob_days = 0
        self.paths: dict[str, PathLog] = defaultdict(PathLog)
        self.profiles: dict[int, Profile] = {}
        self.amount = spec.amount.min
        self.term = min(spec.terms)

    # --- people and applications -------------------------------------------------------

    def application(self, profile: Profile) -> Application:
        """A new synthetic person with `profile`, applying for the smallest, shortest loan."""
        self.serial += 1
        n = self.serial
        age = min(max(profile.age, self.spec.age.min), self.spec.age.max)
        born = date(OPENING.year - age - 1, 6 + n % 6, 1 + n % 28)
        name = f"试{GIVEN_NAMES[n % 10]}{BRANCHES[n // 10 % 12]}"
        return Application(
            product=self.spec.code,
            name=name,
            national_id=sample_national_id(born, n),
            phone=f"1390000{n:04d}",
            monthly_income=profile.monthly_income,
            amount=self.amount,
            term=self.term,
            purpose=self.spec.purposes[0],
            monthly_debt=profile.monthly_debt,
            employment=profile.employment,
            consents=CONSENTS,
            channel="sandbox",
        )

    def apply(self, profile: Profile) -> int:
        loan_id = applications.apply(self.ws, self.ops, self.application(profile), OPENING).id
        self.profiles[loan_id] = profile
        return loan_id

    def reviewed(self, profile: Profile) -> tuple[int, LoanResult]:
        loan_id = self.apply(profile)
        return loan_id, applications.start_review(self.ws, self.ops, loan_id, OPENING)

    def first_with(
        self, candidates: tuple[Profile, ...], state: str
    ) -> tuple[int, LoanResult] | None:
        """The first candidate automated review leaves in `state`; the others withdraw."""
        for profile in candidates:
            loan_id, view = self.reviewed(profile)
            if view.status == state:
                return loan_id, view
            if view.status in ("submitted", "under_review", "approved"):
                applications.withdraw(self.ws, self.ops, loan_id, OPENING, note="not needed")
        return None

    def attempt(self, path: str, when: date, action: Callable[[], Any]) -> Any:
        """One step of a path; a refusal or a break is kept for the path's check."""
        try:
            return action()
        except LendflowError as exc:
            self.paths[path].errors.append(f"{when}: {exc.message}")
        except Exception as exc:
            self.paths[path].errors.append(f"{when}: {type(exc).__name__}: {exc}")
        return None

    # --- the book's life ------------------------------------------------------------------

    def run(self) -> None:
        """Applications on the opening day, payouts the next, then the repayment plans."""
        self.take_applications()
        payout_day = OPENING + DAY
        self.close_through(OPENING)
        for path in MONEY_PATHS:
            for loan_id in self.paths[path].loans:
                self.attempt("disburse", payout_day, lambda i=loan_id: self.pay_out(i, payout_day))
        agenda, horizon = self.plan()
        for day in sorted(agenda):
            self.close_through(day - DAY)
            for path, action in agenda[day]:
                self.attempt(path, day, action)
        self.close_through(max(horizon, *agenda) if agenda else horizon)

    def take_applications(self) -> None:
        approve = self.paths["automated_approve"]
        first = self.attempt(
            "automated_approve", OPENING, lambda: self.first_with(GOOD, "approved")
        )
        good = self.profiles[first[0]] if first else GOOD[0]
        for path in MONEY_PATHS:
            found = first or self.attempt("automated_approve", OPENING, lambda: self.reviewed(good))
            first = None
            if found is None:
                continue
            loan_id, view = found
            approve.loans.append(loan_id)
            approve.seen[str(loan_id)] = view
            if view.status == "approved":
                self.paths[path].loans.append(loan_id)
        approve.seen["profile"] = good
        rejected = self.attempt(
            "automated_reject", OPENING, lambda: self.first_with(POOR, "rejected")
        )
        if rejected:
            self.paths["automated_reject"].loans.append(rejected[0])
            self.paths["automated_reject"].seen["view"] = rejected[1]
        referred = self.attempt(
            "refer_then_officer_approve", OPENING, lambda: self.first_with(MARGINAL, "under_review")
        )
        if referred:
            self.refer(referred[0])
        self.attempt("withdraw", OPENING, self.withdraw)

    def refer(self, loan_id: int) -> None:
        path = self.paths["refer_then_officer_approve"]
        path.loans.append(loan_id)
        shown = loan_views.show(self.ws, self.risk, loan_id, OPENING)
        path.seen["referral"] = next(
            (d for d in shown.credit_decisions if d.role == "champion"), None
        )
        approved = self.attempt(
            "refer_then_officer_approve",
            OPENING,
            lambda: applications.approve(
                self.ws, self.risk, loan_id, OPENING, note="income and employment verified"
            ),
        )
        path.seen["decided"] = approved
        if approved and approved.status == "approved":
            self.paths["repay_on_time"].loans.append(loan_id)

    def withdraw(self) -> None:
        path = self.paths["withdraw"]
        loan_id = self.apply(self.paths["automated_approve"].seen.get("profile", GOOD[0]))
        path.loans.append(loan_id)
        path.seen["view"] = applications.withdraw(
            self.ws, self.ops, loan_id, OPENING, note="the applicant changed their mind"
        )

    def pay_out(self, loan_id: int, day: date) -> None:
        view = disbursement.disburse(self.ws, self.ops, loan_id, day, f"SBX-PAYOUT-{loan_id}")
        path = self.paths["disburse"]
        path.loans.append(loan_id)
        path.seen[str(loan_id)] = view

    def dues(self, loan_id: int) -> tuple[list[date], list[date]]:
        """The due dates of the loan's upfront fee (if any) and of its repayments."""
        rows = self.instalments(loan_id)
        return (
            [r["due_date"] for r in rows if r["n"] == 0],
            [r["due_date"] for r in rows if r["n"] > 0],
        )

    def instalments(self, loan_id: int) -> list[dict[str, Any]]:
        return run_in_transaction(self.ws.engine, lambda uow: loan_store.instalments(uow, loan_id))

    def plan(self) -> tuple[dict[date, list[tuple[str, Callable[[], Any]]]], date]:
        """Each borrower's payments by date, and the last date the book must be closed to."""
        agenda: dict[date, list[tuple[str, Callable[[], Any]]]] = defaultdict(list)
        horizon = OPENING + DAY
        paid_out = set(self.paths["disburse"].loans)
        for loan_id in self.paths["repay_on_time"].loans:
            if loan_id in paid_out:
                upfront, dues = self.dues(loan_id)
                for due in upfront + dues:
                    agenda[due].append(("repay_on_time", self.pays(loan_id, due)))
        for loan_id in self.paths["late_then_cured"].loans:
            if loan_id in paid_out:
                upfront, dues = self.dues(loan_id)
                late = dues[0] + timedelta(days=self.spec.delinquency.grace_days + LATE_BY)
                agenda[late].append(("late_then_cured", self.pays_late(loan_id, dues[0], late)))
                for due in upfront + [d for d in dues if d > late]:
                    agenda[due].append(("late_then_cured", self.pays(loan_id, due)))
        for loan_id in self.paths["default_and_write_off"].loans:
            if loan_id in paid_out:
                upfront, dues = self.dues(loan_id)
                first = (upfront + dues)[0]
                write_off = first + timedelta(days=self.spec.delinquency.write_off_dpd + 2)
                horizon = max(horizon, write_off)
        for loan_id in self.paths["prepay"].loans:
            if loan_id in paid_out:
                upfront, dues = self.dues(loan_id)
                settle = dues[0] + timedelta(days=PAYOFF_AFTER)
                for due in [*upfront, dues[0]]:
                    agenda[due].append(("prepay", self.pays(loan_id, due)))
                agenda[settle].append(("prepay", self.settles(loan_id, settle)))
        return agenda, horizon

    def owed(self, loan_id: int, day: date) -> int:
        """Everything due on or before `day` and not yet paid, penalty included."""
        total = 0
        for row in self.instalments(loan_id):
            if row["due_date"] <= day:
                o = InstalmentState.from_row(row).owed()
                total += o.principal + o.interest + o.fee + o.penalty
        return total

    def pays(self, loan_id: int, day: date) -> Callable[[], Any]:
        def pay() -> Any:
            amount = self.owed(loan_id, day)
            if amount <= 0:
                return None
            return repayments.repay(
                self.ws, self.ops, loan_id, amount, day, f"SBX-{loan_id}-{day.isoformat()}"
            )

        return pay

    def pays_late(self, loan_id: int, due: date, day: date) -> Callable[[], Any]:
        def pay() -> Any:
            path = self.paths["late_then_cured"]
            before = loan_views.show(self.ws, self.risk, loan_id, day)
            path.seen.update(missed=due, before=before, owed=self.owed(loan_id, day))
            after = self.pays(loan_id, day)()
            path.seen.update(paid_on=day, after=after)
            return after

        return pay

    def settles(self, loan_id: int, day: date) -> Callable[[], Any]:
        def settle() -> Any:
            path = self.paths["prepay"]
            quote = repayments.quote(self.ws, self.ops, loan_id, day)
            view = repayments.repay(
                self.ws, self.ops, loan_id, quote.total, day, f"SBX-PAYOFF-{loan_id}"
            )
            path.seen.update(quote=quote, after=view, on=day)
            return view

        return settle

    def close_through(self, last: date) -> None:
        """Close of business for every date not yet closed, up to `last`."""
        if last <= self.closed_through:
            return
        first = self.closed_through + DAY
        for lo, hi in id_ranges(self.ws, self.cob.chunk_size):
            close_range(self.ws, lo, hi, first, last, COB_ACTOR, self.cob)
        self.cob_days += (last - first).days + 1
        self.closed_through = last

    # --- what each path shows ---------------------------------------------------------------

    def show(self, loan_id: int) -> LoanDetail:
        return loan_views.show(self.ws, self.risk, loan_id, self.closed_through)

    def events(self, loan_id: int) -> list[LoanEvent]:
        return loan_views.loan_events(self.ws, self.auditor, loan_id)

    def checks(self) -> list[Criterion]:
        found = {
            "automated_approve": self.automated_approve,
            "automated_reject": self.automated_reject,
            "refer_then_officer_approve": self.refer_then_officer_approve,
            "withdraw": self.withdrawn,
            "disburse": self.disbursed,
            "repay_on_time": self.repaid_on_time,
            "late_then_cured": self.late_then_cured,
            "default_and_write_off": self.written_off,
            "prepay": self.prepaid,
        }
        return [guarded(name, lambda name=name: self._checked(name, found[name])) for name in found]

    def _checked(self, name: str, evaluate: Callable[[PathLog], Criterion]) -> Criterion:
        path = self.paths[name]
        if path.errors:
            more = len(path.errors) - 1
            return Criterion(
                name, False, path.errors[0] + (f" (and {more} more refusals)" if more else "")
            )
        unpaid = [i for i in path.loans if i not in self.paths["disburse"].loans]
        if name in MONEY_PATHS and path.loans and unpaid == path.loans:
            return Criterion(
                name, False, f"not reached: loans {_ids(unpaid)} were not paid out (see disburse)"
            )
        return evaluate(path)

    def automated_approve(self, path: PathLog) -> Criterion:
        views = [path.seen[str(i)] for i in path.loans]
        approved = [v for v in views if v.status == "approved"]
        grades = sorted({f"{v.risk_grade} at {v.annual_rate}%" for v in approved})
        figure = (
            f"{len(approved)} of {len(views)} applicants ({path.seen['profile'].describe()})"
            " approved by"
            f" automated review: loans {_ids(a.id for a in approved)}, grade"
            f" {', '.join(grades) or 'none'}, {format_grouped(self.amount)} over {self.term}"
            " repayments"
        )
        return Criterion("automated_approve", bool(views) and len(approved) == len(views), figure)

    def automated_reject(self, path: PathLog) -> Criterion:
        if not path.loans:
            tried = "; ".join(p.describe() for p in POOR)
            return Criterion("automated_reject", False, f"no applicant was rejected ({tried})")
        view, loan_id = path.seen["view"], path.loans[0]
        return Criterion(
            "automated_reject",
            True,
            f"loan {loan_id} ({self.profiles[loan_id].describe()}) rejected by automated review:"
            f" {view.reason_code}",
        )

    def refer_then_officer_approve(self, path: PathLog) -> Criterion:
        name = "refer_then_officer_approve"
        if not path.loans:
            return Criterion(
                name, False, f"automated review referred none of {len(MARGINAL)} applicants"
            )
        loan_id, referral, decided = path.loans[0], path.seen["referral"], path.seen["decided"]
        reasons = ", ".join(referral.reasons) if referral else "no recorded referral"
        ok = decided is not None and decided.status == "approved"
        return Criterion(
            name,
            ok,
            f"loan {loan_id} ({self.profiles[loan_id].describe()}) referred by automated review"
            f" (score {referral.score if referral else '—'}: {reasons}); the risk officer"
            f" approved it with a note: {decided.status if decided else '—'},"
            f" grade {decided.risk_grade if decided else '—'} at"
            f" {decided.annual_rate if decided else '—'}%",
        )

    def withdrawn(self, path: PathLog) -> Criterion:
        view = path.seen.get("view")
        ok = view is not None and view.status == "withdrawn"
        events = self.events(path.loans[0]) if path.loans else []
        moves = (
            " → ".join([str(events[0].to_state), *(e.to_state for e in events[1:] if e.to_state)])
            if events
            else ""
        )
        return Criterion(
            "withdraw",
            ok,
            f"loan {path.loans[0] if path.loans else '—'} withdrawn by the applicant before"
            f" review ({moves})",
        )

    def disbursed(self, path: PathLog) -> Criterion:
        name = "disburse"
        if not path.loans:
            return Criterion(name, False, "no loan was paid out")
        payouts = getattr(self.ws.gateway, "payouts", dict)()
        problems, total, kept = [], 0, 0
        for loan_id in path.loans:
            view = path.seen[str(loan_id)]
            rows = [r for r in self.instalments(loan_id) if r["n"] > 0]
            principal = view.principal
            total += principal
            contracts = [
                d
                for d in documents.list_documents(self.ws, self.auditor, loan_id)
                if d.kind == "contract"
            ]
            kept += len(contracts) == 1
            if view.status != "active":
                problems.append(f"loan {loan_id} is {view.status} after payout")
            if len(rows) != view.term:
                problems.append(f"loan {loan_id} has {len(rows)} instalments for {view.term}")
            if len(contracts) != 1:
                problems.append(f"loan {loan_id} kept {len(contracts)} contracts")
            if payouts.get(disbursement.payout_reference(loan_id)) != principal:
                problems.append(f"loan {loan_id} was not paid its principal through the gateway")
        figure = (
            f"{len(path.loans)} loans ({_ids(sorted(path.loans))}) paid out on {OPENING + DAY}"
            f" through the gateway, {format_grouped(total)} in {len(payouts)} payouts, one per"
            f" reference: {len(path.loans)} schedules of {self.term} instalments, {kept}"
            " contracts kept"
        )
        return Criterion(name, not problems, "; ".join([figure, *problems]))

    def repaid_on_time(self, path: PathLog) -> Criterion:
        name = "repay_on_time"
        if not path.loans:
            return Criterion(name, False, "no loan to repay on time")
        problems, paid, closed_on = [], 0, set()
        for loan_id in path.loans:
            view = self.show(loan_id)
            rows = self.instalments(loan_id)
            paid += sum(1 for r in rows if r["paid_on"] is not None)
            late = [r["n"] for r in rows if r["paid_on"] is None or r["paid_on"] > r["due_date"]]
            fell = [e for e in self.events(loan_id) if e.name == "LoanFellOverdue"]
            closed_on.add(view.closed_on)
            if view.status != "closed":
                problems.append(f"loan {loan_id} is {view.status}, not closed")
            if late:
                problems.append(f"loan {loan_id}: instalments {late} not paid by their due dates")
            if fell:
                problems.append(f"loan {loan_id} fell overdue on {fell[0].business_date}")
        figure = (
            f"loans {_ids(path.loans)}: {paid} instalments paid on their due dates, none ever"
            f" overdue; closed on {', '.join(sorted(str(d) for d in closed_on))}"
        )
        return Criterion(name, not problems, "; ".join([figure, *problems]))

    def late_then_cured(self, path: PathLog) -> Criterion:
        name = "late_then_cured"
        if not path.loans or "before" not in path.seen:
            return Criterion(name, False, "no loan went late")
        loan_id, seen = path.loans[0], path.seen
        before, after, end = seen["before"], seen["after"], self.show(loan_id)
        after_status = after.status if after else None
        after_dpd = after.dpd if after else None
        problems = []
        if before.status != "overdue":
            problems.append(f"it was {before.status}, not overdue, before paying")
        if after_status != "active" or (after_dpd or 0) != 0:
            problems.append(f"after paying it was {after_status} at dpd {after_dpd}, not cured")
        if end.status != "closed":
            problems.append(f"it ended {end.status}, not closed")
        figure = (
            f"loan {loan_id} missed its {seen['missed']} repayment: on {seen['paid_on']} it was"
            f" {before.status} at dpd {before.dpd} ({before.bucket},"
            f" {before.classification}, penalty {format_fen(before.outstanding.penalty)}"
            f" accrued); paying the {format_grouped(seen['owed'])} in arrears made it"
            f" {after_status} at dpd {after_dpd}; later instalments on time, {end.status} on"
            f" {end.closed_on}"
        )
        return Criterion(name, not problems, "; ".join([figure, *problems]))

    def written_off(self, path: PathLog) -> Criterion:
        name = "default_and_write_off"
        if not path.loans:
            return Criterion(name, False, "no loan defaulted")
        loan_id = path.loans[0]
        view = self.show(loan_id)
        events = {e.name: e for e in self.events(loan_id)}
        fell, written = events.get("LoanFellOverdue"), events.get("LoanWrittenOff")
        principal = view.principal
        rules = self.spec.delinquency
        problems = []
        if view.status != "written_off" or written is None:
            problems.append(f"it is {view.status}, not written off, on {self.closed_through}")
        if fell is None:
            problems.append("it never fell overdue")
        figure = (
            f"loan {loan_id} paid nothing: overdue from"
            f" {fell.business_date if fell else '—'}, written off on"
            f" {written.business_date if written else '—'} past {rules.write_off_dpd} dpd"
            f" ({format_grouped(principal)} principal; {view.bucket}, {view.classification})"
        )
        return Criterion(name, not problems, "; ".join([figure, *problems]))

    def prepaid(self, path: PathLog) -> Criterion:
        name = "prepay"
        if not path.loans or "quote" not in path.seen:
            return Criterion(name, False, "no loan was settled early")
        loan_id, quote, on = path.loans[0], path.seen["quote"], path.seen["on"]
        view = self.show(loan_id)
        schedule = loan_views.schedule(self.ws, self.auditor, loan_id)
        waived = sum(i.waived for i in schedule.instalments)
        problems = []
        if view.status != "closed" or view.closed_on != on:
            problems.append(f"it is {view.status} (closed on {view.closed_on}), not closed on {on}")
        figure = (
            f"loan {loan_id} paid its first repayment, then on {on} took a payoff quote of"
            f" {format_grouped(quote.total)} (principal {format_grouped(quote.principal)},"
            f" interest {format_grouped(quote.interest)}, fees {format_grouped(quote.fees)})"
            f" and paid it: {view.status} on {view.closed_on}, {format_grouped(waived)} of later"
            " interest and fees waived"
        )
        return Criterion(name, not problems, "; ".join([figure, *problems]))

    def loans(self) -> list[dict[str, Any]]:
        """Every loan the paths followed, with the paths and where it ended, for the report."""
        followed: dict[int, list[str]] = defaultdict(list)
        for name in FUNCTIONAL_CHECKS:
            if name not in ("automated_approve", "disburse"):
                for loan_id in self.paths[name].loans:
                    followed[loan_id].append(name)
        rows = []
        for loan_id, names in sorted(followed.items()):
            view = self.show(loan_id)
            rows.append(
                {
                    "loan": loan_id,
                    "paths": names,
                    "applicant": self.profiles[loan_id].label,
                    "state": view.status.value,
                    "grade": view.risk_grade,
                    "rate": str(view.annual_rate),
                    "principal": format_fen(view.principal),
                    "closed_on": None if view.closed_on is None else view.closed_on.isoformat(),
                }
            )
        return rows


def run_book(ws: Workspace, spec: ProductSpec) -> BookRun:
    """Drive the sandbox book through every path and check each one."""
    book = Book(ws, spec)
    book.run()
    return BookRun(
        checks=book.checks(),
        loans=book.loans(),
        first_day=OPENING,
        last_day=book.closed_through,
        cob_days=book.cob_days,
    )


def _ids(ids: Any) -> str:
    return ", ".join(str(i) for i in ids)
