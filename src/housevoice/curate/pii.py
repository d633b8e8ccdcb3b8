"""The `pii` flagger: emails, phone numbers, street addresses, named contacts, payment card, social
security and bank account numbers, masked in reasons."""

from __future__ import annotations

import re

import polars as pl
from pydantic import Field, field_validator

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
# Payment card numbers: 13 to 19 digits, run together or in groups (4-4-4-4, American Express's
# 4-6-5, Diners' 4-6-4); the shape alone says little, so a number counts only when an issuer uses its
# first digits and length and it passes the Luhn check (`_real_card`).
CARD = r"\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}|\d{4}[ -]?\d{6}[ -]?\d{4,5}"
# United States social security numbers, written as they are issued (123-45-6789); `_real_ssn`
# leaves out the numbers never issued (area 000, 666 or 900-999, group 00, serial 0000).
SSN = r"\d{3}-\d{2}-\d{4}"
# International bank account numbers: a country, two check digits, then 11 to 30 letters and digits,
# often in groups of four; `_real_iban` checks them (ISO 13616's mod-97).
IBAN = r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?"
# Such a number stands in the prose on its own: after a space, a bracket or a colon, before a space or
# punctuation (not inside a path, a query or an identifier, where long digit runs are ids).
_NUMBER_BEFORE, _NUMBER_AFTER = r"\s(:", r"\s.,;:)!?"


def _standing_alone(shape: str) -> str:
    return rf"(?<![^{_NUMBER_BEFORE}])(?:{shape})(?![^{_NUMBER_AFTER}])"


# (polars' dialect has no lookaround: the characters around the number are matched instead.)
NUMBERS = rf"(?:^|[{_NUMBER_BEFORE}])(?:{CARD}|{SSN}|{IBAN})(?:$|[{_NUMBER_AFTER}])"
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
_CARD_RE = re.compile(_standing_alone(CARD))
_SSN_RE = re.compile(_standing_alone(SSN))
_IBAN_RE = re.compile(_standing_alone(IBAN))


def mask_email(email: str) -> str:
    user, _, domain = email.partition("@")
    return f"{user[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    country = re.match(r"\+(\d{1,3})", phone)
    prefix = f"+{country.group(1)} " if country else ""
    return f"{prefix}*** *** {digits[-2:]}"


def mask_number(number: str) -> str:
    """A card, social security or account number as its last two characters (an IBAN keeps its country)."""
    plain = re.sub(r"[\s-]", "", number)
    prefix = plain[:2] + " " if plain[:2].isalpha() else ""
    return f"{prefix}*** {plain[-2:]}"


def mask_words(text: str) -> str:
    return " ".join(f"{w[:1]}***" for w in text.split())


def _personal_email(email: str) -> bool:
    user, _, domain = email.partition("@")
    return user.lower() not in ROLE_MAILBOXES and not PLACEHOLDER_DOMAINS.search(domain)


def _real_phone(phone: str) -> bool:
    digits = re.sub(r"\D", "", phone)
    return 9 <= len(digits) <= 15


