"""Portfolio monitoring of a product: KPIs, month-end series, roll rates, vintages, alerts.

Everything is read in one transaction and rebuilt as of the business date asked
for (see domain/kpis.py), so the figures of a past month do not move when later
repayments arrive. Reads every loan of the product: sized for monthly reviews,
not for a per-second dashboard.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.product_spec import ProductSpec
from lendflow.domain.errors import NotFound
from lendflow.domain.kpis import (
    LoanRecord,
    Standing,
    month_ends,
    portfolio,
    roll_rates,
    standing,
    vintages,
)
from lendflow.domain.statuses import LoanStatus
from lendflow.monitoring.results import KpiAlert, MonthEnd, PortfolioKpis, ProductKpis, RollRate
from lendflow.products.catalogue import spec_of
from lendflow.store import monitoring as monitoring_store
from lendflow.store import tickets as ticket_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


class Book:
    """A product's loans with their dated principal movements, read once.

    Each date's standings are worked out once: a report asks for the business date and
    every month end, and a version's book (`of_version`) takes its loans' standings from
    the product's, so a review that reports the product and each version judges every
    loan once per date.
    """

    def __init__(
        self,
        records: list[LoanRecord],
        movements: dict[int, list[tuple[date, int]]],
        specs: dict[int, ProductSpec],
        version_of: dict[int, int],
        numbers: dict[int, int] | None = None,
        whole: Book | None = None,
    ) -> None:
        self.records = records
        self.movements = movements
        self.specs = specs
        self.version_of = version_of
        self.numbers = numbers or {}
        """Version id → the version's number, for every version with a spec."""
        self.whole = whole
        self._standings: dict[date, dict[int, Standing]] = {}

    def of_version(self, number: int) -> tuple[Book, ProductSpec] | None:
        """The loans of version `number` as a book of their own, and that version's spec;
        None when the product has no such version with a spec."""
        found = next((vid for vid, n in self.numbers.items() if n == number), None)
        if found is None:
            return None
        records = [r for r in self.records if self.version_of[r.loan_id] == found]
        version_of = {r.loan_id: found for r in records}
        spec = self.specs[found]
        book = Book(records, self.movements, {found: spec}, version_of, {found: number}, self)
        return book, spec

    def outstanding(self, loan_id: int, on: date) -> int:
        return sum(amount for day, amount in self.movements.get(loan_id, ()) if day <= on)

    def standings(self, on: date) -> dict[int, Standing]:
        found = self._standings.get(on)
        if found is None:
            if self.whole is not None:
                everyone = self.whole.standings(on)
                found = {i: everyone[i] for i in self.version_of if i in everyone}
            else:
                found = self._judge(on)
            self._standings[on] = found
        return found

    def _judge(self, on: date) -> dict[int, Standing]:
        out = {}
        rules_of: dict[int, tuple[Any, ...]] = {}  # each version's, worked out once
        for record in self.records:
            version = self.version_of[record.loan_id]
            rules = rules_of.get(version)
            if rules is None:
                found_rules = self.specs[version].delinquency
                rules = rules_of[version] = (
                    found_rules,
                    found_rules.grace_days,
                    [(b.name, b.max_dpd) for b in found_rules.buckets],
                    found_rules.levels,
                    found_rules.upgrade.rule(),
                )
            delinquency, grace_days, buckets, levels, upgrade = rules
            found = standing(
                record,
                on,
                self.outstanding(record.loan_id, on),
                grace_days,
                buckets,
                levels,
                upgrade,
                delinquency.upgrade.restructure(record.restructured_on),
            )
            if found is not None:
                out[record.loan_id] = found
        return out


def read_book(uow: UnitOfWork, code: str, version: int | None) -> tuple[Book, ProductSpec, int]:
    """The product's loans (of one version, or all), and the spec of the newest version."""
    versions = monitoring_store.versions_of(uow, code)
    specs: dict[int, ProductSpec] = {}
    latest: tuple[int, ProductSpec] | None = None
    for row in versions:
        if row["spec_yaml"] is None:
            continue  # a version still in design has no spec and no loans
        if version is not None and row["version"] != version:
            continue
        specs[row["id"]] = spec_of(row)
        if latest is None or row["version"] > latest[0]:
            latest = (row["version"], specs[row["id"]])
    if latest is None:
        which = f"version {version} of " if version is not None else ""
        raise NotFound(f"no {which}product {code!r} with a spec")
    loan_rows = monitoring_store.loans_of(uow, specs)
    schedule: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for loan_id, due, paid in monitoring_store.due_and_paid(uow, specs):
        schedule[loan_id].append((due, paid))
    movements: dict[int, list[tuple[date, int]]] = defaultdict(list)
    written_off: dict[int, date] = {}
    for loan_id, day, kind, amount in monitoring_store.principal_movements(uow, specs):
        movements[loan_id].append((day, int(amount)))
        if kind == "write_off":
            written_off[loan_id] = min(day, written_off.get(loan_id, day))
    records = [
        LoanRecord(
            loan_id=r["id"],
            applied_on=r["applied_on"],
            decided_on=r["decided_on"],
            approved=r["approved_amount"] is not None and r["state"] != LoanStatus.REJECTED,
            rejected=r["state"] == LoanStatus.REJECTED,
            disbursed_on=r["disbursed_on"],
            principal=r["principal"],
            instalments=tuple(sorted(schedule.get(r["id"], ()))),
            written_off_on=written_off.get(r["id"]),
            restructured_on=r["restructured_on"],
        )
        for r in loan_rows
    ]
    version_of = {r["id"]: r["product_version_id"] for r in loan_rows}
    numbers = {row["id"]: row["version"] for row in versions if row["id"] in specs}
    return Book(records, movements, specs, version_of, numbers), latest[1], latest[0]


