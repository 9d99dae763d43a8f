"""Borrower identity: national ID, mobile phone and name, checked and masked.

These values are personal data. Every error here names what is wrong without
repeating the value (at most the birth date part of an ID or a length), because
error messages end up in logs and logs are not protected like the data store.
The masking functions are the only way such a value should reach a screen.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from stdnum.cn import ric

from lendflow.domain.errors import BadInput

NATIONAL_ID_LENGTH = 18
NAME_MAX_LENGTH = 50
SAMPLE_AREA_CODE = "110105"

# ISO 7064 MOD 11-2 as used by GB 11643: weight of each of the first 17 digits,
# and the check character indexed by the weighted sum modulo 11.
CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"

# ASCII only: `\d` would also accept full-width and other scripts' digits.
_NATIONAL_ID = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
_PHONE_SEPARATORS = re.compile(r"[\s-]+")
# Control and format characters (incl. bidi overrides, zero-width marks), lone
# surrogates and line/paragraph separators: invisible in a form, harmful in a log.
# Private-use and unassigned code points stay allowed: rare characters in names
# are still encoded there by some registries, or are newer than our Unicode table.
_REFUSED_NAME_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def validate_national_id(raw: str) -> str:
    """Normalise a resident identity number and refuse it unless it is well formed.

    Spaces are dropped and a trailing lower-case x is upper-cased, since both are
    how people type a correct number. The checks run from the coarsest to the
    finest so the message points at the first thing the user has to fix.
    """
    national_id = "".join(raw.split())
    if national_id.endswith("x"):
        national_id = national_id[:-1] + "X"
    if len(national_id) != NATIONAL_ID_LENGTH:
        raise BadInput(
            f"national ID must have {NATIONAL_ID_LENGTH} characters, got {len(national_id)}"
        )
    if not _NATIONAL_ID.fullmatch(national_id):
        raise BadInput("national ID may contain only digits and a final X")
    _birth_date_of(national_id)
    # The checksum comes from stdnum, but not `ric.validate`: after the checksum it
    # also looks up the area code, which refuses valid IDs (it only knows codes
    # in use in the birth year, yet a code is assigned at registration: 110114
    # dates from 1999 and is held by people born long before) and, for some
    # province-only codes such as 110001, fails with a KeyError (stdnum 2.2).
    expected = ric.calc_check_digit(national_id)
    if national_id[-1] != expected:
        raise BadInput(f"national ID checksum does not match (last character should be {expected})")
    return national_id


def birth_date(national_id: str) -> date:
    """The birth date encoded in a national ID, after validating the whole ID."""
    return _birth_date_of(validate_national_id(national_id))


def age_on(national_id: str, on: date) -> int:
    """Completed years of age on `on`.

    A birthday counts once its (month, day) is reached, so someone born on
    29 February turns a year older on 1 March in a non-leap year.
    """
    born = birth_date(national_id)
    if on < born:
        raise BadInput(f"cannot compute an age on {on.isoformat()}: it is before the birth date")
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def validate_phone(raw: str) -> str:
    """Normalise a mainland mobile number to its 11 digits.

    The +86 / 86 country prefix, spaces and dashes are how numbers are copied
    from contacts; storing the bare digits makes duplicates comparable.
    """
    compact = _PHONE_SEPARATORS.sub("", raw)
    match = _MOBILE.fullmatch(compact)
    if match is None:
        raise BadInput("phone must be a mainland mobile number of 11 digits")
    return match.group(1)


def validate_name(raw: str) -> str:
    """A person's name, trimmed, in NFC so equal names compare and hash equal.

    Characters that do not show (controls, bidi overrides, zero-width marks)
    are refused: they let two different records look identical on paper.
    """
    name = unicodedata.normalize("NFC", raw.strip())
    if not name:
        raise BadInput("name must not be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise BadInput(f"name must have at most {NAME_MAX_LENGTH} characters, got {len(name)}")
    if any(unicodedata.category(char) in _REFUSED_NAME_CATEGORIES for char in name):
        raise BadInput("name must not contain control or invisible characters")
    return name


def mask_name(name: str) -> str:
    """First character, then one * per remaining character: '张三' -> '张*'."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


def mask_national_id(national_id: str) -> str:
    """Keep the area code and the last four: '110105********002X'.

    Anything shorter than a full ID is masked completely, so a truncated or
    mistyped value never shows more than a full ID would.
    """
    if len(national_id) < NATIONAL_ID_LENGTH:
        return "*" * len(national_id)
    return national_id[:6] + "*" * (len(national_id) - 10) + national_id[-4:]


def mask_phone(phone: str) -> str:
    """Keep the carrier prefix and the last four: '138****5678'.

    Anything shorter than 11 characters is masked completely, for the same
    reason as `mask_national_id`.
    """
    if len(phone) < 11:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def sample_national_id(birth: date, serial: int) -> str:
    """A valid ID for tests and demos, in Beijing Chaoyang (110105).

    Built independently of stdnum so tests can check one implementation of the
    checksum against the other.
    """
    if not 0 <= serial <= 999:
        raise BadInput(f"national ID serial must be 0 to 999, got {serial}")
    first17 = f"{SAMPLE_AREA_CODE}{birth.year:04d}{birth.month:02d}{birth.day:02d}{serial:03d}"
    return first17 + _check_character(first17)


def _check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, CHECK_WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def _birth_date_of(national_id: str) -> date:
    """The YYYYMMDD at positions 7-14 as a date; BadInput if no such day exists."""
    digits = national_id[6:14]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise BadInput(f"national ID has an impossible birth date {digits}") from None