def _luhn(digits: str) -> bool:
    total = 0
    for n, d in enumerate(reversed(digits)):
        d = int(d) * (2 if n % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _real_card(number: str) -> bool:
    """A number a card issuer could have given: its network's first digits and length, and the Luhn check."""
    digits = re.sub(r"\D", "", number)
    n, head = len(digits), int(digits[:4])  # (the pattern reads 13 digits at least)
    issued = (
        (digits[0] == "4" and n in (13, 16, 19))  # Visa
        or ((5100 <= head <= 5599 or 2221 <= head <= 2720) and n == 16)  # Mastercard
        or (digits[:2] in ("34", "37") and n == 15)  # American Express
        or ((head == 6011 or 6440 <= head <= 6599) and 16 <= n <= 19)  # Discover
        or (3528 <= head <= 3589 and 16 <= n <= 19)  # JCB
        or ((3000 <= head <= 3059 or digits[:2] in ("36", "38")) and n == 14)  # Diners Club
    )
    return issued and _luhn(digits)


def _real_ssn(number: str) -> bool:
    area, group, serial = number.split("-")
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _real_iban(number: str) -> bool:
    """ISO 13616: the country and check digits moved to the end, letters as numbers (A = 10), mod 97 is 1."""
    plain = number.replace(" ", "")
    if not 15 <= len(plain) <= 34:
        return False
    return int("".join(str(int(c, 36)) for c in plain[4:] + plain[:4])) % 97 == 1


def find_pii(text: str, author: str | None = None) -> dict[str, list[str]]:
    """Masked personal data found in `text`, by kind; code and web addresses are left out."""
    # Addresses inside web links are message ids and the like, not someone's mailbox.
    without_links = _URL_RE.sub(" ", text)
    return _found(_EMAIL_RE.findall(without_links), _CODE_RE.sub(" ", without_links), author)


def _found(
    emails: list[str], prose: str, author: str | None, look_for: tuple[bool, ...] = (True,) * 4
) -> dict[str, list[str]]:
    """What `find_pii` reports, from the emails outside links and the prose (no links, no code).

    `look_for`: whether phones, street addresses, named contacts and card, social security or bank
    account numbers may occur at all (a cheaper scan said so); the slow patterns run only where they may.
    """
    found: dict[str, list[str]] = {}
    emails = [e for e in emails if _personal_email(e)]
    phones = [m.group() for m in _PHONE_RE.finditer(prose) if _real_phone(m.group())] if look_for[0] else []
    addresses = [m.group() for m in _ADDRESS_RE.finditer(prose)] if look_for[1] else []
    numbers = {
        kind: [m.group() for m in pattern.finditer(prose) if real(m.group())] if look_for[3] else []
        for kind, pattern, real in (
            ("card number", _CARD_RE, _real_card),
            ("social security number", _SSN_RE, _real_ssn),
            ("IBAN", _IBAN_RE, _real_iban),
        )
    }
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
    for kind, values in numbers.items():
        if values:
            found[kind] = [mask_number(v) for v in dict.fromkeys(values)]
    return found


def describe(found: dict[str, list[str]], shown: int = 2) -> str:
    parts = []
    for kind, values in found.items():
        label = kind if len(values) == 1 else (kind + "es" if kind.endswith("ss") else kind + "s")
        examples = ", ".join(values[:shown]) + (", …" if len(values) > shown else "")
        parts.append(f"{len(values)} {label} ({examples})")
    return "May contain personal data: " + "; ".join(parts) + "."


KINDS = ("email address", "phone number", "street address", "named contact", "card number", "social security number", "IBAN")


class PiiSettings(FlaggerSettings):
    kinds: list[str] = Field(default_factory=lambda: list(KINDS), description="which kinds of personal data raise the flag")

    @field_validator("kinds")
    @classmethod
    def _known(cls, kinds: list[str]) -> list[str]:
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown kind {unknown[0]!r}; the kinds are: {', '.join(KINDS)}")
        return kinds


class PiiFlagger(Flagger):
    """Raises `pii` for personal emails, phone numbers, street addresses, named contacts and card,
    social security and bank account (IBAN) numbers."""

    name = "pii"
    flag_names = ("pii",)
    Settings = PiiSettings
    reads_clean_text = False

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        # A cheap vectorised pass finds the few records worth a closer look.
        # ASCII word boundaries keep polars' regex on its fast engine.
        pattern = "|".join(p.replace(r"\b", r"(?-u:\b)") for p in (EMAIL, PHONE, ADDRESS, NAMED_CONTACT, NUMBERS))
        candidate = pl.col("text").str.contains(pattern)
        author = pl.col("author") if "author" in frame.columns else pl.lit(None, pl.String)
        without_links = pl.col("text").fill_null("").str.replace_all(URL, " ")
        # Without their word boundaries (slow in polars) the patterns find a superset; Python decides.
        loose = [pl.col("prose").str.contains(p.replace(r"\b", "")) for p in (PHONE, ADDRESS, NAMED_CONTACT, NUMBERS)]
        found = (
            frame.lazy()
            .filter(candidate)
            .select(
                "record_id", author.alias("a"), emails=without_links.str.extract_all(EMAIL),
                prose=without_links.str.replace_all(CODE, " "),
            )
            .with_columns(phone=loose[0], address=loose[1], named=loose[2], number=loose[3])
            # Most candidates only hold email addresses: their prose need not reach Python.
            .with_columns(prose=pl.when(pl.any_horizontal("phone", "address", "named", "number")).then("prose"))
            .collect()
        )
        rows = []
        for record_id, byline, emails, prose, *look_for in found.iter_rows():
            kinds = _found(emails, prose or "", byline, tuple(look_for))
            kinds = {k: v for k, v in kinds.items() if k in self.settings.kinds}
            if kinds:
                rows.append((record_id, "pii", float(sum(len(v) for v in kinds.values())), describe(kinds)))
        return FlagResult.from_rows(rows)
