"""Stored tables, each declared once as a SQLModel class. Money columns are BIGINT fen.

SQLite has no decimal type (a `Numeric` column goes through float there), so
rates are stored as canonical decimal text and parsed back with `Decimal`.

Every field names its column type (`sa_type`) instead of leaving it to SQLModel's
inference, which would make strings unbounded `AutoString`, money `INTEGER` and
timestamps its own `UTCDateTime`: strings keep their lengths (`TEXT` where long),
money is `BigInteger`, timestamps are `DateTime(timezone=True)`. Python-side defaults
(0 fen for money, `utc_now` for audit timestamps) are the fields' defaults and so the
columns'. The classes share one `metadata` of their own, not SQLModel's global one:
the migrations are compared with it.

The service layer works in Core statements throughout: the module-level names
(`loans = Loan.__table__`, ...) are the classes' tables, and the hot paths compile
their statements against them as before.

The cost is paid on import: this module now also imports `sqlalchemy.orm`, pydantic
and SQLModel, and maps 25 classes. Measured with sqlmodel 0.0.50 (a fresh process,
CPU time, best of 15): 0.38 s instead of 0.19 s with plain Core tables, and 0.16 s
instead of 0.03 s where SQLAlchemy and pydantic are loaded already, as in the commands
that write (`sqlalchemy.orm` some 0.06 s of it, SQLModel 0.05 s, the classes 0.06 s).
A plain read such as `lendflow loan show` does not pay it: it reads through
`store/reads.py`, and neither this module nor SQLModel is imported on its way
(tests/cli/test_read_path_imports.py).
"""

# No `from __future__ import annotations` here: pydantic would evaluate every field's
# annotation from its string while building the classes, some 8 ms more on import.
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class StoredTable(SQLModel, registry=registry(metadata=MetaData())):
    """Base of the stored tables: their own registry and metadata, not SQLModel's global.

    Their pydantic validators are built only if ever used (`defer_build`): the store
    works in Core statements, and building them for every table on import costs time.
    """

    model_config = ConfigDict(defer_build=True)


metadata = StoredTable.metadata


def utc_now() -> datetime:
    """Wall-clock UTC, for audit timestamps only — never for business dates."""
    return datetime.now(UTC)


def _id() -> Any:
    """An integer primary key the database assigns."""
    return Field(default=None, primary_key=True)


def _str(length: int, default: Any = ..., **column: Any) -> Any:
    """VARCHAR(length); required unless given a default."""
    if default is ...:
        return Field(sa_type=String(length), **column)
    return Field(default=default, sa_type=String(length), **column)


def _text(default: Any = ...) -> Any:
    """TEXT; required unless given a default."""
    if default is ...:
        return Field(sa_type=Text)
    return Field(default=default, sa_type=Text)


def _money(nullable: bool = False) -> Any:
    """BIGINT fen: 0 unless set, or NULL when the amount may be unknown."""
    return Field(default=None if nullable else 0, sa_type=BigInteger)


def _moment(default: Any = ...) -> Any:
    """A timestamp with its time zone; required unless given a default."""
    if default is ...:
        return Field(sa_type=DateTime(timezone=True))
    return Field(default=default, sa_type=DateTime(timezone=True))


def _stamp() -> Any:
    """A timestamp with its time zone, `utc_now()` unless set: for audit only."""
    return Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


