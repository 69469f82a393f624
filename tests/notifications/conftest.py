"""Lets the notifications tests import their helper module (notif_support) under importlib mode."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
