"""The loan state machine built from config/machines/loan.yaml, checked against the YAML itself.

Every status change of every loan goes through this machine: a move it allows that the
table does not list (say, disbursing an application nobody approved) pays out money
the lender never agreed to lend, and a final state with a way out reopens a closed book.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from lendflow.domain.errors import Refused
from lendflow.states.definition import MachineDefinition, load_definition, machines_folder
from lendflow.states.guards import GUARDS
from lendflow.states.machine import StateMachine, machine

RAW: dict[str, Any] = yaml.safe_load((machines_folder() / "loan.yaml").read_text("utf-8"))
YAML_STATES: list[str] = [s["name"] for s in RAW["states"]]
YAML_FINAL: frozenset[str] = frozenset(s["name"] for s in RAW["states"] if s.get("final"))
YAML_TRIGGERS: list[str] = list(dict.fromkeys(t["trigger"] for t in RAW["transitions"]))


def _sources(transition: Mapping[str, Any]) -> list[str]:
    source = transition["source"]
    return [source] if isinstance(source, str) else list(source)


# (source, trigger) -> (dest, guard names), read straight from the YAML.
YAML_TABLE: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    (source, t["trigger"]): (t["dest"], tuple(t.get("conditions", [])))
    for t in RAW["transitions"]
    for source in _sources(t)
}
ILLEGAL = [(s, t) for s in YAML_STATES for t in YAML_TRIGGERS if (s, t) not in YAML_TABLE]

# The business rules behind each named guard, stated independently of guards.py.
RULES: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "approved_within_requested": lambda c: 0 < c["approved_amount"] <= c["requested_amount"],
    "has_reason": lambda c: bool(c["reason"]),
    "approval_lapsed": lambda c: c["as_of"] > c["approval_expires_on"],
    "approval_valid": lambda c: c["as_of"] <= c["approval_expires_on"],
    "fully_repaid": lambda c: c["outstanding"] == 0,
    "late_enough_to_accelerate": lambda c: c["days_past_due"] >= c["acceleration_days"],
}

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 3, 31))
CONTEXTS = st.fixed_dictionaries(
    {
        "approved_amount": st.one_of(st.sampled_from([-100, 0, 1]), st.integers(0, 6_000_000)),
        "requested_amount": st.integers(100_000, 5_000_000),
        "reason": st.sampled_from(["", None, "DTI_TOO_HIGH", "FRAUD_SUSPECTED"]),
        "as_of": DAYS,
        "approval_expires_on": DAYS,
        "outstanding": st.one_of(st.just(0), st.integers(1, 1_000_000)),
        "days_past_due": st.integers(0, 400),
        "acceleration_days": st.sampled_from([30, 90, 180]),
    }
)


def needs(trigger: str) -> str:
    """The sources a trigger needs, as the refusal names them."""
    return " or ".join(
        s for t in RAW["transitions"] if t["trigger"] == trigger for s in _sources(t)
    )


def failed_guards(state: str, trigger: str, context: Mapping[str, Any]) -> list[str]:
    return [g for g in YAML_TABLE[state, trigger][1] if not RULES[g](context)]


@pytest.fixture
def loan_machine() -> StateMachine:
    return machine("loan")


def test_the_machine_has_exactly_the_states_and_triggers_of_the_yaml(
    loan_machine: StateMachine,
) -> None:
    """The YAML is the lifecycle the business signed off; the code may not add or drop any."""
    assert loan_machine.definition.state_names == YAML_STATES
    assert list(loan_machine._machine.states) == YAML_STATES
    assert list(loan_machine._machine.events) == YAML_TRIGGERS
    assert loan_machine.definition.triggers == YAML_TRIGGERS
    assert loan_machine.definition.final_states == YAML_FINAL
    assert loan_machine.definition.initial == RAW["initial"] == "submitted"
    assert loan_machine.table == {key: dest for key, (dest, _) in YAML_TABLE.items()}


def test_auto_transitions_are_off(loan_machine: StateMachine) -> None:
    """`to_active` and friends would let any code jump a loan past approval and payout."""
    assert loan_machine._machine.auto_transitions is False
    cursor = loan_machine._cursor
    for state in YAML_STATES:
        assert not hasattr(cursor, f"to_{state}")
        assert f"to_{state}" not in loan_machine._machine.events


def test_the_machine_is_built_once() -> None:
    """One machine per definition: building one per loan would cost time and memory."""
    assert machine("loan") is machine("loan")
    assert machine("loan").definition is load_definition("loan")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(YAML_STATES), st.sampled_from(YAML_TRIGGERS), CONTEXTS)
def test_may_is_a_dry_run_that_agrees_with_fire(
    state: str, trigger: str, context: dict[str, Any]
) -> None:
    """Asking whether a move is allowed must not move the loan, and must answer truthfully."""
    loan_machine = machine("loan")
    allowed = loan_machine.may(state, trigger, context)
    assert loan_machine._cursor.state == state
    assert loan_machine._cursor.recorded == []
    again = loan_machine.may(state, trigger, context)
    assert again == allowed
    legal = (state, trigger) in YAML_TABLE and not failed_guards(state, trigger, context)
    assert allowed == legal
    if allowed:
        move = loan_machine.fire(state, trigger, context, label="loan 7")
        assert move.dest == YAML_TABLE[state, trigger][0]
    else:
        with pytest.raises(Refused):
            loan_machine.fire(state, trigger, context, label="loan 7")


@pytest.mark.parametrize(("state", "trigger"), ILLEGAL)
def test_moves_not_in_the_table_are_refused_with_what_they_need(
    loan_machine: StateMachine, state: str, trigger: str
) -> None:
    """A refusal says where the loan is and where it would have to be, e.g. for a support desk."""
    context = {
        "approved_amount": 100,
        "requested_amount": 100,
        "reason": "X",
        "as_of": date(2026, 1, 1),
        "approval_expires_on": date(2026, 1, 1),
        "outstanding": 0,
    }
    with pytest.raises(Refused) as refused:
        loan_machine.fire(state, trigger, context, label="loan 7")
    assert str(refused.value) == f"loan 7 is {state}; {trigger} needs {needs(trigger)}"
    assert loan_machine.may(state, trigger, context) is False


def test_the_refusal_reads_as_documented(loan_machine: StateMachine) -> None:
    """The exact wording operators see when disbursing an application not yet approved."""
    with pytest.raises(Refused, match=r"^loan 7 is submitted; disburse needs approved$"):
        loan_machine.fire("submitted", "disburse", {}, label="loan 7")
    with pytest.raises(Refused, match=r"^loan 7 is closed; close needs active or overdue$"):
        loan_machine.fire("closed", "close", {"outstanding": 0}, label="loan 7")
    assert loan_machine.refusal("loan 7", "active", "repay") == "loan 7: unknown action 'repay'"


@pytest.mark.parametrize("state", sorted(YAML_FINAL))
def test_final_states_have_no_way_out(loan_machine: StateMachine, state: str) -> None:
    """A closed, rejected or written-off loan must stay so: its books are final."""
    assert not [key for key in YAML_TABLE if key[0] == state]
    assert not [key for key in loan_machine.table if key[0] == state]
    for trigger in YAML_TRIGGERS:
        with pytest.raises(Refused, match=f"^loan 7 is {state}; "):
            loan_machine.fire(state, trigger, {"outstanding": 0}, label="loan 7")


@pytest.mark.parametrize(
    ("state", "trigger", "context", "guard"),
    [
        (
            "under_review",
            "approve",
            {"approved_amount": 0, "requested_amount": 100_000},
            "approved_within_requested",
        ),
        (
            "under_review",
            "approve",
            {"approved_amount": 100_001, "requested_amount": 100_000},
            "approved_within_requested",
        ),
        ("under_review", "reject", {"reason": ""}, "has_reason"),
        ("under_review", "reject", {}, "has_reason"),
        (
            "approved",
            "disburse",
            {"as_of": date(2026, 2, 11), "approval_expires_on": date(2026, 2, 10)},
            "approval_valid",
        ),
        (
            "approved",
            "expire",
            {"as_of": date(2026, 2, 10), "approval_expires_on": date(2026, 2, 10)},
            "approval_lapsed",
        ),
        ("active", "close", {"outstanding": 1}, "fully_repaid"),
        ("overdue", "close", {"outstanding": 250_000}, "fully_repaid"),
    ],
)
def test_a_failing_guard_gives_its_reason(
    loan_machine: StateMachine, state: str, trigger: str, context: dict[str, Any], guard: str
) -> None:
    """The borrower or operator is told the business rule that stopped the move."""
    with pytest.raises(Refused) as refused:
        loan_machine.fire(state, trigger, context, label="loan 7")
    assert str(refused.value) == f"loan 7: cannot {trigger}: {GUARDS[guard].reason}"
    assert loan_machine.may(state, trigger, context) is False


def test_mermaid_lists_every_transition(loan_machine: StateMachine) -> None:
    """The diagram handed to auditors must show every move the machine allows, and no other."""
    lines = loan_machine.mermaid().splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert f"    [*] --> {RAW['initial']}" in lines
    expected = set()
    for (source, trigger), (dest, guards) in YAML_TABLE.items():
        guard = f" [{', '.join(guards)}]" if guards else ""
        expected.add(f"    {source} --> {dest}: {trigger}{guard}")
    moves = {line for line in lines[1:] if "[*]" not in line}
    assert moves == expected
    assert {line for line in lines if line.endswith("--> [*]")} == {
        f"    {state} --> [*]" for state in YAML_FINAL
    }


class LoanMachineWalk(RuleBasedStateMachine):
    """Random triggers with random contexts, from `submitted`, checked against the YAML."""

    def __init__(self) -> None:
        super().__init__()
        self.machine = machine("loan")
        self.state = RAW["initial"]
        self.path: list[str] = [self.state]

    @rule(trigger=st.sampled_from(YAML_TRIGGERS), context=CONTEXTS)
    def fire(self, trigger: str, context: dict[str, Any]) -> None:
        legal = (self.state, trigger) in YAML_TABLE
        try:
            move = self.machine.fire(self.state, trigger, context, label="loan 7")
        except Refused as refused:
            if not legal:
                expected = f"loan 7 is {self.state}; {trigger} needs {needs(trigger)}"
                assert str(refused) == expected
                return
            failed = failed_guards(self.state, trigger, context)
            assert failed, f"{self.state} --{trigger}--> refused though every guard holds"
            assert str(refused) == f"loan 7: cannot {trigger}: {GUARDS[failed[0]].reason}"
            return
        assert legal, f"{self.state} --{trigger}--> is not in loan.yaml"
        assert not failed_guards(self.state, trigger, context)
        assert (move.source, move.trigger) == (self.state, trigger)
        assert move.dest == YAML_TABLE[self.state, trigger][0]
        self.state = move.dest
        self.path.append(move.dest)

    @rule(trigger=st.sampled_from(YAML_TRIGGERS), context=CONTEXTS)
    def ask(self, trigger: str, context: dict[str, Any]) -> None:
        legal = (self.state, trigger) in YAML_TABLE and not failed_guards(
            self.state, trigger, context
        )
        assert self.machine.may(self.state, trigger, context) == legal

    @precondition(lambda self: self.state in YAML_FINAL)
    @rule()
    def final_is_final(self) -> None:
        for trigger in YAML_TRIGGERS:
            assert not self.machine.may(self.state, trigger, {"outstanding": 0})

    @invariant()
    def only_yaml_states(self) -> None:
        assert self.state in YAML_STATES
        assert all(state in YAML_STATES for state in self.path)


LoanMachineWalk.TestCase.settings = settings(
    max_examples=100, stateful_step_count=25, deadline=None
)
TestLoanMachineWalk = LoanMachineWalk.TestCase


# --- invalid definitions are refused ---------------------------------------------------------


def definition_dict() -> dict[str, Any]:
    """A fresh, editable copy of the shipped loan definition."""
    return copy.deepcopy(RAW)


def test_the_shipped_definition_builds_from_a_dict() -> None:
    """The dict form round-trips into the same table the packaged machine has."""
    built = StateMachine(MachineDefinition.model_validate(definition_dict()))
    assert built.table == machine("loan").table


def _unknown_dest(d: dict[str, Any]) -> None:
    d["transitions"][0]["dest"] = "limbo"


def _unknown_source(d: dict[str, Any]) -> None:
    d["transitions"].append({"trigger": "revive", "source": "nowhere", "dest": "active"})


def _duplicate_pair(d: dict[str, Any]) -> None:
    d["transitions"].append({"trigger": "start_review", "source": "submitted", "dest": "approved"})


def _duplicate_in_list(d: dict[str, Any]) -> None:
    d["transitions"].append(
        {"trigger": "withdraw", "source": ["active", "approved"], "dest": "withdrawn"}
    )


def _final_way_out(d: dict[str, Any]) -> None:
    d["transitions"].append({"trigger": "reopen", "source": "closed", "dest": "active"})


def _unknown_initial(d: dict[str, Any]) -> None:
    d["initial"] = "drafted"


def _duplicate_state(d: dict[str, Any]) -> None:
    d["states"].append({"name": "active"})


def _bad_trigger_name(d: dict[str, Any]) -> None:
    d["transitions"][0]["trigger"] = "Start-Review"


def _extra_field(d: dict[str, Any]) -> None:
    d["transitions"][0]["unless"] = ["has_reason"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_unknown_dest, "unknown state 'limbo'"),
        (_unknown_source, "unknown state 'nowhere'"),
        (_duplicate_pair, "start_review from submitted is defined twice"),
        (_duplicate_in_list, "withdraw from approved is defined twice"),
        (_final_way_out, "reopen: closed is final"),
        (_unknown_initial, "initial state 'drafted' is not a state"),
        (_duplicate_state, "state names must be unique"),
        (_bad_trigger_name, "should match pattern"),
        (_extra_field, "Extra inputs are not permitted"),
    ],
)
def test_inconsistent_definitions_are_refused(
    mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    """A typo in the lifecycle must fail at load time, not when a loan hits the bad move."""
    data = definition_dict()
    mutate(data)
    with pytest.raises(ValueError, match=message):
        MachineDefinition.model_validate(data)


@pytest.mark.parametrize(
    ("mutate", "name"),
    [
        (lambda d: d["transitions"][1].update(conditions=["credit_score_ok"]), "credit_score_ok"),
        (lambda d: d["callbacks"].update(after_state_change=["send_sms"]), "send_sms"),
    ],
)
def test_unknown_guards_and_callbacks_are_refused(
    mutate: Callable[[dict[str, Any]], None], name: str
) -> None:
    """A guard nobody implemented would silently pass or crash at the worst moment."""
    data = definition_dict()
    mutate(data)
    definition = MachineDefinition.model_validate(data)
    with pytest.raises(ValueError, match=f"unknown guards or callbacks .*{name}"):
        StateMachine(definition)
