from aftersales_shared.runner import serve

from .app import create_app
from .settings import ReportsSettings

if __name__ == "__main__":
    serve(ReportsSettings, create_app)
