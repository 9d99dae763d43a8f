"""The risk desk: the manual review queue, the blocklist, scorecards as people read them,
and the champion–challenger comparison."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from lendflow.access.permissions import Actor, Permission
from lendflow.config.credit_models import FOLDER_NAME, CreditModels, load_file, packaged_folder
from lendflow.credit.results import (
    BlockedPerson,
    BlocklistEntry,
    ByModel,
    ChallengerComparison,
    CharacteristicView,
    CreditModelView,
    DecisionTableView,
    Performance,
    QueuedApplication,
    QueuePage,
    RuleView,
    ScalingView,
    ScoreBin,
    ScorecardView,
)
from lendflow.customers.views import text_view
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.identity import validate_national_id
from lendflow.domain.rules import DecisionTable
from lendflow.domain.scoring import Characteristic, Scorecard
from lendflow.domain.statuses import DISBURSED, LoanStatus
from lendflow.store import credit as credit_store
from lendflow.store.credit import ComparedDecision
from lendflow.store.personal_data import row_ref
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

REASON_CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,63}$"
_PLACES = Decimal("0.0001")
_MEAN_PLACES = Decimal("0.1")
BAD_DPD = 30  # a loan this late (or written off) counts as bad in the comparison
BOOKED_STATES = tuple(sorted(DISBURSED))


def models(ws: Workspace) -> CreditModels:
    return CreditModels([ws.settings.home / FOLDER_NAME, packaged_folder()])


def review_queue(
    ws: Workspace,
    actor: Actor,
    as_of: date,
    product: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> QueuePage:
    """Applications waiting for a person, oldest first, with what automated review found:
    a page of them, with how many wait in all."""
    actor.require(Permission.READ, "read the review queue")

    def use_case(uow: UnitOfWork) -> QueuePage:
        out = []
        for row in credit_store.review_queue(uow, product, limit, offset):
            waiting_since = row["reviewed_on"] or row["applied_on"]
            out.append(
                QueuedApplication(
                    id=row["id"],
                    product=row["product_code"],
                    requested=row["requested_amount"],
                    proposed=row["proposed"],
                    term=row["term"],
                    score=row["score"],
                    risk_grade=row["risk_grade"],
                    annual_rate=Decimal(row["annual_rate"]),
                    reasons=json.loads(row["reasons"]) if row["reasons"] else ["MANUAL_REVIEW"],
                    waiting_days=(as_of - waiting_since).days,
                )
            )
        return QueuePage(total=credit_store.count_review_queue(uow, product), items=out)

    return run_in_transaction(ws.engine, use_case)


def block(
    ws: Workspace, actor: Actor, national_id: str, reason: str, note: str | None, as_of: date
) -> BlockedPerson:
    """Put a person on the blocklist; applications from them will be declined."""
    actor.require(Permission.DECIDE, "change the blocklist")
    national_id = validate_national_id(national_id)
    if not re.match(REASON_CODE_PATTERN, reason):
        raise BadInput(f"reason must be a code like FRAUD_CONFIRMED, got {reason!r}")
    id_hash = ws.cipher.lookup_hash(national_id, "national_id")
    bound = row_ref("blocklist", id_hash)

    def use_case(uow: UnitOfWork) -> BlockedPerson:
        found = credit_store.blocklist_reason_by_hash(uow, id_hash)
        if found is not None:
            raise Refused(f"this person is already on the blocklist ({found})")
        credit_store.add_to_blocklist(
            uow,
            {
                "id_hash": id_hash,
                "reason": reason,
                "note": ws.cipher.encrypt(note, "note", bound) if note else None,
                "national_id_enc": ws.cipher.encrypt(national_id, "national_id", bound),
                "added_by": actor.name,
                "added_on": as_of,
            },
        )
        from lendflow.store import events

        events.append(
            uow,
            events.NewEvent(
                entity="blocklist",
                entity_id=id_hash[:16],
                name="PersonBlocked",
                actor=actor.name,
                business_date=as_of,
                payload={"reason": reason},
            ),
        )
        return BlockedPerson(reason=reason, added_on=as_of, added_by=actor.name)

    return run_in_transaction(ws.engine, use_case)


def blocklist_entries(ws: Workspace, actor: Actor) -> list[BlocklistEntry]:
    """Blocked people by reason and date; never their identity in clear."""
    actor.require(Permission.READ, "read the blocklist")

    def use_case(uow: UnitOfWork) -> list[BlocklistEntry]:
        return [
            BlocklistEntry(
                id_hash=r["id_hash"][:16],
                reason=r["reason"],
                note=text_view(
                    r["note"], "note", row_ref("blocklist", r["id_hash"]), ws.cipher, actor
                ),
                added_by=r["added_by"],
                added_on=r["added_on"],
            )
            for r in credit_store.blocklist_rows(uow)
        ]

    return run_in_transaction(ws.engine, use_case)


def scorecard_view(ws: Workspace, code: str) -> CreditModelView:
    """A scorecard or decision table as a risk analyst reads it: every bin's points."""
    loaded = models(ws).get(code)
    return model_view(loaded.model, loaded.source, loaded.digest)


def check_model_file(path: Path) -> CreditModelView:
    """Validate a scorecard or decision table file without using it."""
    loaded = load_file(path)
    return model_view(loaded.model, loaded.source, loaded.digest)


