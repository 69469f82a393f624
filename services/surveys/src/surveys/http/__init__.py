"""HTTP of the surveys service: the staff API (surveys, figures) and the public survey page
(/s/<token>)."""

from .figures import FiguresController
from .public import PUBLIC_PREFIX, SurveyPageController
from .surveys import SurveysController

CONTROLLERS = [SurveysController, FiguresController, SurveyPageController]

__all__ = ["CONTROLLERS", "PUBLIC_PREFIX"]
