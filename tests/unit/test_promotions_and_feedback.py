"""The pure arithmetic of stages 5–7: waivers, the channel plan, NPS and themes, advice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lendflow.domain.channels import Channel, plan_channels
from lendflow.domain.feedback import net_promoter_score, recurring_themes
from lendflow.domain.promotions import ScheduledInterest, interest_free_waivers
from lendflow.domain.review import Alert, MonthEnd, recommendations
from lendflow.domain.schedule import ScheduleTerms, generate
from lendflow.states.machine import machine

MONTHLY = [
    ScheduledInterest(1, date(2026, 2, 15), 14000),  # 31 days from 15 January
    ScheduledInterest(2, date(2026, 3, 15), 12900),  # 28 days
    ScheduledInterest(3, date(2026, 4, 15), 11800),  # 31 days
]


@pytest.mark.parametrize(
    ("free_days", "expected"),
    [
        (0, {}),
        (1, {1: 452}),  # 140.00 × 1/31 = 4.516…
        (30, {1: 13548}),  # 140.00 × 30/31 = 135.483…
        (31, {1: 14000}),  # the whole first period
        (45, {1: 14000, 2: 6450}),  # and 14 of the second's 28 days: 129.00 / 2
        (90, {1: 14000, 2: 12900, 3: 11800}),  # every period inside the free days
    ],
)
def test_interest_free_days_waive_each_periods_share_to_the_fen(
    free_days: int, expected: dict[int, int]
) -> None:
    assert interest_free_waivers(date(2026, 1, 15), MONTHLY, free_days) == expected


def test_a_waiver_never_exceeds_the_interest_and_skips_rows_without_any() -> None:
    rows = [ScheduledInterest(0, date(2026, 1, 15), 0), *MONTHLY]
    assert interest_free_waivers(date(2026, 1, 15), rows, 366) == {1: 14000, 2: 12900, 3: 11800}
    with pytest.raises(ValueError, match="free days must be between 0 and 366"):
        interest_free_waivers(date(2026, 1, 15), rows, 400)


def test_a_waiver_on_a_generated_schedule_is_the_first_months_interest_pro_rata() -> None:
    terms = ScheduleTerms(principal=1_000_000, annual_rate=Decimal("16.80"), repayments=12,
                          disbursed=date(2026, 7, 15))  # fmt: skip
    schedule = generate(terms)
    first = schedule.instalments[0]
    items = [ScheduledInterest(i.n, i.due_date, i.interest) for i in schedule.instalments]
    waivers = interest_free_waivers(date(2026, 7, 15), items, 30)
    days = (first.due_date - date(2026, 7, 15)).days
    assert waivers == {1: (first.interest * 30 * 2 + days) // (2 * days)}


def channel(code: str, cost: str, conversion: str, capacity: int, **fit: str) -> Channel:
    return Channel(
        code=code,
        name=code,
        cost_per_acquisition=int(Decimal(cost) * 100),
        conversion=Decimal(conversion),
        capacity=capacity,
        fit={k: Decimal(v) for k, v in fit.items()},
    )


def test_the_budget_goes_down_the_ranking_in_whole_acquisitions() -> None:
    channels = [
        channel("dear", "50.00", "10", 1000, target="100"),  # 0.002 target apps a yuan
        channel("cheap", "10.00", "5", 300, target="80", other="20"),  # 0.004
        channel("off", "1.00", "50", 1000, other="100"),  # reaches no target segment
        channel("free", "0.00", "2", 500, target="50", other="50"),
    ]
    plan = plan_channels(channels, 1_000_000, ["target"])  # 10,000.00 yuan
    assert [(c.code, c.acquisitions, c.cost) for c in plan.channels] == [
        ("free", 500, 0),
        ("cheap", 300, 300_000),
        ("dear", 140, 700_000),  # 7,000.00 left buys 140 at 50.00
        ("off", 0, 0),
    ]
    assert plan.cost == 1_000_000
    assert [c.applications for c in plan.channels] == [10, 15, 14, 0]
    assert plan.by_segment("target") == 5 + 12 + 14
    assert plan.channels[1].cost_per_application == 20_000  # 3,000.00 for 15


def test_what_is_left_of_a_budget_buys_nothing_that_brings_no_application() -> None:
    plan = plan_channels([channel("crumbs", "12.00", "2.5", 1000, target="100")], 1_200, ["target"])
    assert (plan.channels[0].acquisitions, plan.cost) == (0, 0)


def test_nps_counts_promoters_less_detractors() -> None:
    nps = net_promoter_score([10, 9, 9, 8, 7, 6, 3, 0, 10, 10])
    assert (nps.promoters, nps.passives, nps.detractors, nps.score) == (5, 2, 3, Decimal("20.0"))
    assert net_promoter_score([]).score == 0


def test_themes_match_chinese_anywhere_and_english_as_whole_words() -> None:
    found = recurring_themes(
        [
            "利息有点高",
            "The rate is too high",
            "very accurate figures",  # not the price theme
            "App crashes at login",
            "审批很快",
            "",
        ]
    )
    assert [(t.theme.code, t.comments) for t in found] == [("price", 2), ("speed", 1), ("app", 1)]
    assert found[0].examples == ("利息有点高", "The rate is too high")


def month(end: str, outstanding: int, par30: str, npl: str = "0") -> MonthEnd:
    return MonthEnd(end, outstanding, Decimal(par30), Decimal(npl))


def test_recommendations_follow_alerts_trends_and_breaches() -> None:
    rising = [
        month("2026-05-31", 300, "0.0100"),
        month("2026-06-30", 200, "0.0150"),
        month("2026-07-31", 100, "0.0200"),
    ]
    advice = recommendations([Alert("complaints_per_thousand", "12", "5")], rising, 2)
    assert [r.code for r in advice] == [
        "address_complaints",
        "watch_par30",
        "revive_growth",
        "meet_service_levels",
    ]
    assert advice[1].basis == "PAR30 0.0100 → 0.0150 → 0.0200 (2026-05-31 – 2026-07-31)"
    # An alert on PAR30 already says it; a trend of two months is no trend.
    crossed = recommendations([Alert("par30", "0.06", "0.05")], rising, 0)
    assert [r.code for r in crossed] == ["tighten_credit", "revive_growth"]
    assert [r.code for r in recommendations([], rising[1:], 0)] == ["hold_course"]


def test_a_live_version_stays_live_through_its_gates_and_opens_the_next_in_design() -> None:
    product = machine("product")
    assert product.fire("live", "go", {"criteria_passed": True}).dest == "live"
    with pytest.raises(Exception, match="needs a note"):
        product.fire("live", "go", {"criteria_passed": False, "note": " "})
    assert product.fire("live", "go", {"criteria_passed": False, "note": "fixing"}).dest == "live"
    with pytest.raises(Exception, match="proposes no change"):
        product.fire("live", "open_next_version", {"spec_changes": 0})
    assert product.fire("live", "open_next_version", {"spec_changes": 3}).dest == "live"
    assert product.fire("draft", "enter_design", {"spec_changes": 3}).dest == "design"
    assert product.fire("live", "retire").dest == "retired"
