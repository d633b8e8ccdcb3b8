"""Reads an X (Twitter) account archive's posts (`data/tweets.js`) into documents: a thread of the
account's own posts as one text, a reply to someone else as one, reposts of others' words left out.

The archive (Settings → Your account → Download an archive of your data) keeps each table as a
script, `window.YTD.tweets.part0 = [ … ]`; a large account's posts are split over `tweets-part1.js` …
A post longer than 280 characters is cut short there; its whole text is in `note-tweet.js`, matched
to the post by the second it was written and its opening words. Beside them the archive holds the
account's direct messages, likes and followers: only the post files (with `account.js` and
`note-tweet.js`) are ever read (see `sites`).
"""

from __future__ import annotations

import html
import json
import re
from fnmatch import fnmatch
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from housevoice.errors import SourceError
from housevoice.ingest.base import Document, ReadResult

FORMAT = "x"
SUFFIXES = (".js",)
# Post files (`tweets.js`, the older `tweet.js`, `tweets-part1.js` …): the archive's other tables
# (`direct-messages.js`, `like.js`, `deleted-tweets.js`, `tweet-headers.js` …) are never read.
FILE_NAMES = ("tweets.js", "tweet.js", "tweets-part*.js", "tweet-part*.js")
_PREFIX = re.compile(r"^\s*window\.YTD\.tweets?\.part\d+\s*=\s*")
_ACCOUNT_PREFIX = re.compile(r"^\s*window\.YTD\.account\.part\d+\s*=\s*")
_NOTE_PREFIX = re.compile(r"^\s*window\.YTD\.note_tweet\.part\d+\s*=\s*")
# A post's words for matching it to its long form: no addresses, no ellipsis the post was cut with.
_NOT_A_WORD = re.compile(r"https?://\S+|[^\w\s]")
REPOST = "repost of another account's words"
NO_TEXT = "post with no words (media or links only)"


def sniff(path: Path, head: bytes) -> bool:
    return path.suffix.lower() in SUFFIXES and bool(_PREFIX.match(head[:200].decode("utf-8", "replace").lstrip("\ufeff")))


def _table(text: str, prefix: re.Pattern, path: Path) -> list[Any]:
    """The JSON array after the script's `window.YTD.….partN =`."""
    found = prefix.match(text)
    if not found:
        raise SourceError(path, "not a table of an X archive (no `window.YTD.….part0 =` at its start)")
    body = text[found.end() :]
    try:
        rows = json.loads(body)
    except json.JSONDecodeError as exc:
        line = text.count("\n", 0, found.end() + exc.pos) + 1
        raise SourceError(path, f"not valid JSON after its `window.YTD` line ({exc.msg})", line=line) from None
    if not isinstance(rows, list):
        raise SourceError(path, "the table is not a list of posts")
    return rows


def _parts(path: Path) -> list[Path]:
    """The archive's post files beside `path` (itself included), in their order: `tweets.js`, then part 1, 2 …"""
    def order(file: Path) -> tuple[int, str]:
        number = re.search(r"-part(\d+)\.js$", file.name.lower())
        return (int(number.group(1)) if number else 0, file.name)

    try:
        siblings = [f for f in path.parent.iterdir() if f.is_file() and any(fnmatch(f.name.lower(), p) for p in FILE_NAMES)]
    except OSError:
        siblings = []
    return sorted({path, *siblings}, key=order)


def _account(folder: Path) -> dict[str, str]:
    """The archive's own account (`account.js` beside the posts): username, display name, id."""
    path = folder / "account.js"
    try:
        rows = _table(path.read_text(encoding="utf-8-sig"), _ACCOUNT_PREFIX, path)
        account = rows[0].get("account", rows[0])
    except (OSError, UnicodeDecodeError, SourceError, IndexError, AttributeError):
        return {}
    return {k: str(account.get(k) or "").strip() for k in ("username", "accountDisplayName", "accountId")}


def _notes(folder: Path) -> tuple[dict[datetime, list[dict[str, Any]]], str | None]:
    """The account's long posts (`note-tweet.js` beside the posts), by the second they were written:
    a post over 280 characters is kept in the posts file cut short, its whole text only here.
    With a note of why, when the file is there but cannot be read."""
    path = folder / "note-tweet.js"
    notes: dict[datetime, list[dict[str, Any]]] = {}
    if not path.is_file():
        return notes, None
    try:
        rows = _table(path.read_text(encoding="utf-8-sig"), _NOTE_PREFIX, path)
    except (OSError, UnicodeDecodeError, SourceError) as exc:
        return notes, f"{path}: not read ({exc}); long posts keep the cut-short text of the posts file"
    for row in rows:
        note = row.get("noteTweet", row) if isinstance(row, dict) else None
        core = note.get("core") if isinstance(note, dict) else None
        if not isinstance(core, dict) or not isinstance(core.get("text"), str):
            continue
        try:
            when = datetime.fromisoformat(str(note.get("createdAt")))
        except ValueError:
            continue
        when = when.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0) if when.tzinfo else when.replace(microsecond=0)
        notes.setdefault(when, []).append(core)
    return notes, None


def _first_words(text: str, n: int = 6) -> list[str]:
    return _NOT_A_WORD.sub(" ", html.unescape(text)).lower().split()[:n]


def _long_form(post: dict[str, Any], notes: dict[datetime, list[dict[str, Any]]], path: Path) -> dict[str, Any] | None:
    """The note holding the post's whole text: written the same second, opening with the post's words."""
    when = _created(post, path)
    if when is None or when not in notes:
        return None
    words = _first_words(post.get("full_text") or post.get("text") or "")
    # (The post may be cut inside a word: its last word need only open the note's.)
    for core in notes[when]:
        theirs = _first_words(core["text"], len(words))
        if words and len(theirs) == len(words) and theirs[:-1] == words[:-1] and theirs[-1].startswith(words[-1]):
            return core
    return None


