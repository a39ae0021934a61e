"""The list cursor: opaque to clients, typed inside (api/schemas.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from api.errors import InvalidInput
from api.schemas import decode_cursor, encode_cursor


def test_a_cursor_gives_back_the_types_the_list_asked_for() -> None:
    at = datetime(2019, 3, 31, 12, 0, tzinfo=UTC)
    an_id = uuid4()
    cursor = encode_cursor([at.isoformat(), str(an_id)])
    assert decode_cursor(cursor, datetime, UUID) == [at, an_id]
    assert decode_cursor(encode_cursor(["2019-03-31", str(an_id)]), date, UUID) == [
        date(2019, 3, 31),
        an_id,
    ]
    assert decode_cursor(encode_cursor([3, "multibron"]), int, str) == [3, "multibron"]
    assert decode_cursor(None, date, UUID) is None


@pytest.mark.parametrize(
    "values",
    [
        ["2019-02-30", str(uuid4())],  # no such day
        ["2019-03-31", "not-an-id"],
        [20190331, str(uuid4())],  # a number where the list gave text
        ["2019-03-31"],  # too few values
        ["2019-03-31\x00", str(uuid4())],
    ],
)
def test_a_cursor_this_list_did_not_give_out_is_invalid_input(values: list[object]) -> None:
    with pytest.raises(InvalidInput) as raised:
        decode_cursor(encode_cursor(values), date, UUID)
    assert raised.value.extra["invalidParams"] == [
        {"name": "cursor", "reason": "not a cursor this list gave out"}
    ]


def test_text_that_is_no_cursor_at_all_is_invalid_input() -> None:
    for text in ("%%%", "bm90IGpzb24", ""):
        with pytest.raises(InvalidInput):
            decode_cursor(text, str)
