"""Print a run's ``summary.json`` as a table: ``python -m affiliate_sim.cli.summary FILE``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = ("camp", "start", "peak", "end", "cells", "killed", "detained", "surrendered",
           "defected", "fled", "deserted", "recruited", "main killer")


def table(summary: dict) -> str:
    """The summary's organizations as a fixed-width text table, and its key events."""
    rows = []
    for name, o in summary["organizations"].items():
        f = o["flows"]
        killers = o.get("killed_by", {})
        main = max(killers, key=killers.get) if killers else "-"
        rows.append((name, o["camp"], f"{o['fighters_start']:.0f}", f"{o['fighters_peak']:.0f}",
                     f"{o['fighters_end']:.0f}", str(o["cells_held_end"]),
                     f"{f['killed']:.0f}", f"{f['detained']:.0f}", f"{f['surrendered']:.0f}",
                     f"{f['defected_out']:.0f}", f"{f['fled']:.0f}", f"{f['deserted']:.0f}",
                     f"{f['recruited_local'] + f['recruited_foreign']:.0f}", main))
    head = ("organization",) + COLUMNS
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).rjust(w) if 1 < i < len(r) - 1 else str(c).ljust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths, strict=True)))
    out = [f"scenario {summary['scenario']}, seed {summary['seed']}, {summary['days']} days",
           line(head), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in rows]
    key = [e for e in summary["events"] if e["kind"] not in ("retreat", "commanders_killed")]
    out.append("")
    out.append(f"events ({len(summary['events'])} in all; retreats and commander losses "
               "not shown):")
    for e in key:
        tgt = f" -> {e['target']}" if e["target"] else ""
        note = f"  ({e['note']})" if e["note"] else ""
        out.append(f"  day {e['day']:>4}  {e['kind']:<20} {e['actor']}{tgt}{note}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m affiliate_sim.cli.summary PATH/summary.json", file=sys.stderr)
        return 2
    path = Path(args[0])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        print(f"affiliate_sim.cli.summary: error: {path}: {err}", file=sys.stderr)
        return 2
    print(table(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
