"""Read-only queries for plain commands, straight through the database driver.

`lendflow loan show` must start and answer within 0.8 s as a fresh process, and
importing SQLAlchemy alone takes most of that on a small machine. So the few
reads a plain command needs go through sqlite3 or psycopg directly, with the
same column names as `tables.py` (a test holds the two lists equal). Anything
that writes uses the SQLAlchemy store.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from lendflow.domain.accrual import through_mark
from lendflow.domain.errors import BadInput, NotFound
from lendflow.store.schema_version import HEAD_REVISION

LOAN_COLUMNS = (
    "id", "customer_id", "product_code", "product_version_id", "state", "purpose",
    "requested_amount", "approved_amount", "principal", "term", "annual_rate", "apr", "method",
    "applied_on", "reviewed_on", "decided_on", "approval_expires_on", "disbursed_on",
    "maturity_on", "closed_on", "reason_code", "decision_note", "principal_outstanding",
    "interest_receivable", "fee_receivable", "penalty_receivable", "credit_balance",
    "written_off_amount", "principal_days", "overdue_principal_days", "dpd", "bucket",
    "classification", "own_classification", "cob_through",
    "risk_grade", "version", "accelerated_on", "restructured_on", "restructure_count",
    "accrual_start", "accrual_days", "accrual_interest", "accrual_waived", "interest_accrued",
    "accrual_income", "non_accrual_since", "interest_suspended", "penalty_suspended", "held_since",
    "follows_from",
)  # fmt: skip
INSTALMENT_COLUMNS = (
    "id", "loan_id", "n", "due_date", "principal", "interest", "fee", "penalty",
    "principal_paid", "interest_paid", "fee_paid", "penalty_paid", "interest_waived",
    "fee_waived", "recognised", "paid_on", "upfront_share",
)  # fmt: skip
CUSTOMER_COLUMNS = ("id", "name_enc", "national_id_enc", "phone_enc", "id_hash")
DECISION_COLUMNS = (
    "id", "loan_id", "role", "decided_on", "actor", "outcome", "scorecard", "scorecard_version",
    "decision_table", "decision_table_version", "score", "probability_of_default", "risk_grade",
    "approved_amount", "annual_rate", "reasons", "detail", "note",
)  # fmt: skip
DATE_COLUMNS = frozenset(
    {
        "applied_on", "reviewed_on", "decided_on", "approval_expires_on", "disbursed_on",
        "maturity_on", "closed_on", "cob_through", "due_date", "paid_on", "accelerated_on",
        "restructured_on", "non_accrual_since", "held_since",
    }
)  # fmt: skip


def _json_rows(table: str, columns: tuple[str, ...], order: str) -> str:
    """A subquery giving the loan's rows of `table` as one JSON array, in `order`."""
    picked = ", ".join(f"x.{c}" for c in columns)
    return (
        f"(SELECT json_agg(r ORDER BY r.{order}) FROM (SELECT {picked} FROM {table} x"
        f" WHERE x.loan_id = l.id) r)"
    )


# The close-of-business mark a loan follows (`store.cob_marks`), by the loan's id.
_MARK_SQL = "SELECT m.through FROM cob_marks m WHERE m.lo <= ? AND m.hi >= ?"

_LOAN_VIEW_SQL = (
    f"SELECT {', '.join(f'l.{c}' for c in LOAN_COLUMNS)},"
    f" {', '.join(f'c.{c}' for c in CUSTOMER_COLUMNS)},"
    f" {_json_rows('instalments', INSTALMENT_COLUMNS, 'n')},"
    f" {_json_rows('credit_decisions', DECISION_COLUMNS, 'id')},"
    f" ({_MARK_SQL.replace('?', 'l.id')})"
    " FROM loans l LEFT JOIN customers c ON c.id = l.customer_id WHERE l.id = %s"
)


def _typed(record: dict[str, Any]) -> dict[str, Any]:
    """A row read back from JSON: its dates as dates again (JSON has only text for them)."""
    for name in DATE_COLUMNS.intersection(record):
        if isinstance(record[name], str):
            record[name] = date.fromisoformat(record[name])
    return record


