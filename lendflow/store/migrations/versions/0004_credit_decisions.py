"""Credit decisions: scorecard and decision-table records, the manual review queue.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _created() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("risk_grade", sa.String(length=8), nullable=True))
    op.create_table(
        "applicant_facts",
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), primary_key=True),
        sa.Column("age", sa.Integer(), nullable=False),
        sa.Column("monthly_income", sa.BigInteger(), nullable=False),
        sa.Column("monthly_debt", sa.BigInteger(), nullable=False),
        sa.Column("employment", sa.String(length=32), nullable=False),
    )
    op.create_table(
        "credit_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("scorecard", sa.String(length=64)),
        sa.Column("scorecard_version", sa.Integer()),
        sa.Column("decision_table", sa.String(length=64)),
        sa.Column("decision_table_version", sa.Integer()),
        sa.Column("score", sa.Integer()),
        sa.Column("probability_of_default", sa.String(length=16)),
        sa.Column("risk_grade", sa.String(length=8)),
        sa.Column("approved_amount", sa.BigInteger()),
        sa.Column("annual_rate", sa.String(length=32)),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("note", sa.Text()),
        _created(),
    )
    op.create_index("ix_credit_decisions_loan_id", "credit_decisions", ["loan_id"])
    op.create_table(
        "credit_models",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _created(),
        sa.UniqueConstraint("code", "version", name="uq_credit_model_version"),
    )
    op.create_table(
        "blocklist",
        sa.Column("id_hash", sa.String(length=64), primary_key=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=False),
        _created(),
    )


def downgrade() -> None:
    op.drop_table("blocklist")
    op.drop_table("credit_models")
    op.drop_index("ix_credit_decisions_loan_id", table_name="credit_decisions")
    op.drop_table("credit_decisions")
    op.drop_table("applicant_facts")
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("risk_grade")
