"""HTTP of the reports service: the monthly report, the tickets behind each figure, and the
reports as published."""

from .monthly import MonthlyController
from .published import PublishedController

CONTROLLERS = [MonthlyController, PublishedController]

__all__ = ["CONTROLLERS"]
