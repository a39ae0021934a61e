"""resident codes get a check character: XXX-XXX becomes XXX-XXXC

Data only. The check character is Luhn mod 32 over the code alphabet, written out here
rather than imported from api/residents/codes.py so this migration never changes when the
application does (the two must agree; tests/residents/test_codes.py checks that they do).

Downgrade drops the check character again, which restores every code exactly: the check
character is a function of the other six, so codes stay unique both ways. A code that was
not in the old shape (none are issued so) is re-issued on the way up and cannot be
restored on the way down; it keeps its new code's first six characters.

Revision ID: 3cde58cfcc03
Revises: 5c0a7e3d41b2
Create Date: 2026-12-02 02:40:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3cde58cfcc03"
down_revision: str | None = "5c0a7e3d41b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
OLD = re.compile(f"^[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}$")
NEW = re.compile(f"^[{ALPHABET}]{{3}}-[{ALPHABET}]{{4}}$")
resident = sa.table("resident", sa.column("id"), sa.column("code", sa.String))


def _check(payload: str) -> str:
    total, double = 0, True
    for char in reversed(payload):
        addend = ALPHABET.index(char) * (2 if double else 1)
        total += addend // 32 + addend % 32
        double = not double
    return ALPHABET[(32 - total % 32) % 32]


def _new_code(taken: set[str]) -> str:
    import secrets

    while True:
        raw = "".join(secrets.choice(ALPHABET) for _ in range(6))
        code = f"{raw[:3]}-{raw[3:]}{_check(raw)}"
        if code not in taken:
            return code


def _rewrite(change: dict[str, str]) -> None:
    if change:
        op.get_bind().execute(
            resident.update()
            .where(resident.c.id == sa.bindparam("rid"))
            .values(code=sa.bindparam("new")),
            [{"rid": rid, "new": new} for rid, new in change.items()],
        )


def upgrade() -> None:
    rows = op.get_bind().execute(
        sa.select(resident.c.id, resident.c.code).where(resident.c.code.is_not(None))
    )
    current = {rid: code for rid, code in rows}
    change = {
        rid: f"{code}{_check(code.replace('-', ''))}"
        for rid, code in current.items()
        if OLD.match(code)
    }
    taken = set(current.values()) | set(change.values())
    for rid, code in current.items():
        if not OLD.match(code) and not NEW.match(code):
            change[rid] = new = _new_code(taken)
            taken.add(new)
    _rewrite(change)


def downgrade() -> None:
    rows = op.get_bind().execute(
        sa.select(resident.c.id, resident.c.code).where(resident.c.code.is_not(None))
    )
    _rewrite({rid: code[:7] for rid, code in rows if NEW.match(code)})
