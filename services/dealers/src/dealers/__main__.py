from aftersales_shared.runner import serve

from .app import create_app
from .settings import DealersSettings

if __name__ == "__main__":
    serve(DealersSettings, create_app)
