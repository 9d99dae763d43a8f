"""Stage 6, operate (运营管理与监控): the periodic review of a live product.

The review reads the product's book as of a business date (monitoring.kpis: KPIs,
month-end series, roll rates, vintages, alerts from the spec's thresholds), its
service tickets, and derives recommendations from the alerts and trends
(domain.review). It repeats — every month by the `product-review` schedule, or
whenever a product manager runs it — and a go at its gate keeps the product live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor
from lendflow.domain.criteria import Criterion
from lendflow.domain.money import parse_amount
from lendflow.domain.review import Alert, MonthEnd, recommendations
from lendflow.lifecycle.reports import stage_report
from lendflow.lifecycle.results import RunContext
from lendflow.monitoring.kpis import product_and_version_kpis
from lendflow.monitoring.tickets import list_tickets
from lendflow.rendering.reports import BarChart, Chart, Line, LineChart, Report
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store.uow import run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

HUNDRED = Decimal(100)
SHOWN_VERSIONS = ("live", "retired")


def versions_reviewed(ws: Workspace, code: str) -> list[tuple[int, str]]:
    """The versions that make loans or made them: live and retired, (number, state)."""
    return run_in_transaction(
        ws.engine,
        lambda uow: [
            (int(v["version"]), str(v["state"]))
            for v in lifecycle_rows.versions_of(uow, code)
            if v["state"] in SHOWN_VERSIONS and v["spec_yaml"] is not None
        ],
    )


def book_kpis(ws: Workspace, actor: Actor, code: str, as_of: date) -> dict[str, Any]:
    """The product's KPIs and each reviewed version's (as the JSON the run keeps), from
    one reading of the book."""
    reviewed = versions_reviewed(ws, code)
    whole, each = product_and_version_kpis(ws, actor, code, as_of, [n for n, _ in reviewed])
    return {
        "kpis": whole.model_dump(mode="json"),
        "versions": [
            {"version": number, "state": state, **each[number].model_dump(mode="json")}
            for number, state in reviewed
        ],
    }


def read_book(ws: Workspace, actor: Actor, code: str, as_of: date) -> dict[str, Any]:
    """Everything the review reads: the product's KPIs, each version's, its tickets (as
    the JSON the run keeps)."""
    tickets = list_tickets(ws, actor, as_of, product=code)
    return {
        **book_kpis(ws, actor, code, as_of),
        "tickets": [t.model_dump(mode="json") for t in tickets],
    }


def _service(tickets: list[dict[str, Any]], start: date) -> dict[str, Any]:
    """Tickets of the period: opened in it, resolved in it, still open, and breaches."""
    in_period = [
        ticket
        for ticket in tickets
        if date.fromisoformat(ticket["opened_on"]) >= start
        or ticket["state"] == "open"
        or (ticket["resolved_on"] and date.fromisoformat(ticket["resolved_on"]) >= start)
    ]
    return {
        "opened": sum(
            1 for ticket in in_period if date.fromisoformat(ticket["opened_on"]) >= start
        ),
        "resolved": sum(1 for ticket in in_period if ticket["resolved_on"]),
        "open": sum(1 for ticket in in_period if ticket["state"] == "open"),
        "complaints": sum(1 for ticket in in_period if ticket["kind"] == "complaint"),
        "questions": sum(1 for ticket in in_period if ticket["kind"] == "question"),
        "breached": [
            {
                k: ticket[k]
                for k in (
                    "id",
                    "kind",
                    "subject",
                    "opened_on",
                    "due_on",
                    "resolved_on",
                    "days_open",
                )
            }
            for ticket in in_period
            if ticket["breached"]
        ],
    }


def operate_outputs(book: dict[str, Any], as_of: date) -> dict[str, Any]:
    """The review's figures and the recommendations they lead to."""
    kpis = book["kpis"]
    start = as_of.replace(day=1)
    service = _service(book["tickets"], start)
    series = [
        MonthEnd(
            s["month_end"],
            parse_amount(s["outstanding"], allow_zero=True),
            Decimal(s["par30"]),
            Decimal(s["non_performing_ratio"]),
        )
        for s in kpis["series"]
    ]
    alerts = [Alert(a["kpi"], a["value"], a["threshold"]) for a in kpis["alerts"]]
    advice = recommendations(alerts, series, len(service["breached"]))
    return {
        "as_of": as_of.isoformat(),
        "period": {"from": start.isoformat(), "to": as_of.isoformat()},
        "kpis": kpis["kpis"],
        "alerts": kpis["alerts"],
        "series": kpis["series"],
        "roll_rates": kpis["roll_rates"][-1] if kpis["roll_rates"] else None,
        "vintages": kpis["vintages"],
        "versions": [
            {
                "version": v["version"],
                "state": v["state"],
                **{
                    k: v["kpis"][k]
                    for k in (
                        "applications",
                        "disbursed_count",
                        "disbursed_amount",
                        "active_loans",
                        "outstanding",
                        "par30",
                        "non_performing_ratio",
                    )
                },
            }
            for v in book["versions"]
        ],
        "service": service,
        "recommendations": [{"code": r.code, "basis": r.basis} for r in advice],
    }


