"""Gate decisions on every stage: the product committee's go, kill, hold, recycle — and
resume after a hold.

A gate is decided on the successful run waiting at it, by a member of the
product committee who did not run that stage (four eyes); a product manager
may not decide at all. The product machine says what each decision may do:
go needs every automatic criterion passed, hold needs a note, recycle only goes
back, kill is final. When a design goes, its spec becomes the version's spec;
when a launch goes, any older live version is retired (see succession).

The live stages (operate, improve: the catalogue says which) are decided on the
live version, and the run at their gate is their newest successful run no
decision has taken up. A go keeps the version live (a failed criterion needs a
note saying what is done about it); at improve the committee may instead recycle
the plan to design, which opens the next version (see succession).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.loading import parse_yaml
from lendflow.config.product_spec import parse_product
from lendflow.domain.criteria import Criterion, all_passed
from lendflow.domain.errors import BadInput, Refused
from lendflow.lifecycle import records
from lendflow.lifecycle.catalog import earlier, held_stage
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.lifecycle.live_stages import waiting_run
from lendflow.lifecycle.results import GateCriterion, GateDecision, GateView, OpenedVersion
from lendflow.lifecycle.succession import open_next_version, retire_superseded
from lendflow.states.machine import Move, machine
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

DECISIONS = ("go", "kill", "hold", "recycle", "resume")
LIVE_DECISIONS = {"operate": ("go",), "improve": ("go", "recycle")}


@dataclass(frozen=True)
class _Request:
    """A decision as asked for, checked as far as it can be before any row is read."""

    code: str
    stage_id: str
    decision: str
    to: str | None
    note: str
    as_of: date
    live: bool


@dataclass(frozen=True)
class _Gate:
    """The gate being decided: the version at it, the run waiting there, and the machine
    trigger the decision fires."""

    version: dict[str, Any]
    run: dict[str, Any]
    trigger: str


def _check_request(decision: str, stage_id: str, to: str | None) -> None:
    stage_of(stage_id)
    if decision not in DECISIONS:
        raise BadInput(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    if decision == "recycle":
        if not to:
            raise BadInput("recycle needs --to STAGE, the earlier stage to go back to")
        stage_of(to)
    elif to:
        raise BadInput("--to names where a recycle goes; it is only for recycle")


def _check_live_request(stage_id: str, decision: str, to: str | None) -> None:
    allowed = LIVE_DECISIONS[stage_id]
    if decision not in allowed:
        raise Refused(
            f"at the {stage_id} gate a live version can only {' or '.join(allowed)}"
            " (it stays live until its next version launches)"
        )
    if decision == "recycle" and to != "design":
        raise BadInput(
            "an improvement is recycled with --to design: the next version re-enters at design"
        )
    if decision != "recycle" and to:
        raise BadInput("--to names where a recycle goes; it is only for recycle")


def _trigger(version: dict[str, Any], stage_id: str, decision: str, to: str | None) -> str:
    """The machine trigger for the decision, after the refusals people need spelt out."""
    who = records.label(version)
    state = version["state"]
    if state == "killed":
        raise Refused(f"{who} was killed; a kill is final")
    held = held_stage(state)
    at = held or state
    if at == "draft":
        raise Refused(f"{who} is a draft; its charter must run before any gate")
    if at != stage_id:
        raise Refused(f"{who} is at the {at} gate, not {stage_id}")
    if held and decision not in ("resume", "kill"):
        raise Refused(f"{who} is on hold at the {held} gate; resume or kill it")
    if not held and decision == "resume":
        raise Refused(f"{who} is not on hold")
    if decision != "recycle":
        return decision
    assert to is not None
    back = earlier(stage_id)
    if to not in back:
        where = f"back to {', '.join(back)}" if back else "nowhere: it is the first stage"
        raise Refused(f"recycle only goes back: {stage_id} can be recycled {where}")
    return f"recycle_to_{to}"


def _spec_columns(run: dict[str, Any]) -> dict[str, Any]:
    """The spec a design run checked, as the version's spec columns."""
    spec_input = next(i for i in records.loads(run["inputs"]) if i["name"] == "spec")
    text = spec_input.get("content")
    if text is None:  # pragma: no cover - a spec is never a megabyte
        raise Refused(f"run {run['id']}: the spec was too large to store; run design again")
    spec = parse_product(parse_yaml(text), spec_input["file"])
    return {
        "spec_yaml": text,
        "spec_sha256": spec_input["sha256"],
        "min_amount": spec.amount.min,
        "max_amount": spec.amount.max,
        "annual_rate": str(spec.rate.annual),
    }


