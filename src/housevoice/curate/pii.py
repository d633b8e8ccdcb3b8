"""The `pii` flagger: emails, phone numbers, street addresses and named contacts, masked in reasons."""

from __future__ import annotations

import re

import polars as pl
from pydantic import Field

from housevoice.curate.base import FlaggerSettings, FlagResult, Flagger
from housevoice.curate.markup import CODE, URL

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# International (+CC …), North American ((555) 123-4567, 555-123-4567, 555.123.4567) and
# European trunk-prefixed (020 7946 0958, 06-12345678) shapes; plain digit runs are not
# phones (ids, versions, dates), so every shape needs its separators.
PHONE = (
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,4}){1,4}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"
    r"|\b\d{3}[.-]\d{3}[.-]\d{4}\b"
    r"|\b0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}\b"
)
_STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    "Terrace|Parkway|Pkwy|Square|Sq|Highway|Hwy|Close|Crescent|Gardens"
)
ADDRESS = (
    rf"\b\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][a-z]+\.?\s+){{1,3}}(?:{_STREET_TYPES})\b\.?"
    r"|\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b"  # UK postcode
    r"|\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|platz|allee|laan|straat|gracht|vej|gatan)\s+\d{1,4}[a-z]?\b"
    r"|\b\d{1,4}(?:bis|ter)?,?\s+(?:rue|avenue|boulevard|chemin|allée)\s+\w+"
    r"|\b(?:Via|Viale|Piazza|Calle|Avenida|Plaza)\s+[A-Z]\w+(?:\s+\w+)?,?\s+\d{1,4}\b"
)
_CONTACT_WORDS = r"(?i:contact|email|e-mail|mail|phone|reach out to|write to)"
_NAME = r"([A-Z][a-z]+(?:[ -][A-Z][a-z'’-]+){1,2})"
# "call X Y" is as often naming a thing ("we call Shopify Magic"), so it needs a number after.
NAMED_CONTACT = (
    rf"\b{_CONTACT_WORDS}\s+(?:(?:Mr|Ms|Mrs|Dr)\.?\s+)?{_NAME}\b"
    rf"|\b(?i:call|ring|text)\s+(?:(?:Mr|Ms|Mrs|Dr)\.?\s+)?{_NAME}\s+(?:at|on)\s+\+?\(?\d"
)
# Mailboxes of a role, not a person: not personal data.
ROLE_MAILBOXES = {
    "info", "hello", "contact", "support", "help", "security", "press", "media", "admin", "team",
    "sales", "jobs", "careers", "noreply", "no-reply", "donotreply", "webmaster", "abuse", "privacy",
    "legal", "office", "community", "feedback", "news", "newsletter", "billing", "hr", "git",
    "core", "infra", "ops", "board", "announce", "users", "dev", "devel", "list", "editors",
    "moderation", "mods", "conduct", "coc", "events", "partners", "marketing", "membership",
}
PLACEHOLDER_DOMAINS = re.compile(r"(^|\.)(example\.(com|org|net)|localhost|invalid|test|local|noreply\.github\.com|calendar\.google\.com)$", re.I)
_NOT_NAMES = {"team", "group", "council", "foundation", "project", "support", "office", "desk", "wg", "department", "center", "centre"}

_EMAIL_RE = re.compile(EMAIL)
_PHONE_RE = re.compile(PHONE)
_ADDRESS_RE = re.compile(ADDRESS)
_NAMED_RE = re.compile(NAMED_CONTACT)
_CODE_RE = re.compile(CODE)
_URL_RE = re.compile(URL)


def mask_email(email: str) -> str:
    user, _, domain = email.partition("@")
    return f"{user[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    country = re.match(r"\+(\d{1,3})", phone)
    prefix = f"+{country.group(1)} " if country else ""
    return f"{prefix}*** *** {digits[-2:]}"


def mask_words(text: str) -> str:
    return " ".join(f"{w[:1]}***" for w in text.split())


def _personal_email(email: str) -> bool:
    user, _, domain = email.partition("@")
    return user.lower() not in ROLE_MAILBOXES and not PLACEHOLDER_DOMAINS.search(domain)


def _real_phone(phone: str) -> bool:
    digits = re.sub(r"\D", "", phone)
    return 9 <= len(digits) <= 15


