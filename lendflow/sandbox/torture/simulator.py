"""The fault simulator: a loan book driven by one seeded random sequence, audited after
every step.

People act as they would at a lender: operators take applications and pay out, a
risk officer decides referrals, borrowers repay on time, late, in part, in full,
twice under the same reference or from two places at once, channels send repayment
files, and close of business runs day by day. Faults come from the same sequence:
the gateway declines or times out (before or after paying), and a step runs in a
process of its own that is killed at a named fault point, after which the
operator reruns or resumes it. Every action is dated on the open business date
(the day after the last closed one); the date moves only by closing days.

Everything random comes from `random.Random(seed)`: the same seed drives the same
book (threads racing on one loan may interleave differently, never with other
amounts). Nothing reads the clock.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lendflow.close_of_business.sweep import close_range, id_ranges
from lendflow.config.cob import CobConfig, load_cob_config
from lendflow.domain.consents import CONSENTS
from lendflow.domain.errors import LendflowError
from lendflow.domain.identity import sample_national_id
from lendflow.domain.repayment import InstalmentState
from lendflow.domain.statuses import LoanStatus
from lendflow.loans import applications, disbursement, repayments
from lendflow.loans.applications import Application
from lendflow.loans.views import ids_in_state
from lendflow.sandbox.torture import worker
from lendflow.sandbox.torture.auditor import BorrowerPayment, Statement, check_book
from lendflow.sandbox.torture.book import OPENING, WEEKLY_CODE, BookPlace
from lendflow.sandbox.torture.files import FileRow, post_file, write_file
from lendflow.store import loans as loan_store
from lendflow.store.uow import run_in_transaction
from lendflow.workspace.faults import FAULT_ENV, KILLED_EXIT_CODE
from lendflow.workspace.payments import GatewayError, SandboxGateway

DAY = timedelta(days=1)
TODAY_ENV = "LENDFLOW_TODAY"
"""The real date the workspace's clock reads (business-date discipline): kept at the open
business date, and at the morning after while days are closed."""
COB_ACTOR = "system"
COB_CHUNK = 4
"""Loans per close-of-business chunk: small, so a book of a few dozen loans has several
chunks and a kill inside one leaves others done and others not."""
KILL_POINTS = {
    "payout": "disbursement.after_gateway",
    "close": "cob.inside_chunk",
    "file": "repayment_file.inside_chunk",
}
STEP_TIMEOUT_SECONDS = 120
CRASHED_EXIT_CODE = 3
RACE_MINIMUM = 2_000
"""Fen a loan must still owe for two racing payments to share it."""
# (product code, lowest and highest amount in the product's steps, the step in fen, terms,
# how often applicants ask for it)
PRODUCTS = (
    (WEEKLY_CODE, 5, 80, 10_000, (4, 6, 8), 4),
    ("cash-easy", 10, 200, 10_000, (3, 6), 3),
    ("sme-growth", 20, 80, 100_000, (6, 12), 1),
)
# (age, monthly income, monthly debt, employment): good, marginal and poor applicants
PROFILES = (
    (38, 2_500_000, 0, "civil_servant"),
    (45, 10_000_000, 0, "business_owner"),
    (30, 1_200_000, 100_000, "salaried"),
    (24, 600_000, 180_000, "freelance"),
    (24, 600_000, 180_000, "freelance"),
    (26, 500_000, 0, "salaried"),
    (40, 900_000, 0, "self_employed"),
    (35, 2_000_000, 0, "business_owner"),
    (22, 300_000, 250_000, "unemployed"),
)
NAMES = "甲乙丙丁戊己庚辛壬癸"


class StepCrashed(Exception):
    """A step broke with an error that is not a business refusal: a finding in itself."""


@dataclass(frozen=True)
class StepRecord:
    """One step as the replay report shows it: its number, name, date and what happened."""

    n: int
    name: str
    on: date
    what: str

    def __str__(self) -> str:
        return f"step {self.n} {self.name} on {self.on}: {self.what}"


class Simulator:
    """Drives one seed's book step by step; `check()` audits it."""

    def __init__(
        self, place: BookPlace, seed: int, *, notices: bool = False, declines_paid: bool = False
    ) -> None:
        self.place = place
        self.seed = seed
        self.rng = random.Random(seed)  # the seed's own sequence, never the global one
        self.ws = place.open()
        gateway = self.ws.gateway
        assert isinstance(gateway, SandboxGateway)
        self.gateway = gateway
        self.ops = self.ws.actor("ops")
        self.risk = self.ws.actor("risk")
        self.today = OPENING
        self.serial = 0
        self.statement = Statement()
        self.cob: CobConfig = load_cob_config().model_copy(
            update={"chunk_size": COB_CHUNK, "render_notices": notices}
        )
        self.notices = notices
        self.declines_paid = declines_paid
        self.n = 0
        self.forks = 0
        self.steps: dict[str, Callable[[], str]] = {
            "apply": self.apply,
            "decide_referrals": self.decide_referrals,
            "withdraw": self.withdraw,
            "pay_out": self.pay_out,
            "repay": self.repay,
            "repay_twice": self.repay_twice,
            "repay_concurrently": self.repay_concurrently,
            "repayment_file": self.repayment_file,
            "close_days": self.close_days,
        }
        self.weights = {
            "apply": 14,
            "decide_referrals": 5,
            "withdraw": 2,
            "pay_out": 16,
            "repay": 16,
            "repay_twice": 4,
            "repay_concurrently": 4,
            "repayment_file": 5,
            "close_days": 16,
        }
        if hasattr(repayments, "repay_backdated"):
            self.steps["repay_backdated"] = self.repay_backdated
            self.weights["repay_backdated"] = 3
        self._set_real_date(self.today)

    # --- the run ---------------------------------------------------------------------------

    def next_step(self) -> StepRecord:
        """Choose and take the next step; a business refusal is an outcome, not a failure."""
        self.n += 1
        names = list(self.steps)
        name = self.rng.choices(names, weights=[self.weights[n] for n in names])[0]
        on = self.today
        try:
            what = self.steps[name]()
        except LendflowError as exc:
            what = f"refused: {exc.message}"
        return StepRecord(self.n, name, on, what)

    def finish(self) -> StepRecord:
        """The operator's end of day: every payout still in flight is resumed."""
        self.n += 1
        done = [self._resume(loan_id) for loan_id in self.in_flight()]
        return StepRecord(self.n, "resume_payouts", self.today, "; ".join(done) or "none in flight")

    def check(self) -> list[str]:
        problems = check_book(self.ws, self.gateway.payouts(), self.statement)
        return problems

    def statuses(self) -> dict[str, int]:
        """How many loans ended in each status: what the seed's book went through."""
        found = {s.value: len(ids_in_state(self.ws, self.ops, s.value)) for s in LoanStatus}
        return {status: n for status, n in found.items() if n}

    def close(self) -> None:
        self.ws.close()

    # --- applications and decisions --------------------------------------------------------

    def apply(self) -> str:
        outcomes = []
        for _ in range(self.rng.randint(1, 3)):
            outcomes.append(self._one_application())
        return "; ".join(outcomes)

    def _one_application(self) -> str:
        code, low, high, unit, terms, _weight = self.rng.choices(
            PRODUCTS, weights=[p[5] for p in PRODUCTS]
        )[0]
        age, income, debt, employment = self.rng.choice(PROFILES)
        self.serial += 1
        n = self.serial
        born = date(OPENING.year - age - 1, 1 + n % 12, 1 + n % 28)
        application = Application(
            product=code,
            name=f"压{NAMES[n % 10]}{NAMES[n // 10 % 10]}",
            national_id=sample_national_id(born, n % 1000),
            phone=f"1370{self.seed % 10_000:04d}{n % 1000:03d}",
            monthly_income=income,
            amount=self.rng.randint(low, high) * unit,
            term=self.rng.choice(terms),
            monthly_debt=debt,
            employment=employment,
            consents=CONSENTS,
            channel="sandbox",
        )
        try:
            loan_id = applications.apply(self.ws, self.ops, application, self.today).id
        except LendflowError as exc:
            return f"applicant {n} refused: {exc.message}"
        decided = applications.start_review(self.ws, self.ops, loan_id, self.today)
        return f"loan {loan_id} ({code}) {decided.status.value}"

    def decide_referrals(self) -> str:
        decided = []
        for loan_id in self._ids(LoanStatus.UNDER_REVIEW):
            if self.rng.random() < 0.6:
                applications.approve(
                    self.ws, self.risk, loan_id, self.today, note="income verified by phone"
                )
                decided.append(f"loan {loan_id} approved")
            else:
                applications.reject(
                    self.ws, self.risk, loan_id, self.today, "REFERRAL_DECLINED", note="unverified"
                )
                decided.append(f"loan {loan_id} rejected")
        return "; ".join(decided) or "no referral waiting"

    def withdraw(self) -> str:
        waiting = self._ids(LoanStatus.SUBMITTED, LoanStatus.UNDER_REVIEW, LoanStatus.APPROVED)
        if not waiting:
            return "no application to withdraw"
        loan_id = self.rng.choice(waiting)
        applications.withdraw(self.ws, self.ops, loan_id, self.today, note="changed their mind")
        return f"loan {loan_id} withdrawn"

    # --- payouts ------------------------------------------------------------------------------

    def pay_out(self) -> str:
        """The operator pays out up to three approved loans, whatever the gateway does."""
        approved = self._ids(LoanStatus.APPROVED)
        if not approved:
            return "no approved loan"
        chosen = self.rng.sample(approved, min(len(approved), self.rng.randint(1, 3)))
        return "; ".join(self._pay_out_one(loan_id) for loan_id in sorted(chosen))

    def _pay_out_one(self, loan_id: int) -> str:
        fault = self.rng.choice(
            ("none", "none", "none", "none", "decline", "timeout", "timeout_after_paying", "kill")
        )
        if fault == "kill":
            killed = self._in_subprocess(
                "payout", {"action": "disburse", "loan_id": loan_id, "as_of": str(self.today)}
            )
            if not killed:
                return f"loan {loan_id} paid out in a process that was not killed"
            return f"loan {loan_id} killed after the gateway; {self._resume(loan_id)}"
        paid = disbursement.payout_reference(loan_id) in self.gateway.payouts()
        if fault == "decline" and paid and not self.declines_paid:
            # A gateway answers a reference it already paid with the first receipt, so an
            # armed decline would stay armed for the next loan's payout instead
            # (--gateway-declines-paid arms it anyway).
            fault = "none"
        self._arm_gateway(fault)
        try:
            disbursement.disburse(self.ws, self.ops, loan_id, self.today)
        except GatewayError as exc:
            return f"loan {loan_id}: gateway {fault}: {exc.message}"
        except LendflowError as exc:
            return f"loan {loan_id} refused: {exc.message}"
        finally:
            self._arm_gateway("none")
        return f"loan {loan_id} paid out" + ("" if fault == "none" else f" despite {fault}")

    def _arm_gateway(self, fault: str) -> None:
        self.gateway.fail_next = 1 if fault == "decline" else 0
        self.gateway.timeout_next = 1 if fault in ("timeout", "timeout_after_paying") else 0
        self.gateway.pay_before_timeout = fault == "timeout_after_paying"

    def _resume(self, loan_id: int) -> str:
        """The operator resumes a payout whose outcome is unknown (same reference)."""
        try:
            disbursement.disburse(self.ws, self.ops, loan_id, self.today)
        except LendflowError as exc:
            return f"resuming loan {loan_id} refused: {exc.message}"
        return f"loan {loan_id} resumed and paid out"

    def in_flight(self) -> list[int]:
        def read(uow: Any) -> list[int]:
            return [
                loan_id
                for loan_id in loan_store.ids_in_state(uow, LoanStatus.APPROVED.value, 0, 100_000)
                if disbursement.payout_in_flight(uow, loan_id)
            ]

        return run_in_transaction(self.ws.engine, read)

    # --- repayments ---------------------------------------------------------------------------

    def repay(self) -> str:
        loan_id = self._repayable()
        if loan_id is None:
            return "no loan to repay"
        amount, kind = self._amount(loan_id)
        key = self._key("pay")
        return f"loan {loan_id} {kind}: " + self._settle(key, loan_id, amount)

    def repay_twice(self) -> str:
        """The same payment sent twice under one reference; once with another amount."""
        loan_id = self._repayable()
        if loan_id is None:
            return "no loan to repay"
        amount, kind = self._amount(loan_id)
        key = self._key("dup")
        first = self._settle(key, loan_id, amount)
        if self.rng.random() < 0.25:
            try:
                repayments.repay(self.ws, self.ops, loan_id, amount + 100, self.today, key)
            except LendflowError as exc:
                return (
                    f"loan {loan_id} {kind}: {first}; same key, other amount refused: {exc.message}"
                )
            raise StepCrashed(f"loan {loan_id}: key {key} reused for another amount was accepted")
        again = self._settle(key, loan_id, amount)
        return f"loan {loan_id} {kind}: {first}; again: {again}"

    def repay_concurrently(self) -> str:
        """Two payments for one loan at the same moment (two keys, or one key twice).

        Together they pay less than the payoff, so whichever lands first the loan ends the
        same (the waterfall spends a then b as it spends a + b) and the seed replays exactly.
        """
        loan_id = self._repayable(statuses=(LoanStatus.ACTIVE, LoanStatus.OVERDUE))
        if loan_id is None:
            return "no loan to repay"
        payoff = repayments.quote(self.ws, self.ops, loan_id, self.today).total
        same_key = self.rng.random() < 0.3
        if payoff < RACE_MINIMUM:
            return f"loan {loan_id}: {payoff} left, too little to split"
        keys = [self._key("race")] * 2 if same_key else [self._key("race"), self._key("race")]
        amounts = [payoff // 4] * 2 if same_key else [payoff // 4, payoff // 5]
        across = self.rng.random() < 0.5 and hasattr(os, "fork")
        outcomes: list[Any] = [None, None]
        if across:
            self._race_across_processes(loan_id, keys, amounts, outcomes)
        else:
            self._race_in_threads(loan_id, keys, amounts, outcomes)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, LendflowError):
                raise StepCrashed(
                    f"loan {loan_id}: a concurrent repayment broke:"
                    f" {type(outcome).__name__}: {outcome}"
                )
        # whatever each side saw, the operator's resend under the same key tells
        settled = [self._settle(keys[i], loan_id, amounts[i]).split(",")[0] for i in (0, 1)]
        status = self._loan(loan_id)["state"]
        return (
            f"loan {loan_id}, {'one key' if same_key else 'two keys'} at once"
            f" {'from two processes' if across else 'in two threads'}: "
            + " and ".join(settled)
            + f"; now {status}"
        )

    def _race_across_processes(
        self, loan_id: int, keys: list[str], amounts: list[int], outcomes: list[Any]
    ) -> None:
        """This process and a forked one post at the same moment."""
        order = {
            "action": "repay",
            "loan_id": loan_id,
            "amount": amounts[1],
            "as_of": str(self.today),
            "key": keys[1],
        }
        child, crash = self._fork(order, None)
        try:
            outcomes[0] = repayments.repay(
                self.ws, self.ops, loan_id, amounts[0], self.today, keys[0]
            )
        except LendflowError as exc:
            outcomes[0] = exc
        finally:
            self._ended("repay", child, crash)

    def _race_in_threads(
        self, loan_id: int, keys: list[str], amounts: list[int], outcomes: list[Any]
    ) -> None:
        start = threading.Barrier(2)

        def pay(i: int) -> None:
            start.wait()
            try:
                outcomes[i] = repayments.repay(
                    self.ws, self.ops, loan_id, amounts[i], self.today, keys[i]
                )
            except BaseException as exc:  # carried back to the simulator's thread
                outcomes[i] = exc

        threads = [threading.Thread(target=pay, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def repay_backdated(self) -> str:
        """Money that arrived on a day already closed, through the backdated path."""
        loan_id = self._repayable(statuses=(LoanStatus.ACTIVE, LoanStatus.OVERDUE))
        if loan_id is None:
            return "no loan to repay"
        disbursed_on = self._loan(loan_id)["disbursed_on"]
        closed = (self.today - DAY - disbursed_on).days
        if closed < 0:
            return f"loan {loan_id} has no closed day yet"
        value_date = disbursed_on + timedelta(days=self.rng.randint(0, closed))
        amount, kind = self._amount(loan_id)
        key = self._key("late")
        try:
            repayments.repay_backdated(  # type: ignore[attr-defined]
                self.ws, self.ops, loan_id, amount, value_date, key
            )
        except LendflowError as exc:
            self.statement.record(BorrowerPayment(key, loan_id, amount, False, keyed=False))
            return f"loan {loan_id} {kind} value-dated {value_date} refused: {exc.message}"
        self.statement.record(BorrowerPayment(key, loan_id, amount, True, keyed=False))
        return f"loan {loan_id} {kind} value-dated {value_date} posted"

    def repayment_file(self) -> str:
        """A channel's file of today's payments, posted, then posted again."""
        loans = [
            i for i in self._ids(LoanStatus.ACTIVE, LoanStatus.OVERDUE) if not self._defaults(i)
        ]
        if not loans:
            return "no loan to collect for"
        chosen = sorted(self.rng.sample(loans, min(len(loans), self.rng.randint(1, 5))))
        rows = [
            FileRow(self._key("chan"), loan_id, self._amount(loan_id)[0], self.today)
            for loan_id in chosen
        ]
        path = self.place.home / f"channel-{self.seed}-{self.n}.csv"
        write_file(path, rows)
        killed = self.rng.random() < 0.3 and self._in_subprocess(
            "file", {"action": "post_file", "path": str(path), "on": self.today.isoformat()}
        )
        first = post_file(self.ws, self.ops, path, self.today)
        again = post_file(self.ws, self.ops, path, self.today)  # the channel sends it twice
        for outcome in [*first.outcomes, *again.outcomes]:
            self.statement.record(
                BorrowerPayment(outcome.key, outcome.loan_id, outcome.amount, outcome.accepted)
            )
        replays = again.duplicates
        accepted = sum(o.accepted for o in first.outcomes)
        if replays != accepted:
            raise StepCrashed(
                f"file {path.name} posted again: {replays} rows replayed, {accepted} accepted"
            )
        return (
            "killed mid-file, rerun: " if killed else ""
        ) + f"{len(rows)} rows, {accepted} accepted, again {replays} replayed"

    def _settle(self, key: str, loan_id: int, amount: int) -> str:
        """Send a payment (or resend it) under `key` and keep its outcome on the statement."""
        try:
            result = repayments.repay(self.ws, self.ops, loan_id, amount, self.today, key)
        except LendflowError as exc:
            self.statement.record(BorrowerPayment(key, loan_id, amount, False))
            return f"{amount} refused: {exc.message}"
        self.statement.record(BorrowerPayment(key, loan_id, amount, True))
        return f"{amount} {'replayed' if result.replayed else 'posted'}, {result.status.value}"

    def _amount(self, loan_id: int) -> tuple[int, str]:
        """What the borrower pays: what is due, part of it, the payoff, or a bit more."""
        kind = self.rng.choice(("due", "due", "due", "part", "payoff", "over"))
        due = self._owed(loan_id, self.today) or self._next_instalment(loan_id)
        if kind == "part":
            return max(100, due * self.rng.randint(10, 90) // 100), kind
        if kind == "over":
            return due + self.rng.randint(1, 50) * 100, kind
        if kind == "payoff":
            loan = self._loan(loan_id)
            if loan["state"] in (LoanStatus.ACTIVE, LoanStatus.OVERDUE):
                return repayments.quote(self.ws, self.ops, loan_id, self.today).total, kind
        return max(due, 100), kind

    def _owed(self, loan_id: int, through: date) -> int:
        total = 0
        for row in self._instalments(loan_id):
            if row["due_date"] <= through:
                owed = InstalmentState.from_row(row).owed()
                total += owed.principal + owed.interest + owed.fee + owed.penalty
        return total

    def _next_instalment(self, loan_id: int) -> int:
        later = [r for r in self._instalments(loan_id) if r["due_date"] > self.today]
        return self._owed(loan_id, later[0]["due_date"]) if later else 10_000

    # --- close of business -------------------------------------------------------------------

    def close_days(self) -> str:
        """Close the open date and maybe a few more, day by day; now and then killed inside a
        chunk and rerun by the operator."""
        days = self.rng.choice((1, 1, 2, 3, 5, 7, 10, 14))
        first, last = self.today, self.today + timedelta(days=days - 1)
        self._set_real_date(last + DAY)  # the batch runs the morning after
        killed = False
        if self.rng.random() < 0.15:
            order = {
                "action": "close",
                "first": str(first),
                "last": str(last),
                "chunk_size": COB_CHUNK,
                "notices": self.notices,
            }
            killed = self._in_subprocess("close", order, hit=self.rng.randint(1, 3))
        for lo, hi in id_ranges(self.ws, self.cob.chunk_size):
            close_range(self.ws, lo, hi, first, last, COB_ACTOR, self.cob)
        self.today = last + DAY
        return ("killed inside a chunk, rerun: " if killed else "") + f"closed {first} to {last}"

    # --- helpers ------------------------------------------------------------------------------

    def _in_subprocess(self, kind: str, order: dict[str, Any], hit: int = 1) -> bool:
        """Run `order` in a child process armed to die at the step's fault point; whether it
        died there.

        A point the code never reaches lets the step complete normally; a refusal is the
        same refusal the operator's rerun will meet. The child is forked (it starts in
        milliseconds with everything imported) and opens the book afresh; it never touches
        this process's connections and leaves by `os._exit`, so nothing of ours is closed.
        """
        point = f"{KILL_POINTS[kind]}@{hit}"
        if not hasattr(os, "fork"):
            return self._in_fresh_interpreter(kind, order, point)
        child, crash = self._fork(order, point)
        return self._ended(kind, child, crash) == KILLED_EXIT_CODE

    def _fork(self, order: dict[str, Any], point: str | None) -> tuple[int, Path]:
        """Start `order` in a forked child (armed at `point`, if any): its pid, and the file
        it writes an unexpected error to."""
        order = {**order, "home": str(self.place.home), "database_url": self.place.database_url}
        self.forks += 1
        crash = self.place.home / f"crash-{self.forks}.txt"
        child = os.fork()
        if child == 0:  # pragma: no cover - the child's coverage is not collected
            os._exit(_child(order, point, crash))
        return child, crash

    def _ended(self, kind: str, child: int, crash: Path) -> int:
        """Wait for the child: 0 done, 1 refused by a business rule, 137 killed at its point;
        anything else is a crash and ends the seed."""
        code = _wait(child, kind)
        if code in (0, worker.REFUSED_EXIT_CODE, KILLED_EXIT_CODE):
            return code
        said = crash.read_text(encoding="utf-8") if crash.exists() else ""
        raise StepCrashed(f"{kind} step process exited {code}: {said.strip()[-2000:]}")

    def _in_fresh_interpreter(self, kind: str, order: dict[str, Any], point: str) -> bool:
        order = {**order, "home": str(self.place.home), "database_url": self.place.database_url}
        env = {**os.environ, FAULT_ENV: point}
        done = subprocess.run(
            [sys.executable, "-m", "lendflow.sandbox.torture.worker", json.dumps(order)],
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode in (0, worker.REFUSED_EXIT_CODE):
            return False
        if done.returncode == KILLED_EXIT_CODE:
            return True
        raise StepCrashed(
            f"{kind} step process exited {done.returncode}: {done.stderr.strip()[-2000:]}"
        )

    def _set_real_date(self, today: date) -> None:
        """The real date the workspace's clock may read (LENDFLOW_TODAY)."""
        os.environ[TODAY_ENV] = today.isoformat()
        if "today" in type(self.ws.settings).model_fields:
            self.ws.settings = self.ws.settings.model_copy(update={"today": today})
            self.ws.__dict__.pop("clock", None)  # a clock made from the old settings

    def _key(self, what: str) -> str:
        self.serial += 1
        return f"t{self.seed}-{what}-{self.serial}"

    def _ids(self, *statuses: LoanStatus) -> list[int]:
        return sorted(i for s in statuses for i in ids_in_state(self.ws, self.ops, s.value))

    def _repayable(
        self,
        statuses: tuple[LoanStatus, ...] = (
            LoanStatus.ACTIVE,
            LoanStatus.OVERDUE,
            LoanStatus.WRITTEN_OFF,
        ),
    ) -> int | None:
        written_off = set(self._ids(LoanStatus.WRITTEN_OFF))
        loans = [
            loan_id
            for loan_id in self._ids(*statuses)
            if loan_id in written_off or not self._defaults(loan_id)
        ]
        return self.rng.choice(loans) if loans else None

    def _defaults(self, loan_id: int) -> bool:
        """One borrower in four stops paying: the loan falls overdue and is written off
        (and may pay something back later, as a recovery)."""
        return (loan_id * 7 + self.seed) % 4 == 0

    def _loan(self, loan_id: int) -> dict[str, Any]:
        return run_in_transaction(self.ws.engine, lambda uow: loan_store.get(uow, loan_id))

    def _instalments(self, loan_id: int) -> list[dict[str, Any]]:
        return run_in_transaction(self.ws.engine, lambda uow: loan_store.instalments(uow, loan_id))


def _wait(child: int, kind: str) -> int:
    """The child's exit code; a child still running after the step's time limit is killed
    and the step reported as hung."""
    waited = 0.0
    while waited < STEP_TIMEOUT_SECONDS:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
        waited += 0.005
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    raise StepCrashed(f"{kind} step process hung for {STEP_TIMEOUT_SECONDS} s and was killed")


def _child(order: dict[str, Any], point: str | None, crash: Path) -> int:  # pragma: no cover
    """The forked child's whole life: arm the fault point, carry out the order, say how it
    ended (an unexpected error is written to `crash` for the parent's report)."""
    if point is None:
        os.environ.pop(FAULT_ENV, None)
    else:
        os.environ[FAULT_ENV] = point
    try:
        worker.run(order)
    except LendflowError:
        return worker.REFUSED_EXIT_CODE
    except BaseException:
        crash.write_text(traceback.format_exc(), encoding="utf-8")
        return CRASHED_EXIT_CODE
    return 0