def operate_criteria(outputs: dict[str, Any]) -> list[Criterion]:
    alerts = outputs["alerts"]
    breached = outputs["service"]["breached"]
    return [
        Criterion(
            "kpis_within_thresholds",
            not alerts,
            "; ".join(a["message"] for a in alerts)
            if alerts
            else "every monitored KPI within the spec's thresholds",
            {"alerts": [[a["kpi"], a["value"], a["threshold"]] for a in alerts]},
        ),
        Criterion(
            "service_levels_met",
            not breached,
            f"{len(breached)} tickets past their deadline: "
            + ", ".join(f"#{b['id']}" for b in breached)
            if breached
            else f"no ticket past its deadline ({outputs['service']['opened']} opened this month)",
            {"breached": [b["id"] for b in breached], "opened": outputs["service"]["opened"]},
        ),
    ]


KPI_ROWS = (
    ("applications", "count"),
    ("approval_rate", "ratio"),
    ("disbursed_count", "count"),
    ("disbursed_amount", "money"),
    ("active_loans", "count"),
    ("outstanding", "money"),
    ("par1", "ratio"),
    ("par30", "ratio"),
    ("par90", "ratio"),
    ("non_performing_ratio", "ratio"),
    ("written_off_amount", "money"),
    ("complaints_per_thousand", "plain"),
)
"""The portfolio indicators the review shows, in order, each with how it is written."""
RATIO_KPIS = ("approval_rate", "par1", "par30", "par90", "non_performing_ratio")


def typed(value: Any, kind: str) -> Any:
    """A stored indicator as the report needs it: fen, a ratio, a count."""
    if kind == "money":
        return parse_amount(value, allow_zero=True)
    if kind in ("ratio", "plain"):
        return Decimal(value)
    return value


@dataclass(frozen=True)
class VersionRow:
    version: int
    state: str
    disbursed_count: int
    outstanding: int
    par30: Decimal
    non_performing_ratio: Decimal


@dataclass(frozen=True)
class AlertRow:
    kpi: str
    value: Decimal
    threshold: Decimal


@dataclass(frozen=True)
class Ticket:
    id: int
    kind: str
    subject: str
    opened_on: date
    due_on: date
    resolved_on: date | None


@dataclass(frozen=True)
class Service:
    opened: int
    resolved: int
    open: int
    complaints: int
    questions: int
    breached: tuple[Ticket, ...]


@dataclass(frozen=True)
class Rolls:
    start: date
    end: date
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True)
class Advice:
    """A recommendation by code, with the figures that prompted it (`basis`)."""

    code: str
    basis: dict[str, Any]


@dataclass(frozen=True)
class ReviewData:
    as_of: date
    kpis: tuple[tuple[str, str, Any], ...]
    """(indicator, how it is written: count, ratio, money or plain, value)."""
    outstanding: int
    par30: Decimal
    versions: tuple[VersionRow, ...]
    rolls: Rolls | None
    alerts: tuple[AlertRow, ...]
    service: Service
    advice: tuple[Advice, ...]
    ratio_kpis: tuple[str, ...] = RATIO_KPIS


