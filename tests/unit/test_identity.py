"""Identity checks: a valid ID is never refused, a mistyped one never accepted.

A refused valid ID turns a borrower away; an accepted typo attaches a loan to
the wrong person. And since error messages reach logs, none may repeat an ID.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from lendflow.domain.errors import BadInput
from lendflow.domain.identity import (
    age_on,
    birth_date,
    mask_name,
    mask_national_id,
    mask_phone,
    sample_national_id,
    validate_name,
    validate_national_id,
    validate_phone,
)

SETTINGS = settings(max_examples=100, deadline=None)
BIRTHS = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
SERIALS = st.integers(min_value=0, max_value=999)
VALID_IDS = st.builds(sample_national_id, BIRTHS, SERIALS)
KNOWN_ID = "11010519491231002X"


def refusal(raw: str) -> str:
    """The message validate_national_id refuses `raw` with."""
    with pytest.raises(BadInput) as caught:
        validate_national_id(raw)
    return caught.value.message


# --- national ID: examples -------------------------------------------------------


def test_known_id_is_valid_and_agrees_with_stdnum() -> None:
    assert validate_national_id(KNOWN_ID) == KNOWN_ID
    assert ric.validate(KNOWN_ID) == KNOWN_ID
    assert sample_national_id(date(1949, 12, 31), 2) == KNOWN_ID


def test_spaces_are_dropped_and_a_trailing_x_is_upper_cased() -> None:
    assert validate_national_id("  110105 19491231 002x ") == KNOWN_ID


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("11010519491231002", "national ID must have 18 characters, got 17"),
        ("11010519491231002X1", "national ID must have 18 characters, got 19"),
        ("", "national ID must have 18 characters, got 0"),
        ("110105199013450019", "national ID has an impossible birth date 19901345"),
        ("110105199002290014", "national ID has an impossible birth date 19900229"),
        ("110105000001010011", "national ID has an impossible birth date 00000101"),
        ("110105194912310021", "national ID checksum does not match (last character should be X)"),
        ("X1010519491231002X", "national ID may contain only digits and a final X"),
        ("11010519491231002Y", "national ID may contain only digits and a final X"),
        ("１10105194912310021", "national ID may contain only digits and a final X"),
    ],
)
def test_refusals_name_what_is_wrong(raw: str, message: str) -> None:
    assert refusal(raw) == message


def test_an_area_code_stdnum_does_not_know_for_the_birth_year_is_accepted() -> None:
    # Changping became district 110114 in 1999; people registered there since
    # then hold 110114 IDs whatever their birth year, though stdnum refuses them.
    first17 = "11011419800101001"
    national_id = first17 + ric.calc_check_digit(first17 + "0")
    assert not ric.is_valid(national_id)
    assert validate_national_id(national_id) == national_id


def test_a_province_only_area_code_does_not_crash() -> None:
    # stdnum 2.2's ric.validate raises KeyError here instead of a ValidationError.
    first17 = "11000119800101001"
    national_id = first17 + ric.calc_check_digit(first17 + "0")
    assert validate_national_id(national_id) == national_id


def test_birth_date_and_age() -> None:
    assert birth_date(KNOWN_ID) == date(1949, 12, 31)
    assert age_on(KNOWN_ID, date(1949, 12, 31)) == 0
    assert age_on(KNOWN_ID, date(2024, 12, 30)) == 74
    assert age_on(KNOWN_ID, date(2024, 12, 31)) == 75


@pytest.mark.parametrize(
    ("on", "age"),
    [
        (date(2001, 2, 28), 0),
        (date(2001, 3, 1), 1),
        (date(2003, 2, 28), 2),
        (date(2003, 3, 1), 3),
        (date(2004, 2, 28), 3),
        (date(2004, 2, 29), 4),
        (date(2100, 2, 28), 99),
        (date(2100, 3, 1), 100),
    ],
)
def test_a_leap_day_birthday_counts_on_the_first_of_march(on: date, age: int) -> None:
    assert age_on(sample_national_id(date(2000, 2, 29), 17), on) == age


def test_age_before_birth_is_refused() -> None:
    with pytest.raises(BadInput, match="before the birth date"):
        age_on(KNOWN_ID, date(1949, 12, 30))


def test_birth_date_validates_the_id() -> None:
    with pytest.raises(BadInput, match="checksum"):
        birth_date("110105194912310021")


def test_sample_serial_must_have_three_digits() -> None:
    with pytest.raises(BadInput, match="serial"):
        sample_national_id(date(1990, 1, 1), 1000)
    with pytest.raises(BadInput, match="serial"):
        sample_national_id(date(1990, 1, 1), -1)


# --- national ID: properties -----------------------------------------------------


@SETTINGS
@given(BIRTHS, SERIALS)
def test_sample_ids_round_trip_and_agree_with_stdnum(born: date, serial: int) -> None:
    national_id = sample_national_id(born, serial)
    assert len(national_id) == 18
    assert validate_national_id(national_id) == national_id
    assert validate_national_id(national_id.lower()) == national_id
    assert ric.validate(national_id) == national_id
    assert ric.calc_check_digit(national_id) == national_id[-1]
    assert birth_date(national_id) == born


DIGITS = "0123456789"


@SETTINGS
@given(
    st.text(alphabet=DIGITS, min_size=6, max_size=6),
    BIRTHS,
    st.text(alphabet=DIGITS, min_size=3, max_size=3),
)
def test_any_area_code_is_accepted_with_the_stdnum_check_character(
    area: str, born: date, serial: str
) -> None:
    first17 = f"{area}{born:%Y%m%d}{serial}"
    expected = ric.calc_check_digit(first17 + "0")
    national_id = first17 + expected
    assert validate_national_id(national_id) == national_id
    assert birth_date(national_id) == born
    for wrong in sorted(set(DIGITS + "X") - {expected}):
        assert refusal(first17 + wrong) == (
            f"national ID checksum does not match (last character should be {expected})"
        )


@SETTINGS
@given(st.text(alphabet=DIGITS, min_size=17, max_size=17))
def test_any_seventeen_digits_are_accepted_or_refused_for_their_date(first17: str) -> None:
    national_id = first17 + ric.calc_check_digit(first17 + "0")
    try:
        date(int(first17[6:10]), int(first17[10:12]), int(first17[12:14]))
    except ValueError:
        assert refusal(national_id) == (f"national ID has an impossible birth date {first17[6:14]}")
    else:
        assert validate_national_id(national_id) == national_id


@SETTINGS
@given(VALID_IDS, st.integers(min_value=0, max_value=17), st.data())
def test_any_single_character_change_is_refused(
    national_id: str, position: int, data: st.DataObject
) -> None:
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from(sorted(set(alphabet) - {national_id[position]})))
    changed = national_id[:position] + replacement + national_id[position + 1 :]
    message = refusal(changed)
    assert national_id not in message
    assert changed not in message


ID_LIKE = st.text(alphabet="0123456789Xx \t-", min_size=10, max_size=24)


@SETTINGS
@given(
    st.one_of(
        ID_LIKE,
        VALID_IDS.map(lambda national_id: national_id[:-1] + "Y"),
        VALID_IDS.map(lambda national_id: national_id[:10] + "13" + national_id[12:]),
    )
)
def test_messages_never_repeat_the_id(raw: str) -> None:
    try:
        validate_national_id(raw)
    except BadInput as exc:
        compact = "".join(raw.split())
        assert compact not in exc.message
        assert compact.upper() not in exc.message


@SETTINGS
@given(st.text(max_size=30))
def test_messages_are_one_line(raw: str) -> None:
    try:
        validate_national_id(raw)
    except BadInput as exc:
        assert "\n" not in exc.message and "\r" not in exc.message
        assert len(exc.message) < 100


# --- phone -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        " 138 1234 5678 ",
        "138-1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "86-138-1234-5678",
        "8613812345678",
    ],
)
def test_phone_is_normalised_to_eleven_digits(raw: str) -> None:
    assert validate_phone(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1381234567",
        "138123456789",
        "12812345678",
        "23812345678",
        "+8612812345678",
        "008613812345678",
        "+85213812345678",
        "86138123456",
        "１３８１２３４５６７８",
        "138.1234.5678",
        "+",
    ],
)
def test_phone_refusals(raw: str) -> None:
    with pytest.raises(BadInput) as caught:
        validate_phone(raw)
    assert caught.value.message == "phone must be a mainland mobile number of 11 digits"


@SETTINGS
@given(
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from(["", "86", "+86", "+86 ", "86-"]),
    st.sampled_from(["", " ", "-"]),
)
def test_any_mobile_number_round_trips(second: str, rest: str, prefix: str, sep: str) -> None:
    digits = "1" + second + rest
    typed = prefix + digits[:3] + sep + digits[3:7] + sep + digits[7:]
    assert validate_phone(typed) == digits
    assert validate_phone(digits) == digits


# --- name ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("  张三 ", "张三"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("Li Lei", "Li Lei"),
        ("阿沛·阿旺晋美", "阿沛·阿旺晋美"),
        ("x" * 50, "x" * 50),
        ("Jose\u0301", "José"),
    ],
)
def test_names_are_trimmed_and_kept(raw: str, name: str) -> None:
    assert validate_name(raw) == name


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "name must not be empty"),
        ("   ", "name must not be empty"),
        ("x" * 51, "name must have at most 50 characters, got 51"),
        ("张\n三", "name must not contain control or invisible characters"),
        ("张\x00三", "name must not contain control or invisible characters"),
        ("张\u202e三", "name must not contain control or invisible characters"),
        ("张\u200b三", "name must not contain control or invisible characters"),
        ("张\u2028三", "name must not contain control or invisible characters"),
    ],
)
def test_name_refusals(raw: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        validate_name(raw)
    assert caught.value.message == message


# --- masking ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("欧阳娜娜", "欧***"), ("Li Lei", "L*****"), ("张", "张"), ("", "")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mask_national_id_and_phone() -> None:
    assert mask_national_id(KNOWN_ID) == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"


def test_short_values_are_masked_completely() -> None:
    assert mask_national_id("1101051949") == "**********"
    assert mask_national_id("11010519491231002") == "*" * 17
    assert mask_phone("1381234") == "*******"
    assert mask_phone("1381234567") == "*" * 10


@SETTINGS
@given(VALID_IDS)
def test_masked_id_hides_birth_date_and_serial(national_id: str) -> None:
    masked = mask_national_id(national_id)
    assert len(masked) == 18
    assert masked[6:14] == "*" * 8
    assert masked[:6] == national_id[:6] and masked[-4:] == national_id[-4:]


@SETTINGS
@given(st.text(min_size=1, max_size=50))
def test_masked_name_keeps_only_the_first_character(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert masked[0] == name[0]
    assert set(masked[1:]) <= {"*"}
