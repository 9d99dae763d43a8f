"""Launch and improvement: campaigns, promotion awards, referrals and version origins.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _created() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "product_code", sa.String(length=64), sa.ForeignKey("products.code"), nullable=False
        ),
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("product_versions.id"), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("stage_runs.id"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("free_days", sa.Integer()),
        sa.Column("reward", sa.BigInteger()),
        sa.Column("budget", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        _created(),
        sa.UniqueConstraint("run_id", "code", name="uq_campaign_run_code"),
    )
    op.create_index("ix_campaigns_version_id", "campaigns", ["version_id"])
    op.create_table(
        "promotion_awards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("journal_entries.id"), nullable=False),
        _created(),
        sa.UniqueConstraint("campaign_id", "loan_id", name="uq_award_campaign_loan"),
    )
    op.create_index("ix_promotion_awards_loan_id", "promotion_awards", ["loan_id"])
    op.create_table(
        "referrals",
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), primary_key=True),
        sa.Column("referrer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        _created(),
    )
    op.create_index("ix_referrals_referrer_id", "referrals", ["referrer_id"])
    op.create_table(
        "version_origins",
        sa.Column(
            "version_id", sa.Integer(), sa.ForeignKey("product_versions.id"), primary_key=True
        ),
        sa.Column(
            "from_version_id", sa.Integer(), sa.ForeignKey("product_versions.id"), nullable=False
        ),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("stage_runs.id"), nullable=False),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("gate_decisions.id"), nullable=False),
        sa.Column("proposed_spec", sa.Text(), nullable=False),
        sa.Column("proposed_sha256", sa.String(length=64), nullable=False),
        _created(),
    )


def downgrade() -> None:
    op.drop_table("version_origins")
    op.drop_index("ix_referrals_referrer_id", table_name="referrals")
    op.drop_table("referrals")
    op.drop_index("ix_promotion_awards_loan_id", table_name="promotion_awards")
    op.drop_table("promotion_awards")
    op.drop_index("ix_campaigns_version_id", table_name="campaigns")
    op.drop_table("campaigns")
