"""Customer feedback: ratings, the Net Promoter Score and the themes comments keep raising.

NPS follows its usual definition: of those who answered "how likely are you to
recommend us" (0–10), promoters answered 9 or 10 and detractors 0 to 6; the
score is the percentage of promoters less the percentage of detractors, from
-100 to 100. Themes are found by keyword, in Chinese and in English: a simple,
explainable count of how many comments touch each theme, which is what an
internal review needs to see what recurs (not a language model).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

PROMOTER_FROM = 9
DETRACTOR_TO = 6
ONE_PLACE = Decimal("0.1")


@dataclass(frozen=True)
class FeedbackResponse:
    """One customer's answers; a question left unanswered is None."""

    respondent: str
    rating: int | None  # 1 to 5
    nps: int | None  # 0 to 10
    comment: str


@dataclass(frozen=True)
class NetPromoterScore:
    answers: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> Decimal:
        """Promoters less detractors, in percent of answers, to one place."""
        if not self.answers:
            return Decimal(0)
        return (Decimal(100 * (self.promoters - self.detractors)) / self.answers).quantize(
            ONE_PLACE, ROUND_HALF_UP
        )


def net_promoter_score(answers: Sequence[int]) -> NetPromoterScore:
    promoters = sum(1 for a in answers if a >= PROMOTER_FROM)
    detractors = sum(1 for a in answers if a <= DETRACTOR_TO)
    return NetPromoterScore(
        answers=len(answers),
        promoters=promoters,
        passives=len(answers) - promoters - detractors,
        detractors=detractors,
    )


def average_rating(ratings: Sequence[int]) -> Decimal | None:
    """The mean rating (1–5) to two places; None when nobody rated."""
    if not ratings:
        return None
    return (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def rating_counts(ratings: Sequence[int]) -> dict[int, int]:
    return {stars: sum(1 for r in ratings if r == stars) for stars in range(1, 6)}


@dataclass(frozen=True)
class Theme:
    """A theme and its keywords: Chinese ones match anywhere in a comment, English ones as
    whole words (plural or not), case-insensitively, so "rate" does not match "accurate"."""

    code: str
    name_zh: str
    name_en: str
    keywords: tuple[str, ...]

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        parts = [
            rf"\b{re.escape(word)}(?:s|es)?\b" if word.isascii() else re.escape(word)
            for word in self.keywords
        ]
        return re.compile("|".join(parts), re.IGNORECASE)

    def found_in(self, comment: str) -> bool:
        return self._pattern.search(comment) is not None


THEMES: tuple[Theme, ...] = (
    Theme(
        "price",
        "利率与费用",
        "Price and fees",
        ("利息", "利率", "太贵", "偏高", "费用", "手续费", "interest", "rate", "expensive", "fee"),
    ),
    Theme(
        "speed",
        "审批与放款速度",
        "Approval and payout speed",
        ("到账", "放款", "审批", "审核", "很快", "太慢", "fast", "quick", "slow", "approval"),
    ),
    Theme(
        "app",
        "App 与操作体验",
        "App and ease of use",
        ("app", "界面", "操作", "闪退", "卡顿", "登录", "验证码", "crash", "login", "screen"),
    ),
    Theme(
        "repayment",
        "还款与扣款",
        "Repayment and direct debits",
        ("还款", "扣款", "提前还", "自动扣", "repay", "repayment", "debit", "instalment"),
    ),
    Theme(
        "limit",
        "额度与期限",
        "Amounts and terms",
        ("额度", "金额", "期限", "期数", "limit", "amount", "term", "months"),
    ),
    Theme(
        "service",
        "客服",
        "Customer service",
        ("客服", "服务态度", "人工", "投诉", "service", "support", "agent", "complaint"),
    ),
    Theme(
        "collection",
        "催收",
        "Collections",
        ("催收", "催款", "骚扰", "collection", "harass", "calls"),
    ),
    Theme(
        "transparency",
        "透明度",
        "Transparency",
        ("透明", "明白", "清楚", "隐藏", "看不懂", "transparent", "clear", "hidden", "confusing"),
    ),
    Theme(
        "promotion",
        "推广活动",
        "Promotions",
        ("免息", "活动", "推荐", "奖励", "优惠", "interest-free", "referral", "reward", "promo"),
    ),
)


@dataclass(frozen=True)
class ThemeCount:
    theme: Theme
    comments: int
    examples: tuple[str, ...]


def recurring_themes(
    comments: Sequence[str], themes: Sequence[Theme] = THEMES, examples: int = 2
) -> list[ThemeCount]:
    """Each theme that comments raise, most raised first, with a few comments that say it.

    A comment counts once for each theme it touches; themes nobody raised are left out.
    """
    found = []
    for theme in themes:
        hits = [c for c in comments if c.strip() and theme.found_in(c)]
        if hits:
            found.append(ThemeCount(theme, len(hits), tuple(hits[:examples])))
    order = {t.code: i for i, t in enumerate(themes)}
    return sorted(found, key=lambda t: (-t.comments, order[t.theme.code]))
