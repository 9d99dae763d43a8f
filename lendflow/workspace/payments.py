"""The payment-gateway port and its sandbox adapter.

A real gateway deduplicates payouts by the merchant's reference; lendflow
sends one reference per loan ("LF-<loan id>"), so a retried or replayed
disbursement can never pay twice, even when a timeout left the first attempt's
outcome unknown.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lendflow.domain.errors import LendflowError

SANDBOX_MODE_ENV = "LENDFLOW_SANDBOX_GATEWAY"


class GatewayError(LendflowError):
    """The gateway did not pay. `transient` errors may be retried with the same reference."""

    exit_code = 1

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class PayoutReceipt:
    reference: str
    gateway_ref: str
    amount: int


class PaymentGateway(Protocol):
    def pay_out(self, reference: str, amount: int, customer_id: int) -> PayoutReceipt:
        """Pay `amount` fen to the customer once per `reference`."""
        ...


class SandboxGateway:
    """A gateway stand-in that keeps its payouts in its own SQLite file.

    It behaves like a real one where it matters: a reference is paid at most
    once, and a repeated request returns the first receipt. It can be told to
    decline or time out (`fail_next`, `timeout_next`, or the environment
    variable LENDFLOW_SANDBOX_GATEWAY=decline|timeout), and a timeout can happen
    after the money left (`pay_before_timeout`), as real timeouts do.
    """

    def __init__(
        self,
        path: Path,
        *,
        fail_next: int = 0,
        timeout_next: int = 0,
        pay_before_timeout: bool = False,
    ) -> None:
        self.path = path
        self.fail_next = fail_next
        self.timeout_next = timeout_next
        self.pay_before_timeout = pay_before_timeout
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS payouts (reference TEXT PRIMARY KEY,"
                " amount INTEGER NOT NULL, customer_id INTEGER NOT NULL)"
            )

    def pay_out(self, reference: str, amount: int, customer_id: int) -> PayoutReceipt:
        mode = os.environ.get(SANDBOX_MODE_ENV, "ok")
        with self._lock:
            paid_before = self._db.execute(
                "SELECT amount FROM payouts WHERE reference = ?", (reference,)
            ).fetchone()
            if paid_before is not None:  # the first receipt, whatever else it was told
                return PayoutReceipt(reference, f"SBX-{reference}", paid_before[0])
            if self.fail_next or mode == "decline":
                self.fail_next = max(self.fail_next - 1, 0)
                raise GatewayError("payout declined by the gateway (sandbox)", transient=False)
            timing_out = bool(self.timeout_next) or mode == "timeout"
            if timing_out and not self.pay_before_timeout:
                self.timeout_next = max(self.timeout_next - 1, 0)
                raise GatewayError("payment gateway timed out (sandbox)", transient=True)
            with self._db as db:
                db.execute(
                    "INSERT OR IGNORE INTO payouts VALUES (?, ?, ?)",
                    (reference, amount, customer_id),
                )
                paid = db.execute(
                    "SELECT amount FROM payouts WHERE reference = ?", (reference,)
                ).fetchone()[0]
            if timing_out:
                self.timeout_next = max(self.timeout_next - 1, 0)
                raise GatewayError(
                    "payment gateway timed out after paying (sandbox)", transient=True
                )
            return PayoutReceipt(reference, f"SBX-{reference}", paid)

    def payouts(self) -> dict[str, int]:
        """Everything the sandbox has paid, by reference (for tests and reconciliation)."""
        with self._lock:
            return dict(self._db.execute("SELECT reference, amount FROM payouts").fetchall())
