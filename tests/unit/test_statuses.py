"""The status enums name exactly the states of the machines defined as data."""

from __future__ import annotations

import pytest

from lendflow.domain.statuses import DISBURSED, OUTSTANDING, LoanStatus, ProductStatus
from lendflow.states.definition import load_definition
from lendflow.states.machine import machine


@pytest.mark.parametrize(("machine", "enum"), [("loan", LoanStatus), ("product", ProductStatus)])
def test_each_enum_names_its_machine_states_exactly(machine: str, enum: type) -> None:
    states = {state.name for state in load_definition(machine).states}
    assert {status.value for status in enum} == states


def test_a_disbursed_loan_is_one_the_machine_reached_through_disburse() -> None:
    definition = load_definition("loan")
    reachable = {LoanStatus(t.dest) for t in definition.transitions if t.trigger == "disburse"}
    frontier = set(reachable)
    while frontier:
        nxt = {
            LoanStatus(t.dest)
            for t in definition.transitions
            for source in t.source
            if LoanStatus(source) in frontier
        }
        frontier = nxt - reachable
        reachable |= nxt
    assert reachable == DISBURSED
    assert {LoanStatus.ACTIVE, LoanStatus.OVERDUE} == OUTSTANDING
    assert OUTSTANDING < DISBURSED


def test_a_status_compares_equal_to_its_stored_text() -> None:
    assert LoanStatus.WRITTEN_OFF == "written_off"
    assert ProductStatus("build_test_on_hold") is ProductStatus.BUILD_TEST_ON_HOLD


def test_the_machine_takes_a_status_enum_as_its_stored_text() -> None:
    move = machine("loan").fire(LoanStatus.APPROVED, "withdraw", label="loan 1")
    assert (move.source, move.dest) == ("approved", "withdrawn")
