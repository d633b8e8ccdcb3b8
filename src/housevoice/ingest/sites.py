"""A static site's source folder: which of its files hold the writing, by the generator that builds it.

A site's repository keeps beside its posts the pages the generator built from them (Hugo's `public/`,
Jekyll's `_site/`: every post again, as HTML, plus tag and list pages), its templates (`layouts/`,
`_includes/`) and files about the repository itself (README, LICENSE). Read as writing, the built pages
are copies of every post and the templates are records of markup. A generator is known by the file that
configures it at the folder's root.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from housevoice.ingest.x_archive import FILE_NAMES as X_POST_FILES


@dataclass(frozen=True)
class Generator:
    name: str
    markers: tuple[str, ...]  # a file at the site's root that configures it (any one)
    content: str | None = None  # the folder the generator takes the writing from: only it is read
    not_writing: tuple[str, ...] = ()  # folders it builds into, or renders the pages with
    needs_content: bool = False  # the marker is a common name: the content folder must be there too
    kind: str = "site"  # what the folder is, in the note
    files: tuple[str, ...] = ()  # where given, only files of these names (fnmatch) under the content folder are read


_HUGO_FOLDERS = ("public", "resources", "layouts", "themes", "archetypes")
GENERATORS = (
    Generator(
        "Hugo",
        ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config/_default/hugo.toml", "config/_default/hugo.yaml",
         "config/_default/config.toml", "config/_default/config.yaml"),  # (Hugo's config folder)
        "content",
        _HUGO_FOLDERS,
    ),
    # Hugo's older config name, and Zola's: common names, so a content folder must be beside them.
    Generator("Hugo or Zola", ("config.toml", "config.yaml", "config.yml", "config.json"), "content",
              (*_HUGO_FOLDERS, "templates"), needs_content=True),
    Generator("Pelican", ("pelicanconf.py",), "content", ("output", "themes")),
    Generator("MkDocs", ("mkdocs.yml", "mkdocs.yaml"), "docs", ("site", "overrides")),
    Generator("Jekyll", ("_config.yml", "_config.yaml", "_config.toml"), None, ("_site", "_layouts", "_includes", "_sass", "vendor")),
    Generator("Eleventy", ("eleventy.config.js", "eleventy.config.mjs", "eleventy.config.cjs", ".eleventy.js"), None,
              ("_site", "_includes")),
    Generator("Astro", ("astro.config.mjs", "astro.config.js", "astro.config.ts"), None, ("dist", "public")),
    Generator("Gatsby", ("gatsby-config.js", "gatsby-config.ts", "gatsby-config.mjs"), None, ("public",)),
    Generator("Docusaurus", ("docusaurus.config.js", "docusaurus.config.ts", "docusaurus.config.mjs"), None, ("build",)),
    Generator("Next.js", ("next.config.js", "next.config.mjs", "next.config.ts"), None, ("out",)),
    # Not a generator, but a folder of the same kind: Medium's account export keeps the posts in posts/
    # beside pages of claps, bookmarks, highlights, lists and sessions, all HTML.
    Generator("Medium", ("profile/profile.html",), "posts", (), needs_content=True, kind="account export"),
    # An X (Twitter) archive: its posts are data/tweets.js; the same folder holds the account's direct
    # messages, likes and followers, which are never read.
    Generator("X (Twitter)", ("data/manifest.js", "Your archive.html"), "data", (), needs_content=True, kind="account archive",
              files=X_POST_FILES),
)
# Files at a site's root that are about its repository, not its writing.
REPOSITORY_FILES = ("readme", "license", "licence", "changelog", "contributing", "code_of_conduct", "security", "authors")
# Of those, the names no post takes: in any folder they are about the folder (its README), not writing.
# (The others only when written in capitals, as repositories write them: `security.md` may be a post.)
ALWAYS_REPOSITORY_FILES = ("readme", "license", "licence", "contributing", "code_of_conduct")
_TEXT_SUFFIXES = ("", ".md", ".markdown", ".txt", ".rst", ".html", ".htm")


def is_repository_file(name: str) -> bool:
    """A README, LICENSE, CONTRIBUTING … file: it says what a folder is, in no one's voice."""
    path = Path(name)
    if path.suffix.lower() not in _TEXT_SUFFIXES:
        return False
    stem = path.stem.replace("-", "_")
    return stem.lower() in ALWAYS_REPOSITORY_FILES or (stem.isupper() and stem.lower() in REPOSITORY_FILES)


@dataclass(frozen=True)
class Site:
    """A folder recognised as a generator's source: what of it to read, and what not."""

    generator: Generator
    marker: str
    content: str | None  # the generator's content folder, where the site has one

    def keeps_folder(self, name: str) -> bool:
        """Whether a folder at the site's root may hold its writing."""
        return name == self.content if self.content else name not in self.generator.not_writing

    def keeps_file(self, name: str) -> bool:
        """Whether a file at the site's root may be writing (not its config, not the repository's README)."""
        if self.content or name == self.marker:
            return False
        return Path(name).stem.lower().replace("-", "_") not in REPOSITORY_FILES

    def keeps_content_file(self, name: str) -> bool:
        """Whether a file under the content folder may be writing (an account archive: its posts only)."""
        return not self.generator.files or any(fnmatch(name.lower(), pattern) for pattern in self.generator.files)

    def says(self, root: Path, files: int) -> str:
        """The note: which generator, what was read and how many files were not."""
        article = "an" if self.generator.name[0] in "AEIOUX" else "a"  # (an Eleventy site, an X archive)
        what = f"{article} {self.generator.name} {self.generator.kind} ({self.marker})"
        if self.generator.files:
            return (
                f"{root}: {what}: only its posts ({self.content}/{self.generator.files[0]}) read; "
                f"{files} other file{'' if files == 1 else 's'} (messages, likes, media, settings) not read"
            )
        if self.content:
            files_are = f"{files} other file is" if files == 1 else f"{files} other files are"
            return f"{root}: {what}: only {self.content}/ read; {files_are} not writing (its config, templates, built pages)"
        folders = [f"{name}/" for name in self.generator.not_writing if (root / name).is_dir()]
        shown = f"{', '.join(folders)} (its built pages and templates) and " if folders else ""
        return f"{root}: {what}: {shown}its config and the repository's README, LICENSE and the like not read ({files} file{'' if files == 1 else 's'})"


def site_at(folder: Path) -> Site | None:
    """The generator whose config file is at the folder's root (beside its content folder, where the name is common)."""
    for generator in GENERATORS:
        for marker in generator.markers:
            if not (folder / marker).is_file():
                continue
            content = generator.content if generator.content and (folder / generator.content).is_dir() else None
            if generator.needs_content and content is None:
                continue
            return Site(generator, marker, content)
    return None
