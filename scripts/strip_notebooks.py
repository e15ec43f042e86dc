"""Strip outputs, execution counts and run metadata from notebooks (what git keeps).

Usage: ``python scripts/strip_notebooks.py [NOTEBOOK ...]`` (default: notebooks/*.ipynb).
``--check`` only reports notebooks that are not stripped, exiting 1 if there are any.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def strip(nb) -> bool:
    """Strip ``nb`` in place; True if anything changed."""
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code":
            if cell.get("outputs") or cell.get("execution_count") is not None:
                cell["outputs"], cell["execution_count"] = [], None
                changed = True
        for key in ("execution", "collapsed", "scrolled"):
            if key in cell.get("metadata", {}):
                del cell["metadata"][key]
                changed = True
    for key in ("widgets", "papermill"):
        if key in nb.metadata:
            del nb.metadata[key]
            changed = True
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(a) for a in argv if a != "--check"] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    dirty = []
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        if strip(nb):
            dirty.append(p)
            if not check:
                nbformat.write(nb, p)
    for p in dirty:
        print(f"{p}: {'not stripped' if check else 'stripped'}")
    return 1 if (check and dirty) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
