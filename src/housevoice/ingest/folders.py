"""Which files a source names: a file is itself; a folder is its visible files, less a site generator's
output and templates (see `sites`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from housevoice.errors import SourceError
from housevoice.ingest.sites import Site, site_at

# Folders of a site's tooling, never its writing (a JavaScript site's packages hold thousands of READMEs).
TOOLING_FOLDERS = {"node_modules", "__pycache__"}


def _visible(names: list[str]) -> list[str]:
    return sorted(n for n in names if not n.startswith(".") and n not in TOOLING_FOLDERS)


def _count_files(folder: Path) -> int:
    return sum(len(_visible(names)) for _, _, names in os.walk(folder))


@dataclass
class Expanded:
    """The files a source names, with what a site folder held besides its writing."""

    files: list[tuple[Path, str]]  # (file, key)
    notes: list[str] = field(default_factory=list)
    not_writing: int = 0  # files of a site generator's output, templates and config, not read
    site_roots: list[Path] = field(default_factory=list)  # folders a site generator builds

    def in_site(self, file: Path) -> bool:
        return any(root in file.parents for root in self.site_roots)


def expand_source(path: Path) -> Expanded:
    """A file is itself; a folder is every visible file under it, sorted by path, keyed by its path
    relative to the folder (hidden files and folders, and `TOOLING_FOLDERS`, left out). In a folder that
    a static site generator builds (see `sites`), only the folders that hold its writing are read."""
    if path.is_file():
        return Expanded([(path, path.name)])
    if not path.is_dir():
        raise SourceError(path, "no such file or folder")
    out = Expanded([])
    seen = {os.path.realpath(path)}
    filtered: list[tuple[Path, Site]] = []  # (content folder, site) of sites that read only some of its files
    # Linked folders are read (a site may link its content in), each once: a link back up goes nowhere.
    for folder, dirs, names in os.walk(path, followlinks=True):
        here = Path(folder)
        kept = []
        for d in _visible(dirs):
            real = os.path.realpath(here / d)
            if real not in seen:
                seen.add(real)
                kept.append(d)
        dirs[:] = kept
        names = [n for n in _visible(names) if (here / n).is_file()]
        for content, owner in filtered:
            if here == content or content in here.parents:
                names = [n for n in names if owner.keeps_content_file(n)]  # (counted when the site was found)
        site = site_at(here)
        if site is not None:
            left = [here / d for d in dirs if not site.keeps_folder(d)] + [here / n for n in names if not site.keeps_file(n)]
            dirs[:] = [d for d in dirs if site.keeps_folder(d)]
            names = [n for n in names if site.keeps_file(n)]
            count = sum(_count_files(p) if p.is_dir() else 1 for p in left)
            if site.generator.files and site.content:
                filtered.append((here / site.content, site))
                count += sum(
                    not site.keeps_content_file(n) for _, _, inside in os.walk(here / site.content) for n in _visible(inside)
                )
            out.not_writing += count
            out.notes.append(site.says(here, count))
            out.site_roots.append(here)
        out.files.extend((here / n, (here / n).relative_to(path).as_posix()) for n in names)
    if not out.files:
        raise SourceError(path, "the folder holds no files" + (" that may be writing" if out.not_writing else ""))
    out.files.sort()
    return out