def _table(model: type[StoredTable]) -> Table:
    """The class's table, for Core statements."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


class Product(StoredTable, table=True):
    __tablename__ = "products"

    code: str = _str(64, primary_key=True)
    name: str = _str(200)
    created_at: datetime = _stamp()


class ProductVersion(StoredTable, table=True):
    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_code", "version", name="uq_product_version"),)

    id: int | None = _id()
    product_code: str = _str(64, foreign_key="products.code", index=True)
    version: int
    state: str = _str(32, index=True)
    # A version created in the lifecycle has no spec until its design passes the gate.
    spec_yaml: str | None = _text(None)
    spec_sha256: str | None = _str(64, None)
    min_amount: int | None = _money(nullable=True)
    max_amount: int | None = _money(nullable=True)
    annual_rate: str | None = _str(32, None)
    # The successful stage run waiting at the gate of the stage the version is in.
    gate_run_id: int | None = None
    row_version: int = 1
    created_by: str = _str(64)
    created_at: datetime = _stamp()


# A borrower. Name, national ID and phone are stored only encrypted; the keyed
# hashes find duplicates without keeping the clear values.
class Customer(StoredTable, table=True):
    __tablename__ = "customers"

    id: int | None = _id()
    name_enc: str = _text()
    national_id_enc: str = _text()
    phone_enc: str = _text()
    id_hash: str = _str(64, unique=True)
    phone_hash: str = _str(64, index=True)
    monthly_income: int = _money()
    created_at: datetime = _stamp()


# A loan from application to its end; its balances are what the ledger says.
class Loan(StoredTable, table=True):
    __tablename__ = "loans"

    id: int | None = _id()
    customer_id: int = Field(foreign_key="customers.id", index=True)
    product_code: str = _str(64, index=True)
    product_version_id: int = Field(foreign_key="product_versions.id", index=True)
    state: str = _str(32)  # indexed with the id: `ix_loans_state` below
    purpose: str = _str(64, "")
    requested_amount: int = _money()
    approved_amount: int | None = _money(nullable=True)
    principal: int = _money()
    term: int
    annual_rate: str = _str(32)
    apr: str | None = _str(32, None)
    method: str = _str(32)
    applied_on: date
    reviewed_on: date | None = None
    decided_on: date | None = None
    approval_expires_on: date | None = None
    disbursed_on: date | None = None
    maturity_on: date | None = None
    closed_on: date | None = None
    reason_code: str | None = _str(64, None)
    decision_note: str | None = _text(None)
    principal_outstanding: int = _money()
    interest_receivable: int = _money()
    fee_receivable: int = _money()
    penalty_receivable: int = _money()
    credit_balance: int = _money()
    written_off_amount: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    principal_days: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    """Fen-days of principal outstanding, one day's balance added at each close of
    business: the base the all-in charges cap accrues on (`policy.ChargesCap`)."""
    overdue_principal_days: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    """Fen-days of principal past due, the day's added at each close of business that
    finds any: the cap's stricter base (`ChargesCap.base: overdue_principal`)."""
    dpd: int = 0
    held_since: date | None = None
    """A non-performing loan whose arrears were paid on this date keeps its class until
    the evidence is in (`domain.classification`); None when it is not held."""
    bucket: str = _str(16, "M0")
    classification: str = _str(32, "normal")
    own_classification: str | None = _str(32, None)
    """The class the loan's own evidence gives, kept while the borrower-level rule
    (`policy.classification.borrower_worst_class`) gives it a worse one; None otherwise."""
    cob_through: date | None = None
    risk_grade: str | None = _str(8, None)
    version: int = 1
    created_at: datetime = _stamp()
    updated_at: datetime = _stamp()
    # Declared due early: every instalment not yet due fell due on this date.
    accelerated_on: date | None = None
    # The last restructure (a new schedule for the balance), and how many there were.
    restructured_on: date | None = None
    restructure_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Accrual (`domain.accrual`, revision 0024). The running period close of business
    # accrues (its first day as a day number, its length, interest and interest waived;
    # no start: nothing accrues) and what it has accrued of it through `cob_through`.
    accrual_start: int | None = None
    accrual_days: int | None = None
    accrual_interest: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    accrual_waived: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    interest_accrued: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    accrual_income: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    """Interest close of business has accrued to income for the loan, ever: reprocessing
    takes back what it accrued from the value date on (its entries name no loan)."""
    non_accrual_since: date | None = None
    """The day the loan stopped accruing to income (its class reached the policy's
    `non_accrual.from_class`); None while it accrues."""
    interest_suspended: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    penalty_suspended: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    follows_from: int | None = None
    """While the loan follows its id range's close-of-business mark (`cob_marks`, revision
    0030): the day number its stored `cob_through`, `principal_days`, `interest_accrued`
    and `accrual_income` are as of, the mark saying how far they have gone since
    (`store.cob_marks`); None while the row's own figures are current."""


