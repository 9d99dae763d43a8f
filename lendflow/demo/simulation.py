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
from lendflow.store.uow import run_in_transaction

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
        days are closed before Monday's payments, never after them.
        """
        self.close(d - timedelta(days=1))
        self._pay_out(d)
        for applicant in arrivals:
            self._apply(applicant, d)
        self._collect(d)
        self.close(d)

    def _apply(self, a: SimulatedApplicant, d: date) -> None:
        counts = self.book.counts
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
            counts["refused_at_application"] += 1
            return
        counts["applications"] += 1
        decided = applications.start_review(self.ws, self.ops, loan_id, d)
        if decided.status == LoanStatus.UNDER_REVIEW:
            counts["referred"] += 1
            decided = self._decide_referral(loan_id, d)
        counts[decided.status.value] += 1
        if decided.status == LoanStatus.APPROVED:
            self.book.approved.append(loan_id)

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
        start = self.book.paid_through or d
        day = start
        while day <= d:
            for loan_id, kind in self.book.payments.pop(day, []):
                self._pay(loan_id, kind, d)
            day += timedelta(days=1)
        self.book.paid_through = d + timedelta(days=1)

    def _pay(self, loan_id: int, kind: str, d: date) -> None:
        try:
            if kind == "payoff":
                amount = repayments.quote(self.ws, self.ops, loan_id, d).total
            else:
                amount = self._arrears(loan_id, d)
            if amount > 0:
                repayments.repay(self.ws, self.ops, loan_id, amount, d, f"sim-{loan_id}-{d}-{kind}")
                self.book.counts[f"repayments_{kind}"] += 1
        except LendflowError:
            self.book.counts["repayment_refused"] += 1  # e.g. the loan was closed meanwhile

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