def _created(post: dict[str, Any], path: Path) -> datetime | None:
    value = post.get("created_at")
    if not value:
        return None
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc).replace(tzinfo=None)
    except (TypeError, ValueError):
        raise SourceError(path, f"post {post.get('id_str')}: unreadable date {value!r}") from None


def _words(post: dict[str, Any], note: dict[str, Any] | None = None) -> str:
    """The post's own words (its long form's, when `note` holds it): without the @names a reply opens with
    (outside its display range), short links given as the addresses they stand for, attached media's links
    left out, entities unescaped."""
    text = post.get("full_text") or post.get("text") or ""
    entities = post.get("entities") or {}
    media = {m.get("url") for m in (entities.get("media") or []) + ((post.get("extended_entities") or {}).get("media") or [])}
    links = [(link.get("url"), link.get("expanded_url")) for link in entities.get("urls") or []]
    if note is not None:
        text = note["text"]
        links += [(link.get("shortUrl"), link.get("expandedUrl")) for link in note.get("urls") or [] if isinstance(link, dict)]
    for short, expanded in links:
        if short:
            text = text.replace(short, expanded or short)
    for short in media - {None}:
        text = text.replace(short, "")
    shown = post.get("display_text_range")
    if isinstance(shown, list) and shown and int(shown[0]) > 0:
        # What the display range leaves out at the start are the @names (its numbers count the text before
        # the links above changed its length).
        text = re.sub(r"^(?:\s*@\w+)+\s*", "", text)
    return html.unescape(text).strip()


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    """The account's posts, one document per thread (its own replies to itself joined in order, keyed by
    the thread's first post) or per reply to another account (kind `reply`); reposts and posts with no
    words are counted as skipped. Author: the account's display name (from `account.js` beside it)."""
    path = Path(path)
    parts = _parts(path)
    if parts[0] != path:
        # A large account's posts are split over several files, and a thread may cross them: the first reads all.
        return ReadResult(documents=[], skipped={f"post file read with {parts[0].name}": 1})
    entries: list[tuple[Path, int, Any]] = []
    for part in parts:
        try:
            rows = _table(part.read_text(encoding="utf-8-sig"), _PREFIX, part)
        except UnicodeDecodeError as exc:
            raise SourceError(part, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise SourceError(part, f"cannot read the file: {exc.strerror}") from None
        entries.extend((part, n, row) for n, row in enumerate(rows))
    account = _account(path.parent)
    notes, unread = _notes(path.parent)
    handle = account.get("username", "")
    author = account.get("accountDisplayName") or (f"@{handle}" if handle else None)
    result = ReadResult(documents=[])
    if len(parts) > 1:
        result.notes.append(f"{path}: read with {', '.join(p.name for p in parts[1:])} (one account's posts, split over files)")
    posts: dict[str, dict[str, Any]] = {}
    for part, n, row in entries:
        post = row.get("tweet", row) if isinstance(row, dict) else None
        if not isinstance(post, dict) or not str(post.get("id_str") or post.get("id") or "").strip():
            raise SourceError(part, f"entry {n + 1} is not a post with an id")
        post_id = str(post.get("id_str") or post["id"]).strip()
        text = post.get("full_text") or post.get("text") or ""
        if post.get("retweeted_status") or text.startswith("RT @"):
            result.skipped[REPOST] = result.skipped.get(REPOST, 0) + 1
            continue
        posts[post_id] = post
    # A reply to one of the account's own posts continues that post's thread.
    parent = {
        pid: str(p.get("in_reply_to_status_id_str") or "")
        for pid, p in posts.items()
        if str(p.get("in_reply_to_status_id_str") or "") in posts
    }

    def root(pid: str) -> str:
        seen = set()
        while pid in parent and pid not in seen:
            seen.add(pid)
            pid = parent[pid]
        return pid

    threads: dict[str, list[str]] = {}
    whole = 0
    for pid in sorted(posts, key=lambda p: (len(p), p)):  # ids grow with time
        threads.setdefault(root(pid), []).append(pid)
    for first, members in threads.items():
        head = posts[first]
        long_forms = {pid: _long_form(posts[pid], notes, path) for pid in members} if notes else {}
        whole += sum(1 for core in long_forms.values() if core is not None)
        words = [w for w in (_words(posts[pid], long_forms.get(pid)) for pid in members) if w]
        if not words:
            result.skipped[NO_TEXT] = result.skipped.get(NO_TEXT, 0) + 1
            continue
        replying_to = (head.get("in_reply_to_screen_name") or "").strip()
        reply = bool(head.get("in_reply_to_status_id_str")) and replying_to.lower() != handle.lower()
        meta: dict[str, Any] = {"format": "x", "lang": head.get("lang")}
        if len(members) > 1:
            meta["thread_posts"] = len(members)
        if reply:
            meta["reply_to"] = f"@{replying_to}" if replying_to else None
        result.documents.append(
            Document(
                source_key=first,
                text="\n\n".join(words),
                kind="reply" if reply else "social",
                author=author,
                published_at=_created(head, path),
                url=f"https://x.com/{handle or 'i/web'}/status/{first}",
                status="publish",
                meta={k: v for k, v in meta.items() if v is not None},
            )
        )
    if unread:
        result.notes.append(unread)
    if whole:
        result.notes.append(f"{path}: {whole} long post(s) read whole from note-tweet.js (the posts file holds them cut short)")
    if not result.documents and not result.skipped:
        raise SourceError(path, "the file holds no posts")
    return result