# One scheduled instalment and what has been paid, waived or recognised of it.
class Instalment(StoredTable, table=True):
    __tablename__ = "instalments"
    # (loan id, number) serves every read by loan too: no index on the loan id alone (0032)
    __table_args__ = (UniqueConstraint("loan_id", "n", name="uq_instalment_n"),)

    id: int | None = _id()
    loan_id: int = Field(foreign_key="loans.id")
    n: int
    due_date: date
    principal: int = _money()
    interest: int = _money()
    fee: int = _money()
    penalty: int = _money()
    principal_paid: int = _money()
    interest_paid: int = _money()
    fee_paid: int = _money()
    penalty_paid: int = _money()
    interest_waived: int = _money()
    fee_waived: int = _money()
    recognised: bool = False
    paid_on: date | None = None
    upfront_share: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    """The part of the loan's upfront fee earned over this instalment's period, released
    from deferred fee income when it falls due (`domain.accrual.upfront_shares`)."""


instalments = _table(Instalment)
# Close of business reads instalments falling due (and any left behind) by date and id
# range; no other read goes by date, so no index holds every instalment by it (0033).
Index(
    "ix_instalments_unrecognised",
    instalments.c.due_date,
    instalments.c.loan_id,
    sqlite_where=text("recognised = 0"),
    postgresql_where=text("recognised = false"),
)
# Close of business reads arrears per loan id range: open instalments already fallen
# due (recognised), a small part of the open ones on a book of current loans.
Index(
    "ix_instalments_arrears",
    instalments.c.loan_id,
    instalments.c.due_date,
    sqlite_where=text("paid_on IS NULL AND recognised = 1"),
    postgresql_where=text("paid_on IS NULL AND recognised = true"),
)


# One balanced money movement; its lines are in journal_lines.
class JournalEntry(StoredTable, table=True):
    __tablename__ = "journal_entries"

    id: int | None = _id()
    loan_id: int | None = Field(default=None, foreign_key="loans.id", index=True)
    kind: str = _str(32)
    business_date: date
    idempotency_key: str | None = _str(128, None, unique=True)
    actor: str = _str(64)
    memo: str = _str(200, "")
    created_at: datetime = _stamp()
    reversal_of: int | None = None  # the entry this one reverses (indexed where set, below)


class RepaymentReversal(StoredTable, table=True):
    """A repayment someone asked to reverse, and who approved it (four eyes)."""

    __tablename__ = "repayment_reversals"

    id: int | None = _id()
    loan_id: int = Field(foreign_key="loans.id", index=True)
    reference: str = _str(128)  # the repayment's idempotency key
    reason: str = _str(200)
    status: str = _str(16)  # pending, reversed
    asked_by: str = _str(64)
    asked_on: date
    decided_by: str | None = _str(64, None)
    decided_on: date | None = None
    created_at: datetime = _stamp()


class LoanRequest(StoredTable, table=True):
    """A loan action one person asked for and another approves (four eyes): a waiver,
    an acceleration, a restructure. `payload` is the action's JSON (amounts in fen)."""

    __tablename__ = "loan_requests"

    id: int | None = _id()
    kind: str = _str(32)  # waive | accelerate | restructure
    loan_id: int = Field(foreign_key="loans.id", index=True)
    payload: str = _text()
    asked_by: str = _str(64)
    asked_on: date
    status: str = _str(16)  # pending, approved, declined
    decided_by: str | None = _str(64, None)
    decided_on: date | None = None
    created_at: datetime = _stamp()


class ScheduleVersion(StoredTable, table=True):
    """One version of a loan's repayment schedule, kept whole when a recalculation (a
    partial prepayment) replaces it: version 1 is the schedule as it stood before the
    first change, each later one what a change left. `rows` is the JSON list of
    [n, due date, principal, interest, fee]; `instalments` always holds the latest."""

    __tablename__ = "schedule_versions"
    __table_args__ = (UniqueConstraint("loan_id", "version", name="uq_schedule_version"),)

    id: int | None = _id()
    loan_id: int = Field(foreign_key="loans.id", index=True)
    version: int
    effective_on: date
    reason: str = _str(32)  # payout (the schedule before the first change) | prepayment
    method: str | None = _str(32, None)  # reduce_instalment | reduce_term
    amount: int = _money()  # principal prepaid (0 for version 1)
    interest: int = _money()  # interest of the whole schedule
    rows: str = _text()
    created_at: datetime = _stamp()


