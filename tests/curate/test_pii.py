"""The pii flagger: what it finds, how it masks, and what it leaves alone."""

from __future__ import annotations

import polars as pl
import pytest

from housevoice.curate.pii import PiiFlagger, PiiSettings, find_pii


def flag(*texts: str, author: str | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"record_id": [f"r{i}" for i in range(len(texts))], "text": list(texts), "author": [author] * len(texts)}
    )
    return PiiFlagger().flag(frame).flags


@pytest.mark.parametrize(
    ("text", "said", "secrets", "score"),
    [
        (
            "Email jane.doe@gmail.com or call Mr. John Smith at +1 415 555 0123 or (415) 555-0199. "
            "Visit 221 Baker Street, London NW1 6XE, or contact Maria Rossi.",
            ["1 email address (j***@gmail.com)", "2 phone numbers (+1 *** *** 23, *** *** 99)", "street address", "named contact"],
            ["jane.doe", "415", "0123", "Baker", "Smith", "Rossi"],
            7,
        ),
        (
            "Pay with 4111 1111 1111 1111 or 378282246310005; my SSN is 219-09-9999 "
            "and the refund goes to GB82 WEST 1234 5698 7654 32.",
            ["2 card numbers (*** 11, *** 05)", "1 social security number (*** 99)", "1 IBAN (GB *** 32)"],
            ["4111", "3782", "219-09", "WEST", "5698"],
            4,
        ),
    ],
    ids=["contacts", "numbers"],
)
def test_personal_data_is_found_and_masked(text, said, secrets, score):
    result = flag(text)
    detail = result["detail"][0]
    for words in said:
        assert words in detail
    for secret in secrets:
        assert secret not in detail
    assert result["score"][0] == score


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


@pytest.mark.parametrize(
    "text",
    [
        "Order 4111 1111 1111 1112 shipped.",  # fails the Luhn check
        "Ticket 1234 5678 9012 3452 is open.",  # passes it, but no card network starts with 1
        "Logged at 1678901234567 ms; ISBN 9783161484100.",
        "Numbers never issued: 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567.",
        "The account GB83 WEST 1234 5698 7654 32 has wrong check digits.",
        "```\ncard = '4111 1111 1111 1111'\n```",
    ],
)
def test_numbers_no_issuer_could_have_given_are_not_pii(text):
    assert flag(text).height == 0


def test_a_kind_left_out_of_the_settings_raises_nothing():
    flagger = PiiFlagger(PiiSettings(kinds=["email address"]))
    frame = pl.DataFrame({"record_id": ["r0"], "text": ["Card 4111 1111 1111 1111."], "author": [None]})
    assert flagger.flag(frame).flags.height == 0
