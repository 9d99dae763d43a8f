"""Product lifecycle: stage runs, gate decisions and product-version states.

A version created in the lifecycle has no spec until its design passes the
gate, so the spec columns of product_versions become nullable, and each version
records the stage run waiting at its gate.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_SPEC_COLUMNS = (
    ("spec_yaml", sa.Text()),
    ("spec_sha256", sa.String(length=64)),
    ("min_amount", sa.BigInteger()),
    ("max_amount", sa.BigInteger()),
    ("annual_rate", sa.String(length=32)),
)
_KEPT_COLUMNS = ", ".join(
    (
        "id",
        "product_code",
        "version",
        "state",
        *(name for name, _ in _SPEC_COLUMNS),
        "row_version",
        "created_by",
        "created_at",
    )
)


def _versions_table(*, lifecycle: bool) -> None:
    """product_versions as it is after this revision (`lifecycle`) or before it."""
    columns: list[sa.Column | sa.UniqueConstraint] = [  # type: ignore[type-arg]
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "product_code", sa.String(length=64), sa.ForeignKey("products.code"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        *(sa.Column(name, type_, nullable=lifecycle) for name, type_ in _SPEC_COLUMNS),
    ]
    if lifecycle:
        columns.append(sa.Column("gate_run_id", sa.Integer(), nullable=True))
    columns += [
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("product_code", "version", name="uq_product_version"),
    ]
    op.create_table("product_versions", *columns)
    op.create_index("ix_product_versions_product_code", "product_versions", ["product_code"])
    op.create_index("ix_product_versions_state", "product_versions", ["state"])


def _rebuild_versions_on_sqlite(*, lifecycle: bool) -> None:
    """SQLite changes a column only by rebuilding the table, while loans point at its rows.

    Foreign keys are checked at commit (deferred); the rows are copied out, the
    table dropped and made anew, and the rows copied back: re-inserting each
    version settles the loans that pointed at it, so the commit finds none
    dangling. Alembic's batch mode copies before it drops, which leaves SQLite's
    count of dangling rows up and fails the commit on any workspace with loans.
    """
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute(
        "CREATE TEMPORARY TABLE product_versions_before AS"
        f" SELECT {_KEPT_COLUMNS} FROM product_versions"
    )
    op.drop_table("product_versions")
    _versions_table(lifecycle=lifecycle)
    op.execute(
        f"INSERT INTO product_versions ({_KEPT_COLUMNS})"
        f" SELECT {_KEPT_COLUMNS} FROM product_versions_before"
    )
    op.execute("DROP TABLE product_versions_before")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_versions_on_sqlite(lifecycle=True)
    else:
        for name, type_ in _SPEC_COLUMNS:
            op.alter_column("product_versions", name, existing_type=type_, nullable=True)
        op.add_column("product_versions", sa.Column("gate_run_id", sa.Integer(), nullable=True))
    op.create_table(
        "stage_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "product_code", sa.String(length=64), sa.ForeignKey("products.code"), nullable=False
        ),
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("product_versions.id"), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_by", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=True),
        sa.Column("criteria", sa.Text(), nullable=True),
        sa.Column("report", sa.LargeBinary(), nullable=True),
        sa.Column("report_format", sa.String(length=8), nullable=True),
        sa.Column("charts", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_stage_runs_version_id", "stage_runs", ["version_id"])
    op.create_table(
        "gate_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "product_code", sa.String(length=64), sa.ForeignKey("products.code"), nullable=False
        ),
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("product_versions.id"), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("stage_runs.id"), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("to_stage", sa.String(length=32), nullable=True),
        sa.Column("from_state", sa.String(length=32), nullable=False),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gate_decisions_version_id", "gate_decisions", ["version_id"])


def downgrade() -> None:
    op.drop_index("ix_gate_decisions_version_id", table_name="gate_decisions")
    op.drop_table("gate_decisions")
    op.drop_index("ix_stage_runs_version_id", table_name="stage_runs")
    op.drop_table("stage_runs")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_versions_on_sqlite(lifecycle=False)
    else:
        op.drop_column("product_versions", "gate_run_id")
        for name, type_ in _SPEC_COLUMNS:
            op.alter_column("product_versions", name, existing_type=type_, nullable=False)
