"""Notebooks run in the test suite through nbmake, on small settings.

``AFFILIATE_SIM_QUICK=1`` tells each notebook to use few seeds, cases and levers; the
kernels inherit it from this process. Notebook items are marked ``slow``.
"""

import os

import pytest

os.environ["AFFILIATE_SIM_QUICK"] = "1"


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
