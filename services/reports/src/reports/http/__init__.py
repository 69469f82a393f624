"""HTTP of the reports service: the monthly report and the tickets behind each figure."""

from .monthly import MonthlyController

CONTROLLERS = [MonthlyController]

__all__ = ["CONTROLLERS"]
