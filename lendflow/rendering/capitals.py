"""Amounts in Chinese capitals (大写金额), as the PBOC's voucher rules write them.

Capitals are what a borrower signs under: they cannot be altered by adding a
stroke, so a contract states the amount in figures and in capitals. The rules
(《正确填写票据和结算凭证的基本规定》): 人民币 before the amount; 整 after 元 when
there are no 角 or 分 (none after 角 or 分); one 零 for each run of zeros between
digits; 零 after 元 when the 角 is zero but the 分 is not; 壹 before a leading 拾.
"""

from __future__ import annotations

from lendflow.domain.errors import BadInput

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")
PREFIX = "人民币"


def amount_in_capitals(fen: int) -> str:
    """人民币 and the amount in capitals: 140950 fen -> 人民币壹仟肆佰零玖元伍角."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise BadInput(f"an amount in capitals needs integer fen, got {type(fen).__name__}")
    if fen < 0:
        raise BadInput(f"an amount in capitals cannot be negative, got {fen} fen")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    if yuan >= 10 ** (4 * len(GROUPS)):
        raise BadInput(f"amount too large to write in capitals: {yuan} yuan")
    if yuan == 0 and cents == 0:
        return PREFIX + "零元整"
    text = _whole_yuan(yuan) + "元" if yuan else ""
    if cents == 0:
        return PREFIX + text + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif yuan:
        text += "零"  # 角 zero between 元 and 分
    if fen_digit:
        text += DIGITS[fen_digit] + "分"
    return PREFIX + text


def _whole_yuan(yuan: int) -> str:
    """Whole yuan in capitals, groups of four digits under 万 and 亿."""
    digits = [int(d) for d in str(yuan)]
    out: list[str] = []
    zero_pending = False
    group_has_digit = False
    for i, digit in enumerate(digits):
        place = len(digits) - 1 - i
        if digit == 0:
            zero_pending = bool(out)
        else:
            if zero_pending:
                out.append("零")
                zero_pending = False
            out.append(DIGITS[digit] + PLACES[place % 4])
            group_has_digit = True
        if place % 4 == 0 and place > 0:
            if group_has_digit:
                out.append(GROUPS[place // 4])
            group_has_digit = False
    return "".join(out)
