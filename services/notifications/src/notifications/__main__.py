from aftersales_shared.runner import serve

from .app import create_app
from .settings import NotificationsSettings

if __name__ == "__main__":
    serve(NotificationsSettings, create_app)