def find_pii(text: str, author: str | None = None) -> dict[str, list[str]]:
    """Masked personal data found in `text`, by kind; code and web addresses are left out."""
    # Addresses inside web links are message ids and the like, not someone's mailbox.
    without_links = _URL_RE.sub(" ", text)
    return _found(_EMAIL_RE.findall(without_links), _CODE_RE.sub(" ", without_links), author)


def _found(
    emails: list[str], prose: str, author: str | None, look_for: tuple[bool, bool, bool] = (True, True, True)
) -> dict[str, list[str]]:
    """What `find_pii` reports, from the emails outside links and the prose (no links, no code).

    `look_for`: whether phones, street addresses and named contacts may occur at all (a cheaper
    scan said so); the slow patterns run only where they may.
    """
    found: dict[str, list[str]] = {}
    emails = [e for e in emails if _personal_email(e)]
    phones = [m.group() for m in _PHONE_RE.finditer(prose) if _real_phone(m.group())] if look_for[0] else []
    addresses = [m.group() for m in _ADDRESS_RE.finditer(prose)] if look_for[1] else []
    author_words = set((author or "").lower().replace("&", " ").replace(",", " ").split())
    names = []
    for m in _NAMED_RE.finditer(prose) if look_for[2] else ():
        name = m.group(1) or m.group(2)
        words = name.lower().split()
        if words[-1] in _NOT_NAMES or set(words) <= author_words:
            continue
        names.append(name)
    if emails:
        found["email address"] = [mask_email(e) for e in dict.fromkeys(emails)]
    if phones:
        found["phone number"] = [mask_phone(p) for p in dict.fromkeys(phones)]
    if addresses:
        found["street address"] = [mask_words(a) for a in dict.fromkeys(addresses)]
    if names:
        found["named contact"] = [mask_words(n) for n in dict.fromkeys(names)]
    return found


def describe(found: dict[str, list[str]], shown: int = 2) -> str:
    parts = []
    for kind, values in found.items():
        label = kind if len(values) == 1 else (kind + "es" if kind.endswith("ss") else kind + "s")
        examples = ", ".join(values[:shown]) + (", …" if len(values) > shown else "")
        parts.append(f"{len(values)} {label} ({examples})")
    return "May contain personal data: " + "; ".join(parts) + "."


class PiiSettings(FlaggerSettings):
    kinds: list[str] = Field(
        default_factory=lambda: ["email address", "phone number", "street address", "named contact"],
        description="which kinds of personal data raise the flag",
    )


class PiiFlagger(Flagger):
    """Raises `pii` for personal emails, phone numbers, street addresses and named contacts."""

    name = "pii"
    flag_names = ("pii",)
    Settings = PiiSettings
    reads_clean_text = False

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        # A cheap vectorised pass finds the few records worth a closer look.
        # ASCII word boundaries keep polars' regex on its fast engine.
        pattern = "|".join(p.replace(r"\b", r"(?-u:\b)") for p in (EMAIL, PHONE, ADDRESS, NAMED_CONTACT))
        candidate = pl.col("text").str.contains(pattern)
        author = pl.col("author") if "author" in frame.columns else pl.lit(None, pl.String)
        without_links = pl.col("text").fill_null("").str.replace_all(URL, " ")
        # Without their word boundaries (slow in polars) the patterns find a superset; Python decides.
        loose = [pl.col("prose").str.contains(p.replace(r"\b", "")) for p in (PHONE, ADDRESS, NAMED_CONTACT)]
        found = (
            frame.lazy()
            .filter(candidate)
            .select(
                "record_id", author.alias("a"), emails=without_links.str.extract_all(EMAIL),
                prose=without_links.str.replace_all(CODE, " "),
            )
            .with_columns(phone=loose[0], address=loose[1], named=loose[2])
            # Most candidates only hold email addresses: their prose need not reach Python.
            .with_columns(prose=pl.when(pl.any_horizontal("phone", "address", "named")).then("prose"))
            .collect()
        )
        rows = []
        for record_id, byline, emails, prose, *look_for in found.iter_rows():
            kinds = _found(emails, prose or "", byline, tuple(look_for))
            kinds = {k: v for k, v in kinds.items() if k in self.settings.kinds}
            if kinds:
                rows.append((record_id, "pii", float(sum(len(v) for v in kinds.values())), describe(kinds)))
        return FlagResult.from_rows(rows)
