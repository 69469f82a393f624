from aftersales_shared.runner import serve

from .app import create_app
from .settings import SurveysSettings

if __name__ == "__main__":
    serve(SurveysSettings, create_app)
