"""Budgets and efficiency figures over the wire: amounts are exact, 2-decimal strings."""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer, WithJsonSchema

from api.figures import LabelNl, PeriodPublic
from api.schemas import ApiModel, InputModel, Slug


def _euros(value: Decimal) -> str:
    return f"{value:.2f}"


Euros = Annotated[
    Decimal,
    PlainSerializer(_euros, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?[0-9]+\.[0-9]{2}$",
            "description": "Euros, exact, with two decimals",
            "examples": ["399500.00"],
        }
    ),
]
AmountIn = Annotated[
    Decimal,
    Field(
        ge=0,
        max_digits=12,
        decimal_places=2,
        description='Euros, at most two decimals, not negative ("189000.00")',
        examples=["189000.00"],
    ),
]
FteIn = Annotated[Decimal, Field(ge=0, le=10, max_digits=4, decimal_places=2, examples=["0.9"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]
CostCategory = Literal["staff", "housing", "other"]
GrantKind = Literal["structural", "incidental"]


class IncomeLineIn(InputModel):
    source: Name
    room: Slug | None = Field(default=None, description="Left out: the cooperative's")
    amount: AmountIn


class CostLineIn(InputModel):
    category: CostCategory
    name: Name = Field(description='The line as the budget names it ("Inzet")')
    room: Slug | None = Field(default=None, description="Left out: the cooperative's")
    amount: AmountIn


class GrantIn(InputModel):
    grantor: Name
    kind: GrantKind = Field(description="structural (periodiek) or incidental (eenmalig)")
    rooms: list[Slug] = Field(min_length=1, max_length=20, description="The rooms it funds")
    amount: AmountIn


class StaffIn(InputModel):
    room: Slug
    function: str = Field(pattern=r"^[a-z]+(-[a-z]+)*$", max_length=60, examples=["coordinator"])
    fte: FteIn


class BudgetSet(InputModel):
    """A year's money; the year becomes exactly this."""

    income: list[IncomeLineIn] = Field(default_factory=list, max_length=200)
    costs: list[CostLineIn] = Field(default_factory=list, max_length=200)
    subsidies: list[GrantIn] = Field(default_factory=list, max_length=200)
    staff: list[StaffIn] = Field(default_factory=list, max_length=400)


class IncomeLine(ApiModel):
    source: str
    room: str | None
    amount: Euros


class CostLine(ApiModel):
    category: CostCategory
    name: str
    room: str | None
    amount: Euros


class Grant(ApiModel):
    grantor: str
    kind: GrantKind
    rooms: list[str]
    amount: Euros


class Staff(ApiModel):
    room: str
    function: str
    fte: float


class BudgetTotals(ApiModel):
    income: Euros
    costs: Euros
    balance: Euros = Field(description="income minus costs")
    municipal_subsidy: Euros = Field(description="The sum of the subsidy grants")
    fte: float


class Budget(ApiModel):
    year: int
    income: list[IncomeLine]
    costs: list[CostLine]
    subsidies: list[Grant]
    staff: list[Staff]
    totals: BudgetTotals


class MovedFigure(ApiModel):
    figure: Literal["income", "costs", "balance", "municipalSubsidy", "fte"]
    before: str | None = Field(description="null: the year had no budget")
    after: str | None


class Moved(ApiModel):
    year: int = Field(description="The year whose figures this change moved")
    period_closed: bool = Field(
        description="The year lies in the past: figures already reported for it change"
    )
    figures: list[MovedFigure] = Field(
        description="The totals that changed; every efficiency figure of the year built on "
        "them moves with them. Empty: nothing moved."
    )


class BudgetChange(Budget):
    moved: Moved


class SourceAmount(ApiModel):
    source: str
    amount: Euros


class CategoryAmount(ApiModel):
    category: CostCategory
    amount: Euros


REASONS = (
    "no-budget: no budget was entered for the year; "
    "not-entered: the budget has no lines of this kind; "
    "not-kept-per-room: the money is kept for the cooperative, not per room; "
    "joint-grant: a grant funds this room together with others; "
    "no-costs, no-fte, no-visitors, no-services, no-target: the divisor is zero or unknown; "
    "hidden: a count of people too small to show to your role"
)


class EfficiencyFigures(ApiModel):
    income: Euros | None
    income_by_source: list[SourceAmount] | None
    costs: Euros | None
    costs_by_category: list[CategoryAmount] | None
    balance: Euros | None = Field(description="income minus costs")
    municipal_subsidy: Euros | None
    municipal_share_of_costs: float | None = Field(description="municipalSubsidy / costs")
    fte: float | None = Field(description="Paid staff, fte (a rate: not pro rata)")
    cost_per_fte: Euros | None
    unique_visitors: int | None
    unique_visitors_target: float | None = Field(description="Pro rata for the period")
    cost_per_unique_visitor: Euros | None
    cost_per_unique_visitor_at_target: Euros | None = Field(
        description="costs / the unique-visitor target for the period"
    )
    services: int | None
    cost_per_service: Euros | None
    active_volunteers: int | None = Field(
        description="Residents volunteering at some time in the period"
    )
    volunteers_per_fte: float | None
    reasons: dict[str, str] = Field(
        description="Why a figure is null, by its name. Codes: " + REASONS
    )


class RoomEfficiency(EfficiencyFigures):
    room: str
    label_nl: str = LabelNl


class Efficiency(ApiModel):
    year: int
    period: PeriodPublic
    share_of_year: float = Field(description="The money of the year is taken pro rata")
    cooperative: EfficiencyFigures | None = Field(
        description="The cooperative as a whole (the district's roles); null for coordinators"
    )
    rooms: list[RoomEfficiency]
