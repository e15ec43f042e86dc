"""One error type for every kind of bad input, formatted as one line.

Every user-facing problem (a scenario file, a command-line override, a parameter out of
range) is raised as :class:`InputError` naming where (a file or ``override``), the key path
and the problem. The command line prints ``str(err)`` and exits with status 2; it never shows
a traceback for these.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input, reported as ``WHERE: KEY: PROBLEM`` on one line.

    Args:
        where: the file (or ``"override"`` / ``"params"``) the bad value came from.
        key: dotted key path of the bad value, e.g. ``organizations[2].fighters``.
        problem: what is wrong with it, in a few words.
    """

    def __init__(self, where: str, key: str, problem: str):
        self.where = str(where)
        self.key = str(key)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.where}: {self.key}: {self.problem}")
