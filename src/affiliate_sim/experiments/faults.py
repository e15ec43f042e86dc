"""Testing aid: writes that fail as on a full or read-only disk.

With ``AFFILIATE_SIM_FAIL_WRITES`` set, :func:`install` wraps
:func:`affiliate_sim.experiments.output.atomic_write` (through which every result, status
and table is written) so that some writes raise ``OSError`` before touching the disk. The
variable holds comma-separated items ``[ERRNO:]TARGET``:

* ``TARGET`` a whole number N: every write of this process after its first N fails (a
  disk that fills up);
* otherwise every write to a path containing ``TARGET`` fails (a folder that is full or
  read-only);
* ``ERRNO`` is the error's name (``ENOSPC``, the default, ``EROFS``, ``EACCES``...).

Unset (the normal case), :func:`install` changes nothing.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

ENV = "AFFILIATE_SIM_FAIL_WRITES"

_STATE = {"writes": 0, "installed": False}


def _rules(text: str) -> list[tuple[int, str]]:
    rules = []
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        name, sep, target = item.partition(":")
        if sep and name.isupper() and hasattr(errno, name):
            rules.append((getattr(errno, name), target))
        else:
            rules.append((errno.ENOSPC, item))
    return rules


def check(path: Path) -> None:
    """Raise the injected ``OSError`` if a write to ``path`` is to fail."""
    text = os.environ.get(ENV, "")
    if not text:
        return
    _STATE["writes"] += 1
    for code, target in _rules(text):
        if (target.isdigit() and _STATE["writes"] > int(target)) or \
                (not target.isdigit() and target in str(path)):
            raise OSError(code, f"{os.strerror(code)} (injected by {ENV})", str(path))


def install() -> None:
    """Make :func:`~affiliate_sim.experiments.output.atomic_write` honour :data:`ENV`
    (once per process; nothing when it is unset)."""
    if _STATE["installed"] or not os.environ.get(ENV):
        return
    from affiliate_sim.experiments import output

    real = output.atomic_write

    def atomic_write(path, write):
        check(Path(path))
        return real(path, write)

    output.atomic_write = atomic_write
    _STATE["installed"] = True
