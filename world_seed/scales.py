"""World sizes. ``tiny`` is for fast tests, ``default`` for training, ``large`` for load tests."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Scale(BaseModel):
    """Row counts that drive the generator (other tables follow from these)."""

    model_config = ConfigDict(frozen=True)

    name: str
    customers: int
    products: int
    orders: int
    tickets: int
    staff: int
    # Customers with more than 25 orders (their order lists span several pages).
    power_buyers: int
    # Groups of 2-3 customers sharing the exact same first and last name.
    duplicate_name_groups: int
    # Orders charged twice by the payment processor.
    duplicate_payments: int


SCALES: dict[str, Scale] = {
    "tiny": Scale(
        name="tiny",
        customers=40,
        products=60,
        orders=200,
        tickets=40,
        staff=12,
        power_buyers=2,
        duplicate_name_groups=3,
        duplicate_payments=3,
    ),
    "default": Scale(
        name="default",
        customers=1_000,
        products=300,
        orders=5_000,
        tickets=1_000,
        staff=40,
        power_buyers=6,
        duplicate_name_groups=8,
        duplicate_payments=12,
    ),
    "large": Scale(
        name="large",
        customers=10_000,
        products=3_000,
        orders=50_000,
        tickets=10_000,
        staff=400,
        power_buyers=60,
        duplicate_name_groups=80,
        duplicate_payments=120,
    ),
}


def get_scale(name: str) -> Scale:
    """The scale called ``name``; a ValueError lists the valid names otherwise."""
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; choose one of {', '.join(SCALES)}") from None
