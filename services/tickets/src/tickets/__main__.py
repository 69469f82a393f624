from aftersales_shared.runner import serve

from .app import create_app
from .settings import TicketsSettings

if __name__ == "__main__":
    serve(TicketsSettings, create_app)
