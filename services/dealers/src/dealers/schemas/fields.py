"""Field constraints the dealers API uses in several bodies."""

from pydantic import Field

Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-_.]+$")
MoneyIn = Field(ge=0, max_digits=12, decimal_places=2)
