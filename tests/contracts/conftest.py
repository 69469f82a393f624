"""Lets the contracts tests import their journey helpers (contracts_flow) under --import-mode=importlib."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