class Refund(StoredTable, table=True):
    """A credit balance paid back to the borrower through the gateway, under the
    refund's own reference (the gateway pays a reference once)."""

    __tablename__ = "refunds"

    id: int | None = _id()
    loan_id: int = Field(foreign_key="loans.id", index=True)
    reference: str = _str(128, unique=True)
    amount: int = _money()
    status: str = _str(16)  # pending, paid, failed
    gateway_ref: str | None = _str(128, None)
    attempts: int = 0
    requested_on: date
    requested_by: str = _str(64)
    last_error: str | None = _str(200, None)
    created_at: datetime = _stamp()
    updated_at: datetime = _stamp()


class JournalLine(StoredTable, table=True):
    __tablename__ = "journal_lines"

    id: int | None = _id()
    entry_id: int = Field(foreign_key="journal_entries.id", index=True)
    loan_id: int | None = Field(default=None, index=True)
    account: str = _str(32)  # no index: nothing reads by account alone
    debit: int = _money()
    credit: int = _money()


# Append-only audit trail, hash-chained; customers appear by id only.
class Event(StoredTable, table=True):
    __tablename__ = "events"

    id: int | None = _id()
    entity: str = _str(32)
    entity_id: str = _str(64, index=True)
    name: str = _str(64)
    trigger: str | None = _str(32, None)
    from_state: str | None = _str(32, None)
    to_state: str | None = _str(32, None)
    actor: str = _str(64)
    business_date: date
    recorded_at: datetime = _moment()
    payload: str = _text()
    prev_hash: str = _str(64)
    hash: str = _str(64)  # not indexed: each covers the one before it (migration 0031)


# The newest event's hash: one row, locked by every writer to keep one chain.
class EventChain(StoredTable, table=True):
    __tablename__ = "event_chain"

    id: int | None = _id()
    last_event_id: int
    last_hash: str = _str(64)
    # Events from this id on are keyed (HMAC-SHA256); older ones kept plain SHA-256.
    keyed_from: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


# The first answer to a money-moving request, returned again on replay.
class IdempotencyRecord(StoredTable, table=True):
    __tablename__ = "idempotency_records"

    key: str = _str(128, primary_key=True)
    operation: str = _str(32)
    request_hash: str = _str(64)
    loan_id: int | None = None
    response: str = _text()
    created_at: datetime = _stamp()


# A disbursement sent to the payment gateway, by a reference it deduplicates on.
class Payout(StoredTable, table=True):
    __tablename__ = "payouts"

    id: int | None = _id()
    loan_id: int = Field(foreign_key="loans.id", index=True)
    reference: str = _str(128, unique=True)
    amount: int = _money()
    status: str = _str(16)
    gateway_ref: str | None = _str(128, None)
    attempts: int = 0
    requested_on: date | None = None
    last_error: str | None = _str(200, None)
    created_at: datetime = _stamp()
    updated_at: datetime = _stamp()


# A collection notice due at a days-past-due milestone, once per loan and milestone.
class Notice(StoredTable, table=True):
    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("loan_id", "kind", "dpd", name="uq_notice_milestone"),)

    id: int | None = _id()
    loan_id: int = Field(foreign_key="loans.id", index=True)
    business_date: date
    dpd: int
    kind: str = _str(32)
    document_sha256: str | None = _str(64, None)
    created_at: datetime = _stamp()


# What the applicant told us beyond personal data, kept per application: the facts a
# credit decision was made on must not change when the customer's record does.
class ApplicantFacts(StoredTable, table=True):
    __tablename__ = "applicant_facts"

    loan_id: int = Field(foreign_key="loans.id", primary_key=True)
    age: int
    monthly_income: int = _money()
    monthly_debt: int = _money()
    employment: str = _str(32)


# Every credit decision: the champion's, a challenger's in shadow, and each person's.
class CreditDecision(StoredTable, table=True):
    __tablename__ = "credit_decisions"

    id: int | None = _id()
    loan_id: int = Field(foreign_key="loans.id", index=True)
    role: str = _str(16)  # champion | challenger | manual
    decided_on: date
    actor: str = _str(64)
    outcome: str = _str(16)
    scorecard: str | None = _str(64, None)
    scorecard_version: int | None = None
    decision_table: str | None = _str(64, None)
    decision_table_version: int | None = None
    score: int | None = None
    probability_of_default: str | None = _str(16, None)
    risk_grade: str | None = _str(8, None)
    approved_amount: int | None = _money(nullable=True)
    annual_rate: str | None = _str(32, None)
    reasons: str = _text("[]")
    detail: str = _text("{}")  # inputs, points, rules (JSON)
    note: str | None = _text(None)
    created_at: datetime = _stamp()