def operate_report(ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]) -> Report:
    kpis, service, rolls = outputs["kpis"], outputs["service"], outputs["roll_rates"]
    data = ReviewData(
        as_of=date.fromisoformat(outputs["as_of"]),
        kpis=tuple((key, kind, typed(kpis[key], kind)) for key, kind in KPI_ROWS),
        outstanding=typed(kpis["outstanding"], "money"),
        par30=Decimal(kpis["par30"]),
        versions=tuple(
            VersionRow(
                v["version"],
                v["state"],
                v["disbursed_count"],
                typed(v["outstanding"], "money"),
                Decimal(v["par30"]),
                Decimal(v["non_performing_ratio"]),
            )
            for v in outputs["versions"]
        ),
        rolls=None if not rolls else roll_rates_view(rolls),
        alerts=tuple(
            AlertRow(a["kpi"], Decimal(a["value"]), Decimal(a["threshold"]))
            for a in outputs["alerts"]
        ),
        service=Service(
            service["opened"],
            service["resolved"],
            service["open"],
            service["complaints"],
            service["questions"],
            tuple(_ticket(b) for b in service["breached"]),
        ),
        advice=tuple(_advice(r, outputs) for r in outputs["recommendations"]),
    )
    return stage_report(ctx, data, criteria, kpi_charts(outputs))


def roll_rates_view(rolls: dict[str, Any]) -> Rolls:
    columns = tuple(next(iter(rolls["matrix"].values())))
    return Rolls(
        date.fromisoformat(rolls["from"]),
        date.fromisoformat(rolls["to"]),
        columns,
        tuple((bucket, tuple(row[c] for c in columns)) for bucket, row in rolls["matrix"].items()),
    )


def _ticket(b: dict[str, Any]) -> Ticket:
    return Ticket(
        id=int(b["id"]),
        kind=b["kind"],
        subject=b["subject"],
        opened_on=date.fromisoformat(b["opened_on"]),
        due_on=date.fromisoformat(b["due_on"]),
        resolved_on=date.fromisoformat(b["resolved_on"]) if b["resolved_on"] else None,
    )


def _advice(recommendation: dict[str, Any], outputs: dict[str, Any]) -> Advice:
    """The recommendation with its basis as figures: the alert, the trend or the breaches."""
    series = outputs["series"][-3:]
    span = [s["month_end"] for s in series[:1] + series[-1:]] if series else []
    by_kpi = {a["kpi"]: a for a in outputs["alerts"]}
    alert = by_kpi.get(recommendation["basis"].split(" ", 1)[0])
    basis: dict[str, Any] = {"span": span}
    if alert is not None:
        basis["alert"] = AlertRow(
            alert["kpi"], Decimal(alert["value"]), Decimal(alert["threshold"])
        )
    basis["par30"] = [Decimal(s["par30"]) for s in series]
    basis["non_performing_ratio"] = [Decimal(s["non_performing_ratio"]) for s in series]
    basis["breached"] = len(outputs["service"]["breached"])
    return Advice(recommendation["code"], basis)


def kpi_charts(outputs: dict[str, Any]) -> tuple[Chart, ...]:
    """The review's charts (outstanding, quality, buckets, vintages) from a product's KPIs as
    JSON (`product_kpis(...).model_dump(mode="json")` has every key read here); the
    console's monitoring page draws the same ones."""
    series = outputs["series"]
    if not series:
        return ()
    labels = tuple(s["month_end"][:7] for s in series)
    drawn: list[Chart] = [
        LineChart(
            "outstanding",
            labels,
            (Line("outstanding", tuple(float(Decimal(s["outstanding"])) for s in series)),),
        ),
        LineChart(
            "quality",
            labels,
            (
                Line("par30", tuple(float(Decimal(s["par30"]) * HUNDRED) for s in series)),
                Line(
                    "non_performing",
                    tuple(float(Decimal(s["non_performing_ratio"]) * HUNDRED) for s in series),
                    dashed=True,
                ),
            ),
            unit="%",
        ),
    ]
    buckets = outputs["kpis"]["buckets"]
    if buckets:
        drawn.append(
            BarChart("buckets", tuple(buckets), tuple(buckets.values()), names="LOAN_STATES")
        )
    curves = {m: v for m, v in outputs["vintages"].items() if v}
    if curves:
        longest = max(len(v) for v in curves.values())
        drawn.append(
            LineChart(
                "vintages",
                tuple(str(k) for k in range(1, longest + 1)),
                tuple(
                    Line(month, tuple(float(Decimal(x) * HUNDRED) for x in values))
                    for month, values in list(curves.items())[-5:]
                ),
                unit="%",
            )
        )
    return tuple(drawn)
