"""What every figure shares: its numbers, units, period and disclosure note on the wire,
and how a number is rounded. No web framework here: the figure modules (indicators,
efficiency, outcomes, referrals, the public page) and their schemas import this."""

from datetime import date
from typing import Literal

from pydantic import Field

from api.schemas import ApiModel

Unit = Literal["services", "participants"]
Number = int | float
LabelNl = Field(description="The Dutch label of the code beside it", examples=["Formulieren"])


class PeriodPublic(ApiModel):
    start: date
    end: date


class DisclosureControl(ApiModel):
    applied: bool = Field(
        description="Whether counts were hidden for your role (the district roles): a count of "
        "1 to 4 people, and any other that would let one be worked out, is null"
    )
    note: str = Field(description="What was hidden and why, in a sentence")


def number(value: float | None, digits: int = 1) -> int | float | None:
    """Rounded to `digits`; a whole number as an int (3.0 is sent as 3)."""
    if value is None:
        return None
    value = round(value, digits)
    return int(value) if float(value).is_integer() else value