# The exact text of every scorecard and decision table version that decided a loan.
class CreditModel(StoredTable, table=True):
    __tablename__ = "credit_models"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_credit_model_version"),)

    id: int | None = _id()
    kind: str = _str(32)
    code: str = _str(64)
    version: int
    sha256: str = _str(64)
    body: str = _text()
    created_at: datetime = _stamp()


# People the lender will not lend to, by the keyed hash of their national ID.
class BlocklistEntry(StoredTable, table=True):
    __tablename__ = "blocklist"

    id_hash: str = _str(64, primary_key=True)
    reason: str = _str(64)
    note: str | None = _text(None)  # sealed
    national_id_enc: str | None = _text(None)  # sealed, so a key rotation can re-hash it
    added_by: str = _str(64)
    added_on: date
    created_at: datetime = _stamp()


# Each close of business run: what it did, for the operators' record.
class CobRun(StoredTable, table=True):
    __tablename__ = "cob_runs"

    id: int | None = _id()
    from_date: date
    to_date: date
    actor: str = _str(64)
    counts: str = _text()
    created_at: datetime = _stamp()


# One run of a product lifecycle stage: what went in (file names, SHA-256 and the text,
# or where a large file was), what came out (JSON), the rendered report and its charts,
# the gate criteria as evaluated, or the error that failed it.
class StageRun(StoredTable, table=True):
    __tablename__ = "stage_runs"

    id: int | None = _id()
    product_code: str = _str(64, foreign_key="products.code")
    version_id: int = Field(foreign_key="product_versions.id", index=True)
    stage: str = _str(32)
    status: str = _str(16)  # running | succeeded | failed
    run_by: str = _str(64)
    business_date: date
    inputs: str = _text()
    outputs: str | None = _text(None)
    criteria: str | None = _text(None)
    report: bytes | None = None
    report_format: str | None = _str(8, None)
    charts: str | None = _text(None)
    error: str | None = _text(None)
    started_at: datetime = _stamp()
    finished_at: datetime | None = _moment(None)


# A gate decision and the automatic criteria as they stood when it was taken.
class GateDecision(StoredTable, table=True):
    __tablename__ = "gate_decisions"

    id: int | None = _id()
    product_code: str = _str(64, foreign_key="products.code")
    version_id: int = Field(foreign_key="product_versions.id", index=True)
    stage: str = _str(32)
    run_id: int = Field(foreign_key="stage_runs.id")
    decision: str = _str(16)  # go | kill | hold | recycle | resume
    to_stage: str | None = _str(32, None)
    from_state: str = _str(32)
    to_state: str = _str(32)
    note: str = _text("")
    decided_by: str = _str(64)
    business_date: date
    criteria: str = _text()
    created_at: datetime = _stamp()


# A rendered document kept as issued (a loan's contract) with its SHA-256. The
# content is sealed like personal data: a contract names its borrower.
class Document(StoredTable, table=True):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("loan_id", "kind", "business_date", name="uq_document_loan_kind_date"),
    )

    id: int | None = _id()
    loan_id: int | None = Field(default=None, foreign_key="loans.id", index=True)
    product_code: str = _str(64)
    kind: str = _str(32)
    locale: str = _str(8)
    media_type: str = _str(64)
    sha256: str = _str(64)
    size: int
    content_enc: str = _text()
    business_date: date
    actor: str = _str(64)
    created_at: datetime = _stamp()


# Customer service tickets: complaints and questions, each with a service-level deadline.
class Ticket(StoredTable, table=True):
    __tablename__ = "tickets"

    id: int | None = _id()
    kind: str = _str(16)  # complaint | question
    product_code: str | None = _str(64, None, index=True)
    customer_id: int | None = Field(default=None, foreign_key="customers.id")
    loan_id: int | None = Field(default=None, foreign_key="loans.id")
    channel: str = _str(32)
    subject: str = _text()  # sealed: free text a person typed may name people
    details_enc: str | None = _text(None)  # may hold personal data: encrypted like the customer's
    opened_on: date = Field(index=True)
    due_on: date
    opened_by: str = _str(64)
    resolved_on: date | None = None
    resolved_by: str | None = _str(64, None)
    resolution: str | None = _text(None)
    version: int = 1
    created_at: datetime = _stamp()


