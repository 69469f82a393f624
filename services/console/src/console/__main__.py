from aftersales_shared.runner import serve

from .app import create_app
from .settings import ConsoleSettings

if __name__ == "__main__":
    serve(ConsoleSettings, create_app)