def decide(
    ws: Workspace,
    actor: Actor,
    code: str,
    stage_id: str,
    decision: str,
    *,
    to: str | None = None,
    note: str = "",
    as_of: date,
) -> GateDecision:
    """Record a gate decision on any stage and move the product version as the machine
    allows, with what the decision sets off in the same transaction: a launch that goes
    retires the older live version (never two live), a recycled improvement opens the
    next version."""
    actor.require(Permission.DECIDE_GATES, "decide product gates")
    live = stage_of(stage_id).live
    if live:
        _check_live_request(stage_id, decision, to)
    else:
        _check_request(decision, stage_id, to)
    asked = _Request(code, stage_id, decision, to, note.strip(), as_of, live)
    return run_in_transaction(ws.engine, lambda uow: _decide_in(uow, actor, asked))


def _pipeline_gate(uow: UnitOfWork, asked: _Request) -> _Gate:
    """The version in development and the run in its gate slot."""
    version = records.pipeline_version(uow, asked.code)
    trigger = _trigger(version, asked.stage_id, asked.decision, asked.to)
    run_id = version["gate_run_id"]
    if run_id is None:
        raise Refused(
            f"{records.label(version)}: {asked.stage_id} has no successful run waiting at its"
            " gate; run the stage first"
        )
    return _Gate(version, records.run_row(uow, run_id), trigger)


def _live_gate(uow: UnitOfWork, asked: _Request) -> _Gate:
    """The live version and the run waiting at the live stage's gate."""
    version = records.live_version(uow, asked.code, for_update=True, stage_id=asked.stage_id)
    run = waiting_run(uow, version["id"], asked.stage_id)
    if run is None:
        raise Refused(
            f"{records.label(version)}: no {asked.stage_id} run waits at its gate; run the stage"
            " first"
        )
    return _Gate(version, run, "go" if asked.decision == "go" else "open_next_version")


def _move(gate: _Gate, criteria: list[Criterion], note: str) -> Move:
    """The decision's move on the product machine, given what its guards read."""
    if gate.trigger == "open_next_version":
        plan = records.loads(gate.run["outputs"])["plan"]
        context: dict[str, Any] = {"spec_changes": len(plan["changes"])}
    else:
        context = {"criteria_passed": all_passed(criteria), "note": note}
    version = gate.version
    return machine("product").fire(
        version["state"], gate.trigger, context, label=records.label(version)
    )


def _version_changes(asked: _Request, gate: _Gate, dest: str) -> dict[str, Any]:
    """What the decision writes on the version. A pipeline go or recycle empties its gate
    slot (a live stage never uses it); a design that goes gives the version its spec."""
    values: dict[str, Any] = {"state": dest}
    if not asked.live and asked.decision in ("go", "recycle"):
        values["gate_run_id"] = None
    if asked.decision == "go" and asked.stage_id == "design":
        values.update(_spec_columns(gate.run))
    return values


def _to_stage(asked: _Request, dest: str) -> str | None:
    """Where the decision sends the version (a live go keeps it where it is)."""
    if asked.live:
        return "design" if asked.decision == "recycle" else None
    return {"go": dest, "recycle": asked.to, "resume": asked.stage_id}.get(asked.decision)