def _current(loan: dict[str, Any], through: date | str | None) -> dict[str, Any]:
    """A following loan's row through its mark, read as the driver returned it."""
    when = date.fromisoformat(through) if isinstance(through, str) else through
    return through_mark(loan, when)


class Reader:
    """One read-only connection to the workspace's database.

    `connection` is a DBAPI connection to borrow instead of opening one (a long-lived
    process lends its pool's); closing the reader hands it back. A borrowed connection
    comes from an engine opened at the schema this code expects (`open_at_head`), so
    the schema is not asked again on every request."""

    def __init__(self, url: str, connection: Any | None = None) -> None:
        self._autocommit_lent = False
        if connection is not None:
            self._db = connection
            self._sqlite = url.startswith("sqlite")
            self._marker = "?" if self._sqlite else "%s"
            if not self._sqlite:
                # Statements outside a transaction: under READ COMMITTED each one sees its
                # own snapshot either way, and this saves the BEGIN and the ROLLBACK, two
                # of a request's round trips. Put back before the pool has it again.
                connection.driver_connection.autocommit = True
                self._autocommit_lent = True
            return
        if url.startswith("sqlite:///"):
            import sqlite3

            self._db: Any = sqlite3.connect(
                f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True
            )
            self._marker = "?"
            self._sqlite = True
        elif url.startswith(("postgresql+psycopg://", "postgresql://")):
            import psycopg

            self._db = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
            self._marker = "%s"
            self._sqlite = False
        else:
            raise BadInput(f"unsupported database URL {url.split(':', 1)[0]!r}")
        self._check_schema()

    def _check_schema(self) -> None:
        found = self._rows("SELECT version_num FROM alembic_version", ())
        revision = found[0][0] if found else None
        if revision != HEAD_REVISION:
            raise BadInput(
                f"the database is at schema {revision or 'none'}, this lendflow needs"
                f" {HEAD_REVISION}: run `lendflow init` to migrate it"
            )

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        cursor = self._db.execute(sql.replace("?", self._marker), params)
        return list(cursor.fetchall())

    def _dicts(
        self, table: str, columns: tuple[str, ...], where: str, params: tuple[Any, ...]
    ) -> list[dict[str, Any]]:
        sql = f"SELECT {', '.join(columns)} FROM {table} WHERE {where}"
        out = []
        for row in self._rows(sql, params):
            record = dict(zip(columns, row, strict=True))
            if self._sqlite:
                for name in DATE_COLUMNS.intersection(record):
                    if isinstance(record[name], str):
                        record[name] = date.fromisoformat(record[name])
                if "recognised" in record:
                    record["recognised"] = bool(record["recognised"])
            out.append(record)
        return out

    def loan(self, loan_id: int) -> dict[str, Any]:
        """The loan's row, with the figures it has through its range's mark if it follows
        one (`store.cob_marks.current`)."""
        found = self._dicts("loans", LOAN_COLUMNS, "id = ?", (loan_id,))
        if not found:
            raise NotFound(f"loan {loan_id} does not exist")
        loan = found[0]
        if loan["follows_from"] is None:
            return loan
        marks = self._rows(_MARK_SQL, (loan_id, loan_id))
        return _current(loan, marks[0][0] if marks else None)

    def instalments(self, loan_id: int) -> list[dict[str, Any]]:
        rows = self._dicts("instalments", INSTALMENT_COLUMNS, "loan_id = ?", (loan_id,))
        return sorted(rows, key=lambda r: r["n"])

    def customer(self, customer_id: int) -> dict[str, Any]:
        found = self._dicts("customers", CUSTOMER_COLUMNS, "id = ?", (customer_id,))
        if not found:
            raise NotFound(f"customer {customer_id} does not exist")
        return found[0]

    def decisions(self, loan_id: int) -> list[dict[str, Any]]:
        """The loan's credit decisions in the order they were made (JSON fields as text)."""
        rows = self._dicts("credit_decisions", DECISION_COLUMNS, "loan_id = ?", (loan_id,))
        return sorted(rows, key=lambda r: r["id"])

    def loan_view(
        self, loan_id: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
        """The loan, its instalments, its borrower's row and its credit decisions: what
        `loan show` presents.

        On PostgreSQL in one statement (the instalments and decisions as JSON arrays of
        their rows, every column an integer, text, date or flag, so none passes through
        a float): the API serves this on every loan read, and each round trip costs the
        server and the database more than the read itself. On SQLite, in the same
        process, four plain reads cost less than building and parsing the JSON."""
        if self._sqlite:
            loan = self.loan(loan_id)
            customer = self.customer(loan["customer_id"])
            return loan, self.instalments(loan_id), customer, self.decisions(loan_id)
        found = self._rows(_LOAN_VIEW_SQL, (loan_id,))
        if not found:
            raise NotFound(f"loan {loan_id} does not exist")
        row = found[0]
        width = len(LOAN_COLUMNS)
        loan = dict(zip(LOAN_COLUMNS, row[:width], strict=True))
        if loan["follows_from"] is not None:
            loan = _current(loan, row[-1])
        if row[width] is None:
            raise NotFound(f"customer {loan['customer_id']} does not exist")
        customer = dict(
            zip(CUSTOMER_COLUMNS, row[width : width + len(CUSTOMER_COLUMNS)], strict=True)
        )
        instalments, decisions = (
            [_typed(record) for record in (found_json or [])] for found_json in row[-3:-1]
        )
        return loan, instalments, customer, decisions

    def key_fingerprint(self) -> str | None:
        """The fingerprint of the key that sealed this database (see store.keys)."""
        found = self._rows("SELECT fingerprint FROM workspace_keys WHERE state = ?", ("current",))
        return str(found[0][0]) if found else None

    def user(self, name: str) -> tuple[str, bool] | None:
        """A user's roles (as stored, comma-separated) and disabled flag, or None."""
        found = self._rows("SELECT roles, disabled FROM users WHERE name = ?", (name,))
        return (str(found[0][0]), bool(found[0][1])) if found else None

    def token(self, token_hash: str) -> dict[str, Any] | None:
        """The API token with this hash and its owner's name, roles and disabled flag.

        A plain read: a request checks its token on every call, and inside a write
        transaction that would queue every reader behind SQLite's one writer."""
        return self._credential("api_tokens", "token_hash", token_hash, "last_used_at")

    def session(self, session_hash: str) -> dict[str, Any] | None:
        """The console session with this hash and its user's name, roles and flag."""
        return self._credential("console_sessions", "session_hash", session_hash, "last_seen_at")

    def _credential(
        self, table: str, hash_column: str, digest: str, used: str
    ) -> dict[str, Any] | None:
        found = self._rows(
            f"SELECT c.id, c.revoked_at, c.expires_at, c.{used}, u.name, u.roles, u.disabled"
            f" FROM {table} c JOIN users u ON u.id = c.user_id WHERE c.{hash_column} = ?",
            (digest,),
        )
        if not found:
            return None
        names = ("id", "revoked_at", "expires_at", used, "user_name", "user_roles")
        record = dict(zip(names, found[0][:6], strict=True))
        record["user_disabled"] = bool(found[0][6])
        for name in ("revoked_at", "expires_at", used):
            if isinstance(record[name], str):
                record[name] = datetime.fromisoformat(record[name])
        return record

    def last_closed(self) -> date | None:
        """The latest business date a recorded close-of-business run closed, if any."""
        found = self._rows("SELECT max(to_date) FROM cob_runs", ())
        value = found[0][0] if found else None
        return date.fromisoformat(value) if isinstance(value, str) else value

    def has_users(self) -> bool:
        """Whether the database keeps the directory yet (`lendflow init` seeds it)."""
        return bool(self._rows("SELECT 1 FROM users LIMIT 1", ()))

    def close(self) -> None:
        if self._autocommit_lent:
            self._db.driver_connection.autocommit = False
        self._db.close()