# A campaign a launch stage run planned: a promotion rule the loan engine applies to the
# version's loans while the campaign runs and its budget lasts. It applies only once the
# run that planned it has passed the launch gate; `spent` is what its awards cost so far.
class Campaign(StoredTable, table=True):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("run_id", "code", name="uq_campaign_run_code"),)

    id: int | None = _id()
    product_code: str = _str(64, foreign_key="products.code")
    version_id: int = Field(foreign_key="product_versions.id", index=True)
    run_id: int = Field(foreign_key="stage_runs.id")
    code: str = _str(64)
    kind: str = _str(32)  # first_loan_interest_free | referral
    name_zh: str = _str(200)
    name_en: str = _str(200)
    free_days: int | None = None
    reward: int | None = _money(nullable=True)
    budget: int = _money()
    spent: int = _money()
    starts_on: date
    ends_on: date
    created_at: datetime = _stamp()


# What a campaign gave, once per campaign and loan: interest waived on the borrower's
# first loan, or a reward to the customer who referred the borrower. Each is a journal
# entry (marketing expense) posted with the loan's disbursement.
class PromotionAward(StoredTable, table=True):
    __tablename__ = "promotion_awards"
    __table_args__ = (UniqueConstraint("campaign_id", "loan_id", name="uq_award_campaign_loan"),)

    id: int | None = _id()
    campaign_id: int = Field(foreign_key="campaigns.id")
    loan_id: int = Field(foreign_key="loans.id", index=True)
    customer_id: int = Field(foreign_key="customers.id")
    kind: str = _str(32)  # interest_waiver | referral_reward
    amount: int = _money()
    business_date: date
    entry_id: int = Field(foreign_key="journal_entries.id")
    created_at: datetime = _stamp()


# The customer an application named as having referred the applicant.
class Referral(StoredTable, table=True):
    __tablename__ = "referrals"

    loan_id: int = Field(foreign_key="loans.id", primary_key=True)
    referrer_id: int = Field(foreign_key="customers.id", index=True)
    created_at: datetime = _stamp()


# Where a version opened by an improvement came from: the live version it improves, the
# improvement run and gate decision, and the spec it proposed (the version's own spec is
# set only when its design passes the gate).
class VersionOrigin(StoredTable, table=True):
    __tablename__ = "version_origins"

    version_id: int = Field(foreign_key="product_versions.id", primary_key=True)
    from_version_id: int = Field(foreign_key="product_versions.id")
    run_id: int = Field(foreign_key="stage_runs.id")
    decision_id: int = Field(foreign_key="gate_decisions.id")
    proposed_spec: str = _text()
    proposed_sha256: str = _str(64)
    created_at: datetime = _stamp()


# Which workspace key sealed this database: its fingerprint, never the key. One row is
# `current`; a rotation retires it and records the new key's.
class WorkspaceKey(StoredTable, table=True):
    __tablename__ = "workspace_keys"

    fingerprint: str = _str(64, primary_key=True)
    state: str = _str(16)  # current | retired
    created_at: datetime = _stamp()


# The workspace's staff: who may act and in which roles (comma-separated, sorted). The
# `users.yaml` of a fresh workspace seeds it; from then on this table is the directory.
# A disabled user is refused everywhere; the password hash is Argon2 (pwdlib), if set.
class User(StoredTable, table=True):
    __tablename__ = "users"

    id: int | None = _id()
    name: str = _str(64, unique=True)
    full_name: str | None = _str(200, None)
    roles: str = _str(200)
    disabled: bool = False
    password_hash: str | None = _str(255, None)
    created_at: datetime = _stamp()
    failed_sign_ins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_until: datetime | None = _moment(None)


# An API token of a user: only the SHA-256 of its text is kept, so the table can never
# give a token back. `last_used_at` is refreshed at most once a minute.
class ApiToken(StoredTable, table=True):
    __tablename__ = "api_tokens"

    id: int | None = _id()
    user_id: int = Field(foreign_key="users.id", index=True)
    label: str | None = _str(100, None)
    token_hash: str = _str(64, unique=True)
    created_at: datetime = _stamp()
    expires_at: datetime | None = _moment(None)
    revoked_at: datetime | None = _moment(None)
    last_used_at: datetime | None = _moment(None)


