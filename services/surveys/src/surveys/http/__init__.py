"""HTTP of the surveys service: the staff API (surveys, return visits, figures) and the public
survey page (/s/<token>)."""

from .figures import FiguresController
from .public import PUBLIC_PREFIX, SurveyPageController
from .return_visits import ReturnVisitsController
from .surveys import SurveysController

CONTROLLERS = [SurveysController, ReturnVisitsController, FiguresController, SurveyPageController]

__all__ = ["CONTROLLERS", "PUBLIC_PREFIX"]