def product_kpis(
    ws: Workspace, actor: Actor, code: str, as_of: date, version: int | None = None
) -> ProductKpis:
    """The product's indicators on `as_of`, with month-end series, roll rates, vintages
    and the alerts its spec's thresholds raise."""
    actor.require(Permission.READ, "read portfolio indicators")

    def use_case(uow: UnitOfWork) -> ProductKpis:
        book, spec, latest = read_book(uow, code, version)
        complaints = ticket_store.complaints(uow, code, as_of.replace(day=1), as_of)
        return report(book, spec, code, version or latest, as_of, complaints)

    return run_in_transaction(ws.engine, use_case)


def product_and_version_kpis(
    ws: Workspace, actor: Actor, code: str, as_of: date, versions: Sequence[int]
) -> tuple[ProductKpis, dict[int, ProductKpis]]:
    """`product_kpis` for the product and for each of `versions`, from one reading of the
    book in one transaction: what a review reports."""
    actor.require(Permission.READ, "read portfolio indicators")

    def use_case(uow: UnitOfWork) -> tuple[ProductKpis, dict[int, ProductKpis]]:
        book, spec, latest = read_book(uow, code, None)
        complaints = ticket_store.complaints(uow, code, as_of.replace(day=1), as_of)
        whole = report(book, spec, code, latest, as_of, complaints)
        each = {}
        for number in versions:
            found = book.of_version(number)
            if found is None:
                raise NotFound(f"no version {number} of product {code!r} with a spec")
            each[number] = report(*found, code, number, as_of, complaints)
        return whole, each

    return run_in_transaction(ws.engine, use_case)


def report(
    book: Book, spec: ProductSpec, code: str, version: int, as_of: date, complaints: int
) -> ProductKpis:
    now = book.standings(as_of)
    headline = portfolio(book.records, now, as_of)
    per_thousand = (
        (Decimal(complaints) * 1000 / headline["active_loans"]).quantize(Decimal("0.01"))  # type: ignore[operator]
        if headline["active_loans"]
        else Decimal(0)
    )
    first = min((r.disbursed_on for r in book.records if r.disbursed_on), default=None)
    ends = month_ends(first, as_of) if first is not None and first <= as_of else []
    history = [(end, book.standings(end)) for end in ends]
    order = [b.name for b in spec.delinquency.buckets]
    series = []
    for end, standings in history:
        point = portfolio(book.records, standings, end)
        series.append(
            MonthEnd(
                month_end=end,
                outstanding=point["outstanding"],
                disbursed_amount=point["disbursed_amount"],
                active_loans=point["active_loans"],
                par30=point["par30"],
                non_performing_ratio=point["non_performing_ratio"],
            )
        )
    rolls = [
        RollRate(start=a, end=b, matrix=roll_rates(sa, sb, order))
        for (a, sa), (b, sb) in pairwise(history)
    ]
    return ProductKpis(
        product=code,
        version=version,
        as_of=as_of,
        kpis=PortfolioKpis(
            **headline,
            complaints_this_month=complaints,
            complaints_per_thousand=per_thousand,
        ),
        alerts=alerts(spec, headline, per_thousand),
        series=tuple(series),
        roll_rates=tuple(rolls),
        vintages=vintages(book.records, as_of),
    )


def alerts(spec: ProductSpec, kpis: dict[str, Any], per_thousand: Decimal) -> tuple[KpiAlert, ...]:
    """Each threshold of the spec's monitoring section that the figures cross."""
    limits = spec.monitoring.alerts
    hundred = Decimal(100)
    checks = [
        ("par30", kpis["par30"], limits.par30_max / hundred, "above"),
        ("non_performing_ratio", kpis["non_performing_ratio"], limits.non_performing_max / hundred,
         "above"),
        ("approval_rate", kpis["approval_rate"], limits.approval_rate_min / hundred, "below"),
        ("complaints_per_thousand", per_thousand, limits.complaints_per_thousand_max, "above"),
    ]  # fmt: skip
    found = []
    for name, value, limit, side in checks:
        if name == "approval_rate" and not kpis["decided"]:
            continue  # no decisions yet: nothing to alert on
        crossed = value > limit if side == "above" else value < limit
        if crossed:
            found.append(
                KpiAlert(
                    kpi=name,
                    value=value,
                    threshold=limit.normalize(),
                    message=f"{name} {value} is {side} the threshold {limit.normalize()}",
                )
            )
    return tuple(found)
