"""Drive a simulated book through the real engine, one business day at a time.

Every step is an ordinary use case — apply, automated review, a risk officer's
decision on referrals, payout, repayment, close of business — so the simulated
book is exactly what the engine would hold had people done the same. Only the
people are simulated (see domain/simulation.py).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from lendflow.close_of_business.sweep import close_range, id_ranges
from lendflow.config.cob import load_cob_config
from lendflow.domain.consents import CONSENTS
from lendflow.domain.errors import LendflowError
from lendflow.domain.identity import sample_national_id
from lendflow.domain.repayment import InstalmentState
from lendflow.domain.research import SurveyResponse
from lendflow.domain.simulation import (
    Behaviour,
    RepaymentPlan,
    SimulatedApplicant,
    payment_day,
    plan_for,
)
from lendflow.domain.statuses import LoanStatus
from lendflow.lifecycle.inputs import capture_file, read_survey
from lendflow.loans import applications, disbursement, repayments
from lendflow.loans.applications import Application
from lendflow.store import credit
from lendflow.store import loans as loan_store
from lendflow.store.uow import one_transaction, run_in_transaction

if TYPE_CHECKING:
    from lendflow.loans.results import LoanResult
    from lendflow.workspace.context import Workspace

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏"
REFERRAL_CUT_OFF = 540  # the simulated risk officer approves referrals scoring this or more


def person_name(serial: int) -> str:
    """A deterministic, plausible Chinese name for applicant `serial`."""
    surname = SURNAMES[serial % len(SURNAMES)]
    first = GIVEN[(serial // len(SURNAMES)) % len(GIVEN)]
    second = GIVEN[(serial * 7 + 3) % len(GIVEN)]
    return surname + first + (second if serial % 3 else "")


@dataclass
class SimulatedBook:
    """The simulation's memory of its loans: plans and the days payments fall on."""

    product: str
    seed: int
    payments: dict[date, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    approved: list[int] = field(default_factory=list)
    behaviours: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    paid_through: date | None = None
    closed_through: date | None = None


class Simulator:
    """Runs applicants through the engine as operators, risk officers and borrowers."""

    def __init__(self, ws: Workspace, book: SimulatedBook) -> None:
        self.ws = ws
        self.book = book
        self.ops = ws.actor("ops")
        self.risk = ws.actor("risk")
        self.cob = load_cob_config()
        self.rng = random.Random(book.seed)

    def day(self, d: date, arrivals: list[SimulatedApplicant]) -> None:
        """One business day: close the days since the last one (a weekend), pay out
        yesterday's approvals, take today's applications, borrowers pay what falls due,
        then close the day.

        Money is dated on the open business date, so the days between two business
        days are closed before Monday's payments, never after them. The day's
        applications, and then its repayments, each commit as one batch (as a
        channel's queue and a bank's repayment file would): every use case in it still
        runs under its own savepoint, so one refused is undone alone. Payouts do not:
        each must be committed as asked before the gateway is called.
        """
        self.close(d - timedelta(days=1))
        self._pay_out(d)
        self._take_applications(arrivals, d)
        self._collect(d)
        self.close(d)

    def _take_applications(self, arrivals: list[SimulatedApplicant], d: date) -> None:
        """Apply, review and decide the day's arrivals; count once they are kept (a
        batch retried whole must not count twice)."""
        decided = one_transaction(
            self.ws.engine, lambda: [self._apply(applicant, d) for applicant in arrivals]
        )
        counts = self.book.counts
        for outcome in decided:
            if outcome is None:
                counts["refused_at_application"] += 1
                continue
            counts["applications"] += 1
            loan_id, referred, status = outcome
            if referred:
                counts["referred"] += 1
            counts[status.value] += 1
            if status == LoanStatus.APPROVED:
                self.book.approved.append(loan_id)

    def _apply(self, a: SimulatedApplicant, d: date) -> tuple[int, bool, LoanStatus] | None:
        """(loan id, referred, the decision), or None: refused at application."""
        try:
            application = Application(
                product=self.book.product,
                name=person_name(a.serial),
                national_id=sample_national_id(a.born, a.serial % 1000),
                phone=f"139{a.serial:08d}",
                monthly_income=a.monthly_income,
                amount=a.amount,
                term=a.term,
                purpose=a.purpose,
                monthly_debt=a.monthly_debt,
                employment=a.employment,
                consents=CONSENTS,
                channel="app",
            )
            loan_id = applications.apply(self.ws, self.ops, application, d).id
        except LendflowError:
            return None
        decided = applications.start_review(self.ws, self.ops, loan_id, d)
        referred = decided.status == LoanStatus.UNDER_REVIEW
        if referred:
            decided = self._decide_referral(loan_id, d)
        return loan_id, referred, decided.status

    def _decide_referral(self, loan_id: int, d: date) -> LoanResult:
        champion = run_in_transaction(
            self.ws.engine,
            lambda uow: next(
                (x for x in credit.decisions(uow, loan_id) if x["role"] == "champion"), None
            ),
        )
        score = champion["score"] if champion else None  # None: nothing scored it
        if score is None or score >= REFERRAL_CUT_OFF:
            return applications.approve(
                self.ws, self.risk, loan_id, d, note="income and employment verified by phone"
            )
        return applications.reject(
            self.ws, self.risk, loan_id, d, "REFERRAL_DECLINED", note="could not verify income"
        )

    def _pay_out(self, d: date) -> None:
        waiting, self.book.approved = self.book.approved, []
        for loan_id in waiting:
            try:
                paid_out = disbursement.disburse(self.ws, self.ops, loan_id, d)
            except LendflowError:
                self.book.counts["payout_failed"] += 1
                continue
            self.book.counts["disbursed"] += 1
            self._plan(loan_id, paid_out.risk_grade)

    def _plan(self, loan_id: int, grade: str | None) -> None:
        rows = run_in_transaction(self.ws.engine, lambda uow: loan_store.instalments(uow, loan_id))
        plan: RepaymentPlan = plan_for(grade, len(rows), self.rng)
        self.book.behaviours[plan.behaviour] += 1
        for row in rows:
            n, due = row["n"], row["due_date"]
            if plan.behaviour is Behaviour.EARLY_PAYOFF and n > plan.payoff_after:
                self.book.payments[due - timedelta(days=5)].append((loan_id, "payoff"))
                return
            paid = payment_day(plan, n, due)
            if paid is not None:
                self.book.payments[paid].append((loan_id, "due"))

    def _collect(self, d: date) -> None:
        """Borrowers pay what they planned to pay since the last business day; the day's
        payments are posted as one batch and counted once it is kept."""
        start = self.book.paid_through or d
        due: list[tuple[int, str]] = []
        day = start
        while day <= d:
            due += self.book.payments.pop(day, [])
            day += timedelta(days=1)
        self.book.paid_through = d + timedelta(days=1)
        posted = one_transaction(
            self.ws.engine, lambda: [self._pay(loan_id, kind, d) for loan_id, kind in due]
        )
        for outcome in posted:
            if outcome is not None:
                self.book.counts[outcome] += 1

    def _pay(self, loan_id: int, kind: str, d: date) -> str | None:
        """What to count of one planned payment: None when nothing was owed."""
        try:
            if kind == "payoff":
                amount = repayments.quote(self.ws, self.ops, loan_id, d).total
            else:
                amount = self._arrears(loan_id, d)
            if amount <= 0:
                return None
            repayments.repay(self.ws, self.ops, loan_id, amount, d, f"sim-{loan_id}-{d}-{kind}")
        except LendflowError:
            return "repayment_refused"  # e.g. the loan was closed meanwhile
        return f"repayments_{kind}"

    def _arrears(self, loan_id: int, d: date) -> int:
        rows = run_in_transaction(self.ws.engine, lambda uow: loan_store.instalments(uow, loan_id))
        owed = 0
        for row in rows:
            if row["due_date"] <= d:
                o = InstalmentState.from_row(row).owed()
                owed += o.principal + o.interest + o.fee + o.penalty
        return owed

    def close(self, d: date) -> None:
        """Close every calendar day not yet closed, through `d` (a no-op when it is)."""
        closed = self.book.closed_through
        first = d if closed is None else closed + timedelta(days=1)
        if first > d:
            return
        for lo, hi in id_ranges(self.ws, 5_000):
            close_range(self.ws, lo, hi, first, d, "system", self.cob)
        self.book.closed_through = d


def survey_people(path: Path) -> list[SurveyResponse]:
    """The survey's respondents, read as the research stage reads them: the templates of
    simulated applicants."""
    return read_survey(capture_file("survey", path))
