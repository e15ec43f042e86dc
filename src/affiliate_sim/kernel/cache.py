"""Keep numba's on-disk cache of the kernel honest.

numba caches a compiled function next to its source and reuses it while that one source
file is unchanged; it does not notice changes to the functions it calls from other files.
The kernel inlines the mechanisms' hazard functions, so a change to a mechanism would
otherwise leave a stale compiled kernel in use. :func:`guard` stamps a compiled function's
cache with a fingerprint of every source file of the kernel and the mechanisms instead, so
any change to them recompiles it. Should numba's cache internals change, caching of the
guarded function is switched off rather than trusted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
#: The source folders whose code the compiled kernel contains.
SOURCES = ("kernel", "mechanisms")


def fingerprint() -> str:
    """SHA-256 of the contents of every source file the compiled kernel depends on."""
    h = hashlib.sha256()
    for folder in SOURCES:
        for path in sorted((_PACKAGE / folder).glob("*.py")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def guard(dispatcher, source_file: str) -> None:
    """Make ``dispatcher``'s cache depend on :func:`fingerprint`, not only on its own file."""
    cache = getattr(dispatcher, "_cache", None)
    index = getattr(cache, "_cache_file", None)
    if index is not None and hasattr(index, "_source_stamp"):
        index._source_stamp = ("affiliate_sim", fingerprint(), str(source_file))
        return
    if cache is not None:  # unknown internals: do not trust the cache
        from numba.core.caching import NullCache

        dispatcher._cache = NullCache()
