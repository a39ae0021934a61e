"""Resident codes: `XXX-XXXX`, six random characters and a check character.

The check character is Luhn mod N over the 32 characters that cannot be mistaken for one
another (no 0/O, 1/I). It catches every single mistyped character and nearly every swap of
two neighbours, so a typo is told apart from an unknown code without asking the database.
"""

from __future__ import annotations

import re
import secrets

from api.errors import CodeTypo

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_N = len(ALPHABET)
RANDOM_LENGTH = 6
# what the wire accepts: either case, a dash or a space (or nothing) after the third
PATTERN = r"^\s*[2-9A-HJ-NP-Za-hj-np-z]{3}[- ]?[2-9A-HJ-NP-Za-hj-np-z]{4}\s*$"
_SHAPE = re.compile(PATTERN)
EXAMPLE = "K7Q-M428"


def _sum(chars: str, *, double_last: bool) -> int:
    total = 0
    double = double_last
    for char in reversed(chars):
        addend = _INDEX[char] * (2 if double else 1)
        total += addend // _N + addend % _N
        double = not double
    return total


def check_character(payload: str) -> str:
    """The character that makes `payload` + it a valid code (Luhn mod 32)."""
    return ALPHABET[(_N - _sum(payload, double_last=True) % _N) % _N]


def with_check(payload: str) -> str:
    """`K7QM42` -> `K7Q-M428`."""
    raw = payload + check_character(payload)
    return f"{raw[:3]}-{raw[3:]}"


def generate() -> str:
    return with_check("".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH)))


def well_formed(code: str) -> bool:
    """The shape of a code (before the check character is looked at)."""
    return _SHAPE.match(code) is not None


def normalise(code: str) -> str:
    """`k7q m428 ` -> `K7Q-M428` (the shape must be right already)."""
    raw = re.sub(r"[\s-]", "", code).upper()
    return f"{raw[:3]}-{raw[3:]}"


def is_valid(code: str) -> bool:
    """Well formed and the check character is right."""
    if not well_formed(code):
        return False
    raw = normalise(code).replace("-", "")
    return _sum(raw, double_last=False) % _N == 0


def checked(code: str, name: str = "residentCode") -> str:
    """The normal form of a well-formed code, or a 422 when a character is mistyped."""
    if not is_valid(code):
        raise CodeTypo(name)
    return normalise(code)