def _decide_in(uow: UnitOfWork, actor: Actor, asked: _Request) -> GateDecision:
    """Inside the transaction: decide the run at the gate, move the version, record it all."""
    gate = _live_gate(uow, asked) if asked.live else _pipeline_gate(uow, asked)
    run = gate.run
    if run["run_by"] == actor.name:
        raise Refused(
            f"user {actor.name} ran {asked.stage_id} (run {run['id']}); another member of the"
            " product committee must decide its gate (four eyes)"
        )
    criteria = [Criterion.from_dict(c) for c in records.loads(run["criteria"])]
    move = _move(gate, criteria, asked.note)
    records.save_version(uow, gate.version, _version_changes(asked, gate, move.dest))
    decided = _Decided(asked, gate, move, _to_stage(asked, move.dest), criteria, actor.name)
    decision_id = lifecycle_rows.add_decision(uow, decided.row())
    opened = None
    if asked.live and asked.decision == "recycle":
        opened = open_next_version(uow, actor, gate.version, run, decision_id, asked.as_of)
    records.product_event(
        uow,
        gate.version,
        "GateDecided",
        actor,
        asked.as_of,
        {
            "decision_id": decision_id,
            "stage": asked.stage_id,
            "decision": asked.decision,
            "run": run["id"],
            "criteria_passed": all_passed(criteria),
            **({"opened_version": opened["version"]} if opened else {}),
        },
        trigger=move.trigger,
        from_state=move.source,
        to_state=move.dest,
    )
    retired = None
    if asked.stage_id == "launch" and asked.decision == "go":
        retired = tuple(retire_superseded(uow, actor, asked.code, asked.as_of))
    return decided.answer(
        decision_id, retired, OpenedVersion.model_validate(opened) if opened else None
    )


@dataclass(frozen=True)
class _Decided:
    """A decision taken: its stored row and the answer a gate command prints."""

    asked: _Request
    gate: _Gate
    move: Move
    to_stage: str | None
    criteria: list[Criterion]
    decided_by: str

    def row(self) -> dict[str, Any]:
        return {
            "product_code": self.asked.code,
            "version_id": self.gate.version["id"],
            "stage": self.asked.stage_id,
            "run_id": self.gate.run["id"],
            "decision": self.asked.decision,
            "to_stage": self.to_stage,
            "from_state": self.move.source,
            "to_state": self.move.dest,
            "note": self.asked.note,
            "decided_by": self.decided_by,
            "business_date": self.asked.as_of,
            "criteria": records.dumps([c.as_dict() for c in self.criteria]),
        }

    def answer(
        self,
        decision_id: int,
        retired: tuple[int, ...] | None,
        opened: OpenedVersion | None,
    ) -> GateDecision:
        return GateDecision(
            retired_versions=retired,
            decision_id=decision_id,
            code=self.asked.code,
            version=self.gate.version["version"],
            stage=self.asked.stage_id,
            decision=self.asked.decision,
            to_stage=self.to_stage,
            from_state=self.move.source,
            state=self.move.dest,
            run=self.gate.run["id"],
            decided_by=self.decided_by,
            business_date=self.asked.as_of,
            note=self.asked.note,
            criteria_passed=all_passed(self.criteria),
            criteria=tuple(GateCriterion.of(c) for c in self.criteria),
            opened_version=opened,
        )


def gate_view(ws: Workspace, actor: Actor, code: str) -> GateView:
    """The gate the version in development waits at: its run and criteria, or why none."""
    actor.require(Permission.READ, "read product gates")

    def use_case(uow: UnitOfWork) -> GateView:
        version = records.latest_version(uow, code)
        stage = records.current_stage(version["state"])
        view = GateView(
            code=code,
            version=version["version"],
            state=version["state"],
            stage=stage,
            run=version["gate_run_id"] if stage else None,
            criteria_passed=None,
            criteria=(),
        )
        if view.run is None:
            return view
        run = records.run_row(uow, view.run)
        criteria = [Criterion.from_dict(c) for c in records.loads(run["criteria"])]
        return view.model_copy(
            update={
                "run_by": run["run_by"],
                "business_date": run["business_date"],
                "criteria_passed": all_passed(criteria),
                "criteria": tuple(GateCriterion.of(c) for c in criteria),
            }
        )

    return run_in_transaction(ws.engine, use_case)
