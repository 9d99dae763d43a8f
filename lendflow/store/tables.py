"""Stored tables, as SQLAlchemy Core. Money columns are BIGINT fen.

SQLite has no decimal type (a `Numeric` column goes through float there), so
rates are stored as canonical decimal text and parsed back with `Decimal`.

The tables are plain SQLAlchemy Core rather than SQLModel classes: the service
layer works in Core statements throughout, and SQLModel's import and class
construction (about 0.5 s here) alone would break the 0.8 s budget for a plain
CLI command such as `lendflow loan show`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()


def utc_now() -> datetime:
    """Wall-clock UTC, for audit timestamps only — never for business dates."""
    return datetime.now(UTC)


def _money(name: str, nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(name, BigInteger, nullable=nullable, default=None if nullable else 0)


def _created() -> Column:  # type: ignore[type-arg]
    return Column("created_at", DateTime(timezone=True), nullable=False, default=utc_now)


products = Table(
    "products",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    _created(),
)

product_versions = Table(
    "product_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_code", String(64), ForeignKey("products.code"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("state", String(32), nullable=False, index=True),
    # A version created in the lifecycle has no spec until its design passes the gate.
    Column("spec_yaml", Text),
    Column("spec_sha256", String(64)),
    _money("min_amount", nullable=True),
    _money("max_amount", nullable=True),
    Column("annual_rate", String(32)),
    # The successful stage run waiting at the gate of the stage the version is in.
    Column("gate_run_id", Integer),
    Column("row_version", Integer, nullable=False, default=1),
    Column("created_by", String(64), nullable=False),
    _created(),
    UniqueConstraint("product_code", "version", name="uq_product_version"),
)

# A borrower. Name, national ID and phone are stored only encrypted; the keyed
# hashes find duplicates without keeping the clear values.
customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name_enc", Text, nullable=False),
    Column("national_id_enc", Text, nullable=False),
    Column("phone_enc", Text, nullable=False),
    Column("id_hash", String(64), nullable=False, unique=True),
    Column("phone_hash", String(64), nullable=False, index=True),
    _money("monthly_income"),
    _created(),
)

# A loan from application to its end; its balances are what the ledger says.
loans = Table(
    "loans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("product_code", String(64), nullable=False, index=True),
    Column(
        "product_version_id",
        Integer,
        ForeignKey("product_versions.id"),
        nullable=False,
        index=True,
    ),
    Column("state", String(32), nullable=False, index=True),
    Column("purpose", String(64), nullable=False, default=""),
    _money("requested_amount"),
    _money("approved_amount", nullable=True),
    _money("principal"),
    Column("term", Integer, nullable=False),
    Column("annual_rate", String(32), nullable=False),
    Column("apr", String(32)),
    Column("method", String(32), nullable=False),
    Column("applied_on", Date, nullable=False),
    Column("reviewed_on", Date),
    Column("decided_on", Date),
    Column("approval_expires_on", Date),
    Column("disbursed_on", Date),
    Column("maturity_on", Date),
    Column("closed_on", Date),
    Column("reason_code", String(64)),
    Column("decision_note", Text),
    _money("principal_outstanding"),
    _money("interest_receivable"),
    _money("fee_receivable"),
    _money("penalty_receivable"),
    _money("credit_balance"),
    Column("written_off_amount", BigInteger, nullable=False, default=0, server_default="0"),
    Column("dpd", Integer, nullable=False, default=0),
    Column("bucket", String(16), nullable=False, default="M0"),
    Column("classification", String(32), nullable=False, default="normal"),
    Column("cob_through", Date),
    Column("risk_grade", String(8)),
    Column("version", Integer, nullable=False, default=1),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utc_now),
)

# One scheduled instalment and what has been paid, waived or recognised of it.
instalments = Table(
    "instalments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("loan_id", Integer, ForeignKey("loans.id"), nullable=False, index=True),
    Column("n", Integer, nullable=False),
    Column("due_date", Date, nullable=False, index=True),
    _money("principal"),
    _money("interest"),
    _money("fee"),
    _money("penalty"),
    _money("principal_paid"),
    _money("interest_paid"),
    _money("fee_paid"),
    _money("penalty_paid"),
    _money("interest_waived"),
    _money("fee_waived"),
    Column("recognised", Boolean, nullable=False, default=False),
    Column("paid_on", Date),
    UniqueConstraint("loan_id", "n", name="uq_instalment_n"),
)
# Close of business reads only what is still open: unpaid and unrecognised instalments.
Index(
    "ix_instalments_open",
    instalments.c.due_date,
    instalments.c.loan_id,
    sqlite_where=instalments.c.paid_on.is_(None),
    postgresql_where=instalments.c.paid_on.is_(None),
)
Index(
    "ix_instalments_unrecognised",
    instalments.c.due_date,
    instalments.c.loan_id,
    sqlite_where=text("recognised = 0"),
    postgresql_where=text("recognised = false"),
)

# One balanced money movement; its lines are in journal_lines.
journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("loan_id", Integer, ForeignKey("loans.id"), index=True),
    Column("kind", String(32), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("idempotency_key", String(128), unique=True),
    Column("actor", String(64), nullable=False),
    Column("memo", String(200), nullable=False, default=""),
    _created(),
)

journal_lines = Table(
    "journal_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("journal_entries.id"), nullable=False, index=True),
    Column("loan_id", Integer, index=True),
    Column("account", String(32), nullable=False),  # no index: nothing reads by account alone
    _money("debit"),
    _money("credit"),
)

# Append-only audit trail, hash-chained; customers appear by id only.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entity", String(32), nullable=False),
    Column("entity_id", String(64), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("trigger", String(32)),
    Column("from_state", String(32)),
    Column("to_state", String(32)),
    Column("actor", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

# The newest event's hash: one row, locked by every writer to keep one chain.
event_chain = Table(
    "event_chain",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_event_id", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

# The first answer to a money-moving request, returned again on replay.
idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("operation", String(32), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("loan_id", Integer),
    Column("response", Text, nullable=False),
    _created(),
)

# A disbursement sent to the payment gateway, by a reference it deduplicates on.
payouts = Table(
    "payouts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("loan_id", Integer, ForeignKey("loans.id"), nullable=False, index=True),
    Column("reference", String(128), nullable=False, unique=True),
    _money("amount"),
    Column("status", String(16), nullable=False),
    Column("gateway_ref", String(128)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("requested_on", Date),
    Column("last_error", String(200)),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utc_now),
)

# A collection notice due at a days-past-due milestone, once per loan and milestone.
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("loan_id", Integer, ForeignKey("loans.id"), nullable=False, index=True),
    Column("business_date", Date, nullable=False),
    Column("dpd", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("document_sha256", String(64)),
    _created(),
    UniqueConstraint("loan_id", "kind", "dpd", name="uq_notice_milestone"),
)

# What the applicant told us beyond personal data, kept per application: the facts a
# credit decision was made on must not change when the customer's record does.
applicant_facts = Table(
    "applicant_facts",
    metadata,
    Column("loan_id", Integer, ForeignKey("loans.id"), primary_key=True),
    Column("age", Integer, nullable=False),
    _money("monthly_income"),
    _money("monthly_debt"),
    Column("employment", String(32), nullable=False),
)

# Every credit decision: the champion's, a challenger's in shadow, and each person's.
credit_decisions = Table(
    "credit_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("loan_id", Integer, ForeignKey("loans.id"), nullable=False, index=True),
    Column("role", String(16), nullable=False),  # champion | challenger | manual
    Column("decided_on", Date, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("scorecard", String(64)),
    Column("scorecard_version", Integer),
    Column("decision_table", String(64)),
    Column("decision_table_version", Integer),
    Column("score", Integer),
    Column("probability_of_default", String(16)),
    Column("risk_grade", String(8)),
    _money("approved_amount", nullable=True),
    Column("annual_rate", String(32)),
    Column("reasons", Text, nullable=False, default="[]"),
    Column("detail", Text, nullable=False, default="{}"),  # inputs, points, rules (JSON)
    Column("note", Text),
    _created(),
)

# The exact text of every scorecard and decision table version that decided a loan.
credit_models = Table(
    "credit_models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("code", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("body", Text, nullable=False),
    _created(),
    UniqueConstraint("code", "version", name="uq_credit_model_version"),
)

# People the lender will not lend to, by the keyed hash of their national ID.
blocklist = Table(
    "blocklist",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("reason", String(64), nullable=False),
    Column("note", Text),
    Column("added_by", String(64), nullable=False),
    Column("added_on", Date, nullable=False),
    _created(),
)

# Each close of business run: what it did, for the operators' record.
cob_runs = Table(
    "cob_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("from_date", Date, nullable=False),
    Column("to_date", Date, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("counts", Text, nullable=False),
    _created(),
)

# One run of a product lifecycle stage: what went in (file names, SHA-256 and the text,
# or where a large file was), what came out (JSON), the rendered report and its charts,
# the gate criteria as evaluated, or the error that failed it.
stage_runs = Table(
    "stage_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_code", String(64), ForeignKey("products.code"), nullable=False),
    Column("version_id", Integer, ForeignKey("product_versions.id"), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # running | succeeded | failed
    Column("run_by", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("inputs", Text, nullable=False),
    Column("outputs", Text),
    Column("criteria", Text),
    Column("report", LargeBinary),
    Column("report_format", String(8)),
    Column("charts", Text),
    Column("error", Text),
    Column("started_at", DateTime(timezone=True), nullable=False, default=utc_now),
    Column("finished_at", DateTime(timezone=True)),
)

# A gate decision and the automatic criteria as they stood when it was taken.
gate_decisions = Table(
    "gate_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_code", String(64), ForeignKey("products.code"), nullable=False),
    Column("version_id", Integer, ForeignKey("product_versions.id"), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("run_id", Integer, ForeignKey("stage_runs.id"), nullable=False),
    Column("decision", String(16), nullable=False),  # go | kill | hold | recycle | resume
    Column("to_stage", String(32)),
    Column("from_state", String(32), nullable=False),
    Column("to_state", String(32), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("decided_by", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("criteria", Text, nullable=False),
    _created(),
)

# A rendered document kept as issued (a loan's contract) with its SHA-256. The
# content is sealed like personal data: a contract names its borrower.
documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("loan_id", Integer, ForeignKey("loans.id"), index=True),
    Column("product_code", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content_enc", Text, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("actor", String(64), nullable=False),
    _created(),
    UniqueConstraint("loan_id", "kind", "business_date", name="uq_document_loan_kind_date"),
)

# Customer service tickets: complaints and questions, each with a service-level deadline.
tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # complaint | question
    Column("product_code", String(64), index=True),
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("loan_id", Integer, ForeignKey("loans.id")),
    Column("channel", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("details_enc", Text),  # may hold personal data: encrypted like the customer's
    Column("opened_on", Date, nullable=False, index=True),
    Column("due_on", Date, nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("resolved_on", Date),
    Column("resolved_by", String(64)),
    Column("resolution", Text),
    Column("version", Integer, nullable=False, default=1),
    _created(),
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

# A campaign a launch stage run planned: a promotion rule the loan engine applies to the
# version's loans while the campaign runs and its budget lasts. It applies only once the
# run that planned it has passed the launch gate; `spent` is what its awards cost so far.
campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_code", String(64), ForeignKey("products.code"), nullable=False),
    Column("version_id", Integer, ForeignKey("product_versions.id"), nullable=False, index=True),
    Column("run_id", Integer, ForeignKey("stage_runs.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("kind", String(32), nullable=False),  # first_loan_interest_free | referral
    Column("name_zh", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("free_days", Integer),
    _money("reward", nullable=True),
    _money("budget"),
    _money("spent"),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    _created(),
    UniqueConstraint("run_id", "code", name="uq_campaign_run_code"),
)

# What a campaign gave, once per campaign and loan: interest waived on the borrower's
# first loan, or a reward to the customer who referred the borrower. Each is a journal
# entry (marketing expense) posted with the loan's disbursement.
promotion_awards = Table(
    "promotion_awards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("loan_id", Integer, ForeignKey("loans.id"), nullable=False, index=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("kind", String(32), nullable=False),  # interest_waiver | referral_reward
    _money("amount"),
    Column("business_date", Date, nullable=False),
    Column("entry_id", Integer, ForeignKey("journal_entries.id"), nullable=False),
    _created(),
    UniqueConstraint("campaign_id", "loan_id", name="uq_award_campaign_loan"),
)

# The customer an application named as having referred the applicant.
referrals = Table(
    "referrals",
    metadata,
    Column("loan_id", Integer, ForeignKey("loans.id"), primary_key=True),
    Column("referrer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    _created(),
)

# Where a version opened by an improvement came from: the live version it improves, the
# improvement run and gate decision, and the spec it proposed (the version's own spec is
# set only when its design passes the gate).
version_origins = Table(
    "version_origins",
    metadata,
    Column("version_id", Integer, ForeignKey("product_versions.id"), primary_key=True),
    Column("from_version_id", Integer, ForeignKey("product_versions.id"), nullable=False),
    Column("run_id", Integer, ForeignKey("stage_runs.id"), nullable=False),
    Column("decision_id", Integer, ForeignKey("gate_decisions.id"), nullable=False),
    Column("proposed_spec", Text, nullable=False),
    Column("proposed_sha256", String(64), nullable=False),
    _created(),
)
