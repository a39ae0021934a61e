"""Free text that is safe to keep: no control characters, no lone surrogates, no BSN.

The citizen service number (BSN) must never be stored (the residents' rooms have no legal
ground for it); a number in any text field that passes the BSN eleven-test is refused.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

_NUMBER = re.compile(r"(?<![\d])\d(?:[ .-]?\d){7,8}(?![\d])")
# C0/C1 controls (tab and newlines allowed), lone surrogates, bidi overrides and isolates
_FORBIDDEN = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)


def passes_eleven_test(digits: str) -> bool:
    """The BSN eleven-test (elfproef) on 8 or 9 digits."""
    if not digits.isdigit() or len(digits) not in (8, 9):
        return False
    digits = digits.zfill(9)
    if digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    total -= int(digits[8])
    return total % 11 == 0


def contains_bsn(text: str) -> bool:
    return any(passes_eleven_test(re.sub(r"\D", "", m.group())) for m in _NUMBER.finditer(text))


def clean_text(value: str) -> str:
    if _FORBIDDEN.search(value):
        raise ValueError("contains control or invisible direction characters")
    if contains_bsn(value):
        raise ValueError(
            "looks like a citizen service number (BSN); a BSN may never be stored here"
        )
    return unicodedata.normalize("NFC", value)


Text = Annotated[str, AfterValidator(clean_text)]
