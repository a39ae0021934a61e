"""Free text is clean: no BSN, no control characters, no hidden direction marks."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.text import clean_text, contains_bsn, passes_eleven_test


@pytest.mark.parametrize("bsn", ["111222333", "123456782", "012345672"])
def test_valid_bsns_pass_the_eleven_test(bsn):
    assert passes_eleven_test(bsn)


@pytest.mark.parametrize("text", ["BSN: 111222333", "bsn 123.456.782", "nr 1234 567 82"])
def test_a_bsn_inside_text_is_found(text):
    assert contains_bsn(text)


@pytest.mark.parametrize(
    "text", ["tel 0612345678", "postcode 1102 AB", "123456789", "2019-03-31", "000000000"]
)
def test_phone_numbers_postcodes_and_dates_are_not_a_bsn(text):
    assert not contains_bsn(text)


@pytest.mark.parametrize("text", ["a\x00b", "\u202eevil", "lone \ud800", "bell\x07"])
def test_control_and_direction_characters_are_refused(text):
    with pytest.raises(ValueError, match="control"):
        clean_text(text)


@given(st.integers(min_value=10_000_000, max_value=999_999_999))
def test_the_eleven_test_matches_its_definition(number):
    digits = str(number).zfill(9)
    weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
    expected = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0
    assert passes_eleven_test(digits) == expected
