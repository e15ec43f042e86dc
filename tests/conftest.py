"""Shared pytest configuration for the test suite."""

import sys
from pathlib import Path

# Make helper modules in tests/ (e.g. ``kernel_states``) importable whatever the import mode.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