# A signed-in console session: only the SHA-256 of the cookie's random id is kept. It
# ends at `expires_at`, after an idle spell (`last_seen_at`), or when revoked.
class ConsoleSession(StoredTable, table=True):
    __tablename__ = "console_sessions"

    id: int | None = _id()
    user_id: int = Field(foreign_key="users.id", index=True)
    session_hash: str = _str(64, unique=True)
    created_at: datetime = _stamp()
    last_seen_at: datetime = _moment()
    expires_at: datetime = _moment()
    revoked_at: datetime | None = _moment(None)


# Who took a work item (kind `application`: a referred application) from a queue; one
# claim per item, so only its holder decides it.
class WorkClaim(StoredTable, table=True):
    __tablename__ = "work_claims"
    __table_args__ = (UniqueConstraint("kind", "subject_id"),)

    id: int | None = _id()
    kind: str = _str(32)
    subject_id: int
    claimed_by: str = _str(64)
    claimed_at: datetime = _moment()


# A person in a group of related parties, by the keyed hash of their national ID (sealed
# beside it, so a key rotation can move the hash); the group's loans count together.
class RelatedParty(StoredTable, table=True):
    __tablename__ = "related_parties"
    __table_args__ = (UniqueConstraint("group_code", "id_hash"),)

    id: int | None = _id()
    group_code: str = _str(64)
    id_hash: str = _str(64, index=True)
    national_id_enc: str = _text()
    added_by: str = _str(64)
    added_on: date
    created_at: datetime = _stamp()


# A collector's contact with a borrower: channel, outcome, to whom, and the local time
# (Asia/Shanghai, "YYYY-MM-DDTHH:MM", as the collector gave it) on its business date.
class CollectionContact(StoredTable, table=True):
    __tablename__ = "collection_contacts"

    id: int | None = _id()
    loan_id: int = Field(foreign_key="loans.id", index=True)
    channel: str = _str(16)
    outcome: str = _str(32)
    recipient: str = _str(16)
    contacted_at: str = _str(16)
    business_date: date
    actor: str = _str(64)
    created_at: datetime = _stamp()


# An authorisation given with an application: the version and SHA-256 of the words shown,
# the channel and the date; `withdrawn_on` once the borrower takes it back.
class Consent(StoredTable, table=True):
    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("loan_id", "name"),)

    id: int | None = _id()
    loan_id: int = Field(foreign_key="loans.id")
    customer_id: int = Field(foreign_key="customers.id")
    name: str = _str(64)
    version: int
    text_sha256: str = _str(64)
    locale: str = _str(8)
    channel: str = _str(32)
    given_on: date
    withdrawn_on: date | None = None
    created_at: datetime = _stamp()


# What went to the credit reference system: one row per loan and month each time its
# record went out with new figures (revision 0 first, then each correction), the figures
# as canonical JSON and their SHA-256. A month run again sends a correction for a loan
# whose figures now differ from its latest row here.
class CreditReport(StoredTable, table=True):
    __tablename__ = "credit_reports"
    __table_args__ = (UniqueConstraint("month", "loan_id", "revision"),)

    id: int | None = _id()
    month: str = _str(7)  # YYYY-MM
    loan_id: int = Field(foreign_key="loans.id", index=True)
    revision: int
    figures: str = _text()
    figures_sha256: str = _str(64)
    reported_on: date
    reported_by: str = _str(64)
    created_at: datetime = _stamp()


# Each loan's provision at a month end as close of business computed it (revision 0026):
# its class, principal and rate then, and the provision of its class and the general one.
# The loan's allowance in the journal is this figure after that month end's entry; a loan
# that left the live book is written once more at nothing, as its allowance is released.
class LoanProvision(StoredTable, table=True):
    __tablename__ = "loan_provisions"

    month_end: date = Field(primary_key=True)
    loan_id: int = Field(primary_key=True, foreign_key="loans.id")
    classification: str = _str(32)
    principal: int = _money()
    rate: str = _str(16)  # percent, as written ("1.5"): exact, never through float
    specific: int = _money()
    general: int = _money()


