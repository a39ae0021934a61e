"""A year's money: budget lines, the district's subsidy grants and staff per room.

Amounts are whole cents and fte whole hundredths (integers), so sums are exact on both
databases; the wire carries them as 2-decimal strings.
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlmodel import Field, SQLModel

COST_CATEGORIES = ("staff", "housing", "other")
GRANT_KINDS = ("structural", "incidental")


class BudgetLine(SQLModel, table=True):
    """An income line by source or a cost line by category, for the cooperative or a room."""

    __tablename__ = "budget_line"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint(
            "(kind = 'income' AND category IS NULL) OR "
            "(kind = 'cost' AND category IN ('staff', 'housing', 'other'))",
            name="kind_and_category",
        ),
        Index(None, "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(sa_column=Column(SmallInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    category: str | None = Field(default=None, sa_column=Column(String(10), nullable=True))
    # the source of income, or the cost line's own name ("Inzet", "Huisvesting")
    name: str = Field(sa_column=Column(String(200), nullable=False))
    # null: the cooperative's line, not kept per room
    room_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("room.id"), nullable=True)
    )
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))


class SubsidyGrant(SQLModel, table=True):
    """A subsidy decision of the district; one grant may fund several rooms together."""

    __tablename__ = "subsidy_grant"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint("kind IN ('structural', 'incidental')", name="kind_known"),
        Index(None, "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(sa_column=Column(SmallInteger, nullable=False))
    grantor: str = Field(sa_column=Column(String(200), nullable=False))
    kind: str = Field(sa_column=Column(String(12), nullable=False))
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))


class SubsidyGrantRoom(SQLModel, table=True):
    __tablename__ = "subsidy_grant_room"

    grant_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("subsidy_grant.id", ondelete="CASCADE"), primary_key=True
        )
    )
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), primary_key=True))


class StaffAllocation(SQLModel, table=True):
    """Paid staff of a room in a year, by function, in hundredths of an fte."""

    __tablename__ = "staff_allocation"
    __table_args__ = (CheckConstraint("fte_hundredths >= 0", name="fte_not_negative"),)

    year: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), primary_key=True))
    function: str = Field(sa_column=Column(String(60), primary_key=True))
    fte_hundredths: int = Field(sa_column=Column(Integer, nullable=False))
