"""Small-cell suppression for figures about people, for roles that may not see them.

A cell of 1 to 4 people is hidden. Where a hidden cell could be worked out from the total
and the other cells (it is the only one hidden), the next smallest cell is hidden too. A
total of 1 to 4 hides the whole row. Zeros stay: they say nothing about anyone.
"""

from __future__ import annotations

MINIMUM = 5


def suppress(cells: dict[str, int], total: int) -> tuple[dict[str, int | None], int | None]:
    """(cells with hidden ones as None, the total or None)."""
    if 0 < total < MINIMUM:
        return dict.fromkeys(cells), None
    hidden = {g for g, n in cells.items() if 0 < n < MINIMUM}
    if len(hidden) == 1:
        shown = sorted((n, g) for g, n in cells.items() if g not in hidden and n > 0)
        if shown:
            hidden.add(shown[0][1])
    return {g: (None if g in hidden else n) for g, n in cells.items()}, total