# The tables under the names the Core statements use.
# How far close of business has closed one id range for the loans following it
# (`loans.follows_from`): a quiet loan's figures derive from its row and the mark
# (`domain.accrual.followed`), so a night does not rewrite every loan row.
class CobMark(StoredTable, table=True):
    __tablename__ = "cob_marks"

    lo: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hi: int
    through: date


products = _table(Product)
product_versions = _table(ProductVersion)
customers = _table(Customer)
loans = _table(Loan)
journal_entries = _table(JournalEntry)
journal_lines = _table(JournalLine)
repayment_reversals = _table(RepaymentReversal)
loan_requests = _table(LoanRequest)
refunds = _table(Refund)
schedule_versions = _table(ScheduleVersion)
events = _table(Event)
event_chain = _table(EventChain)
idempotency_records = _table(IdempotencyRecord)
payouts = _table(Payout)
notices = _table(Notice)
applicant_facts = _table(ApplicantFacts)
credit_decisions = _table(CreditDecision)
credit_models = _table(CreditModel)
blocklist = _table(BlocklistEntry)
cob_runs = _table(CobRun)
stage_runs = _table(StageRun)
gate_decisions = _table(GateDecision)
documents = _table(Document)
tickets = _table(Ticket)
campaigns = _table(Campaign)
promotion_awards = _table(PromotionAward)
referrals = _table(Referral)
version_origins = _table(VersionOrigin)
workspace_keys = _table(WorkspaceKey)
users = _table(User)
api_tokens = _table(ApiToken)
console_sessions = _table(ConsoleSession)
work_claims = _table(WorkClaim)
related_parties = _table(RelatedParty)
collection_contacts = _table(CollectionContact)
consents = _table(Consent)
credit_reports = _table(CreditReport)
loan_provisions = _table(LoanProvision)
cob_marks = _table(CobMark)

# Loans by state in id order: close of business reads a range's overdue loans (and counts
# its live ones) per state and id range. SQLite's index on the state alone holds the row
# id in that order anyway; PostgreSQL's would read every overdue loan of the book for each
# range and keep the range's.
Index("ix_loans_state", loans.c.state, loans.c.id)
# Close of business reads the few loans held at a non-performing class every night.
Index(
    "ix_loans_held",
    loans.c.id,
    sqlite_where=loans.c.held_since.is_not(None),
    postgresql_where=loans.c.held_since.is_not(None),
)
# ... the few in non-accrual, whose accrual is suspended loan by loan ...
Index(
    "ix_loans_non_accrual",
    loans.c.id,
    sqlite_where=loans.c.non_accrual_since.is_not(None),
    postgresql_where=loans.c.non_accrual_since.is_not(None),
)
# ... and the few restructured ones, for the floor of their observation period.
Index(
    "ix_loans_restructured",
    loans.c.id,
    sqlite_where=loans.c.restructured_on.is_not(None),
    postgresql_where=loans.c.restructured_on.is_not(None),
)
# Under the borrower-level class rule, close of business reads the borrowers with a loan
# classed below normal (a covering index of those loans alone) ...
Index(
    "ix_loans_classed",
    loans.c.customer_id,
    sqlite_where=text("classification <> 'normal'"),
    postgresql_where=text("classification <> 'normal'"),
)
# ... and the few loans the rule gave a worse class than their own evidence.
Index(
    "ix_loans_lifted",
    loans.c.id,
    sqlite_where=loans.c.own_classification.is_not(None),
    postgresql_where=loans.c.own_classification.is_not(None),
)
# A loan's allowance is the sum of its allowance lines: month-end close of business reads
# it per id range, a write-off per loan (a covering index of those lines alone).
Index(
    "ix_journal_lines_allowance",
    journal_lines.c.loan_id,
    journal_lines.c.debit,
    journal_lines.c.credit,
    sqlite_where=text("account = 'loan_loss_allowance'"),
    postgresql_where=text("account = 'loan_loss_allowance'"),
)
# The reversals alone, by the entry each reverses: every other entry would write its
# empty value into the index, a page of it with each posting (0034).
Index(
    "ix_journal_entries_reversal_of",
    journal_entries.c.reversal_of,
    sqlite_where=journal_entries.c.reversal_of.is_not(None),
    postgresql_where=journal_entries.c.reversal_of.is_not(None),
)
