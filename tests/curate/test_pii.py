"""The pii flagger: what it finds, how it masks, and what it leaves alone."""

from __future__ import annotations

import polars as pl
import pytest

from housevoice.curate.pii import PiiFlagger, find_pii


def flag(*texts: str, author: str | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"record_id": [f"r{i}" for i in range(len(texts))], "text": list(texts), "author": [author] * len(texts)}
    )
    return PiiFlagger().flag(frame).flags


def test_email_phone_address_and_contact_are_found_and_masked():
    text = (
        "Email jane.doe@gmail.com or call Mr. John Smith at +1 415 555 0123 or (415) 555-0199. "
        "Visit 221 Baker Street, London NW1 6XE, or contact Maria Rossi."
    )
    result = flag(text)
    detail = result["detail"][0]
    assert "1 email address (j***@gmail.com)" in detail
    assert "2 phone numbers (+1 *** *** 23, *** *** 99)" in detail
    assert "street address" in detail and "named contact" in detail
    for secret in ("jane.doe", "415", "0123", "Baker", "Smith", "Rossi"):
        assert secret not in detail
    assert result["score"][0] == 7


@pytest.mark.parametrize(
    "text",
    [
        "Rust 1.70.0 was released on 2023-06-01; see 192.168.1.1 and 10.0.0.255.",
        "Commit 4f3a2b1c9d0e and build 20230601.1 passed; issue #123456 closed.",
        "Write to security@rust-lang.org or me@example.com.",
        "```\nphone = '+1 415 555 0123'\n```",
        "See https://lore.kernel.org/all/20230101.12345-1-someone@kernel.org/",
        "We call Shopify Magic our best tool.",
    ],
)
def test_versions_dates_code_and_role_addresses_are_not_pii(text):
    assert flag(text).height == 0


def test_the_author_named_as_contact_is_not_pii():
    assert find_pii("Contact Jane Doe for details.", author="Jane Doe") == {}
    assert "named contact" in find_pii("Contact Jane Doe for details.", author="Bob Roe")


def test_empty_text_raises_nothing():
    assert flag("", "   ").height == 0
