"""mkdocs hooks: the README as the site's home page, and links that leave ``docs/``.

The repository's Markdown is written to be read on disk: the README links to
``docs/model.md``, ``docs/calibration.md`` shows ``../replay/posterior/pairs.png``. For the
site, without changing those files:

* ``index.md`` is generated from ``README.md``;
* a relative link from a page to a file inside ``docs/`` is rewritten relative to the
  page (``docs/model.md`` from the README becomes ``model.md``);
* an image outside ``docs/`` that a page shows (a committed figure) is copied into the
  site under ``repo/`` and the link pointed at the copy;
* a link to any other file of the repository (source, notebooks) becomes its text in
  code font, since the site does not carry the sources.

mkdocs then checks every remaining link (``--strict``: a broken one fails the build).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mkdocs.structure.files import File

LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)\)")
IMAGE = (".png", ".svg", ".jpg", ".jpeg", ".gif")


def _root(config) -> Path:
    return Path(config["config_file_path"]).resolve().parent


def _source(page_src: str, config) -> Path:
    """The file a page was written as, on disk (the README for the home page)."""
    if page_src == "index.md":
        return _root(config) / "README.md"
    return Path(config["docs_dir"]).resolve() / page_src


def _local(target: str) -> bool:
    return not (target.startswith(("#", "/", "mailto:")) or re.match(r"^[a-z]+://", target))


def _outside_images(text: str, source: Path, config):
    docs = Path(config["docs_dir"]).resolve()
    root = _root(config)
    for bang, _, target in LINK.findall(text):
        path = target.split("#")[0]
        if not (bang and _local(target) and path.lower().endswith(IMAGE)):
            continue
        real = (source.parent / path).resolve()
        if not real.is_relative_to(docs) and real.is_relative_to(root) and real.is_file():
            yield real, "repo/" + real.relative_to(root).as_posix()


def on_files(files, config):
    root = _root(config)
    readme = (root / "README.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "index.md", content=readme))
    seen = set()
    for f in list(files):
        if not f.src_uri.endswith(".md"):
            continue
        text = readme if f.src_uri == "index.md" else Path(f.abs_src_path).read_text("utf-8")
        for real, uri in _outside_images(text, _source(f.src_uri, config), config):
            if uri not in seen:
                seen.add(uri)
                files.append(File.generated(config, uri, abs_src_path=str(real)))
    return files


def on_page_markdown(markdown, page, config, files):
    docs = Path(config["docs_dir"]).resolve()
    root = _root(config)
    source = _source(page.file.src_uri, config)
    here = (docs / page.file.src_uri).parent

    def fix(m: re.Match) -> str:
        bang, text, target = m.groups()
        if not _local(target):
            return m.group(0)
        path, _, anchor = target.partition("#")
        if not path:
            return m.group(0)
        real = (source.parent / path).resolve()
        if real.is_relative_to(docs):
            new = os.path.relpath(real, here)
        elif bang and real.is_file() and real.is_relative_to(root):
            new = os.path.relpath(docs / "repo" / real.relative_to(root), here)
        else:
            return f"`{text}`" if text and not text.startswith("`") else text
        return f"{bang}[{text}]({Path(new).as_posix()}{'#' + anchor if anchor else ''})"

    return LINK.sub(fix, markdown)
