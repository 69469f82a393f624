from aftersales_shared.runner import serve

from .app import create_app
from .settings import ContractsSettings

if __name__ == "__main__":
    serve(ContractsSettings, create_app)
