from aftersales_shared.runner import serve

from .app import create_app
from .settings import PartsSettings

if __name__ == "__main__":
    serve(PartsSettings, create_app)