def model_view(model: Scorecard | DecisionTable, source: str, digest: str) -> CreditModelView:
    if isinstance(model, DecisionTable):
        return DecisionTableView(
            code=model.code,
            version=model.version,
            source=source,
            sha256=digest,
            hit_policy=model.hit_policy,
            grades=model.grades,
            rules=tuple(
                RuleView(
                    rule=r.number,
                    when={c.input: c.text for c in r.conditions},
                    outcome=r.outcome,
                    grade=r.grade,
                    max_amount=r.max_amount,
                    reasons=r.reasons,
                )
                for r in model.rules
            ),
        )
    scaling = model.scaling
    return ScorecardView(
        code=model.code,
        version=model.version,
        source=source,
        sha256=digest,
        scaling=ScalingView(
            base_score=scaling.base_score,
            base_odds=scaling.base_odds,
            pdo=scaling.pdo,
            factor=scaling.factor.quantize(_PLACES),
            offset=scaling.offset.quantize(_PLACES),
        ),
        characteristics=tuple(
            CharacteristicView(
                name=c.name,
                input=c.input,
                reason=c.reason,
                bins=_bins(c),
            )
            for c in model.characteristics
        ),
        score_range=(
            sum(c.min_points for c in model.characteristics),
            sum(c.max_points for c in model.characteristics),
        ),
    )


def _bins(characteristic: Characteristic) -> tuple[ScoreBin, ...]:
    """Numeric bins, then categories, then the catch-alls "other" and "missing" if set."""
    c = characteristic
    labelled = [(b.label, b.points) for b in (*c.numeric_bins, *c.category_bins)]
    labelled += [
        (name, p) for name, p in (("other", c.otherwise), ("missing", c.missing)) if p is not None
    ]
    return tuple(ScoreBin(bin=label, points=points) for label, points in labelled)


def compare_challenger(
    ws: Workspace,
    actor: Actor,
    *,
    product: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> ChallengerComparison:
    """Champion against challenger over every loan both decided: how often they agree,
    who each would take that the other would not, and how those loans have done."""
    actor.require(Permission.READ, "read credit decisions")
    if since and until and until < since:
        raise BadInput(f"--to {until} is before --from {since}")

    def use_case(uow: UnitOfWork) -> list[ComparedDecision]:
        return credit_store.compared_decisions(uow, product, since, until)

    rows = run_in_transaction(ws.engine, use_case)
    return summarise_comparison(rows)


def summarise_comparison(rows: list[ComparedDecision]) -> ChallengerComparison:
    by_loan: dict[int, dict[str, ComparedDecision]] = {}
    for r in rows:
        by_loan.setdefault(r.loan_id, {})[r.role] = r
    pairs = [(p["champion"], p["challenger"]) for p in by_loan.values() if len(p) == 2]
    matrix: Counter[tuple[str, str]] = Counter((c.outcome, s.outcome) for c, s in pairs)
    agree = sum(n for (a, b), n in matrix.items() if a == b)

    def performance(selected: list[tuple[ComparedDecision, ComparedDecision]]) -> Performance:
        booked = [c for c, _ in selected if c.state in BOOKED_STATES]
        bad = [c for c in booked if c.state == LoanStatus.WRITTEN_OFF or c.dpd >= BAD_DPD]
        return Performance(
            loans=len(selected),
            booked=len(booked),
            bad=len(bad),
            bad_rate=_rate(len(bad), len(booked)),
        )

    swap_out = [(c, s) for c, s in pairs if c.outcome == "approve" and s.outcome != "approve"]
    swap_in = [(c, s) for c, s in pairs if c.outcome != "approve" and s.outcome == "approve"]
    champion = pairs[0][0] if pairs else None
    challenger = pairs[0][1] if pairs else None
    return ChallengerComparison(
        champion=None
        if champion is None
        else f"{champion.scorecard} v{champion.scorecard_version}",
        challenger=None
        if challenger is None
        else f"{challenger.scorecard} v{challenger.scorecard_version}",
        compared=len(pairs),
        agreement=_rate(agree, len(pairs)),
        outcomes={f"{a}/{b}": n for (a, b), n in sorted(matrix.items())},
        approval_rate=ByModel(
            champion=_rate(sum(1 for c, _ in pairs if c.outcome == "approve"), len(pairs)),
            challenger=_rate(sum(1 for _, s in pairs if s.outcome == "approve"), len(pairs)),
        ),
        mean_score=ByModel(
            champion=_mean([c.score for c, _ in pairs]),
            challenger=_mean([s.score for _, s in pairs]),
        ),
        both_approve=performance([(c, s) for c, s in pairs if c.outcome == s.outcome == "approve"]),
        champion_only=performance(swap_out),
        challenger_only=performance(swap_in),
    )


def _rate(part: int, whole: int) -> Decimal | None:
    """part / whole to four places; None when there is nothing to divide.

    Exact decimal arithmetic, a half rounded to even: as the figures read when they
    were formatted from floats (1 in 32 is 0.0312).
    """
    return None if not whole else (Decimal(part) / whole).quantize(_PLACES, ROUND_HALF_EVEN)


def _mean(values: list[int | None]) -> Decimal | None:
    """The mean of the known values to one place (a half to even); None if none is known."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    return (Decimal(sum(known)) / len(known)).quantize(_MEAN_PLACES, ROUND_HALF_EVEN)
