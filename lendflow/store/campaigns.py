"""Campaigns: stored by the launch stage, applied by the loan engine once the launch that
made them has passed its gate, and what each gave (its awards).

A campaign's budget is spent award by award under a condition in the same
statement, so two disbursements at once can never overspend it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, insert, select, update

from lendflow.store.caches import DatabaseCache
from lendflow.store.tables import campaigns, gate_decisions, promotion_awards
from lendflow.store.uow import UnitOfWork

CAMPAIGNS = campaigns
AWARDS = promotion_awards
DECISIONS = gate_decisions


@dataclass(frozen=True)
class CampaignRule:
    """A campaign as the engine applies it; its budget is read only when spending it."""

    id: int
    code: str
    kind: str
    name_zh: str
    name_en: str
    free_days: int | None
    reward: int | None
    starts_on: date
    ends_on: date

    def runs_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def run_campaign_ids(uow: UnitOfWork, run_id: int) -> list[int]:
    """The campaigns a launch run stored, if it stored any."""
    rows = uow.connection.execute(select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.run_id == run_id))
    return [int(r[0]) for r in rows.all()]


def add_campaign(uow: UnitOfWork, values: dict[str, Any]) -> int:
    return int(
        uow.connection.execute(
            insert(CAMPAIGNS).values(**values).returning(CAMPAIGNS.c.id)
        ).scalar_one()
    )


class LaunchedCampaigns(DatabaseCache[int, "tuple[CampaignRule, ...]"]):
    """A version's campaigns never change once it is live (its launch is over), and only a
    live version's loans are paid out: read once per database and version."""


_LAUNCHED = LaunchedCampaigns()

_PASSED_LAUNCH = and_(
    DECISIONS.c.run_id == CAMPAIGNS.c.run_id,
    DECISIONS.c.version_id == CAMPAIGNS.c.version_id,
    DECISIONS.c.stage == "launch",
    DECISIONS.c.decision == "go",
)


def launched(uow: UnitOfWork, version_id: int) -> tuple[CampaignRule, ...]:
    """The campaigns of the launch that took `version_id` live, in the order they were
    stored (none for other versions)."""
    return _LAUNCHED.get_or_make(uow, version_id, lambda: _read_launched(uow, version_id))


def _read_launched(uow: UnitOfWork, version_id: int) -> tuple[CampaignRule, ...]:
    rows = uow.connection.execute(
        select(CAMPAIGNS)
        .join(DECISIONS, _PASSED_LAUNCH)
        .where(CAMPAIGNS.c.version_id == version_id)
        .order_by(CAMPAIGNS.c.id)
    ).mappings()
    return tuple(
        CampaignRule(
            id=r["id"],
            code=r["code"],
            kind=r["kind"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            free_days=r["free_days"],
            reward=r["reward"],
            starts_on=r["starts_on"],
            ends_on=r["ends_on"],
        )
        for r in rows
    )


def spend(uow: UnitOfWork, campaign_id: int, amount: int) -> bool:
    """Take `amount` from the campaign's budget if it fits, in one conditional statement;
    False (nothing taken) when it does not."""
    done = uow.connection.execute(
        update(CAMPAIGNS)
        .where(CAMPAIGNS.c.id == campaign_id, CAMPAIGNS.c.spent + amount <= CAMPAIGNS.c.budget)
        .values(spent=CAMPAIGNS.c.spent + amount)
    )
    return bool(done.rowcount == 1)


def add_award(uow: UnitOfWork, values: dict[str, Any]) -> None:
    """Keep what a campaign gave on a loan (once per campaign and loan)."""
    uow.connection.execute(insert(AWARDS).values(**values))
