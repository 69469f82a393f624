import sys

from aftersales_shared.runner import serve

from .app import create_app
from .settings import ReportsSettings

if __name__ == "__main__":
    if sys.argv[1:2] == ["rebuild"]:  # the read model from the ARCHIVE stream (rebuild.py)
        from .rebuild import main

        raise SystemExit(main(sys.argv[2:]))
    serve(ReportsSettings, create_app)
