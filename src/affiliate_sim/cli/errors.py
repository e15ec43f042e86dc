"""Hydra and OmegaConf composition errors as one line: the key and the problem."""

from __future__ import annotations

import re


def describe(err: BaseException, overrides: list[str]) -> tuple[str, str]:
    """Turn a Hydra / OmegaConf composition error into (key, one-line problem)."""
    from hydra.errors import MissingConfigException, OverrideParseException

    text = str(err)
    if isinstance(err, OverrideParseException) or "Error parsing override" in text:
        bad = re.search(r"Error parsing override '([^']*)'", text)
        item = bad.group(1) if bad else "?"
        return item.split("=", 1)[0] or item, "cannot parse the override (expected KEY=VALUE)"
    if isinstance(err, MissingConfigException) or "Could not find" in text:
        m = re.search(r"Could not find '([^']+)/([^'/]+)'", text)
        if m:
            group, option = m.groups()
            opts = re.findall(r"^\s*(\S+)\s*$", text.split("Available options", 1)[-1], re.M)
            known = ", ".join(o for o in opts if not o.endswith(":")) or "none"
            return group, f"no {group} named {option!r} (available: {known})"
    m = re.search(r"Could not override '([^']+)'", text)
    if m:
        return m.group(1), "unknown key (not in the config; --cfg job lists every key)"
    m = re.search(r"Error merging override (\S+?)=(.*)$", text.splitlines()[0])
    if m:
        cause = err.__cause__ or err.__context__
        problem = str(cause).strip().splitlines()[0] if cause else "invalid value"
        return m.group(1), " ".join(problem.split())
    key = getattr(err, "full_key", None) or "config"
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()
             and not ln.startswith("Set the environment variable")]
    return key, " ".join(lines[:2]) if lines else type(err).__name__
