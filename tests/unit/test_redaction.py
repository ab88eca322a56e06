"""Keys never show: the Secret type, header redaction, curl reproductions."""

from __future__ import annotations

import pickle

import pytest

from conformance.client.session import Exchange
from conformance.redaction import MASK, Secret, redact_headers, scrub


def test_secret_hides_its_value_everywhere() -> None:
    secret = Secret("very-secret-key")
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", "%s" % (secret,)):  # noqa: UP031
        assert "very-secret-key" not in shown
    assert secret.reveal() == "very-secret-key"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_headers_keep_the_scheme_but_not_the_key() -> None:
    redacted = redact_headers({"Authorization": "Api-Token abc123", "Cookie": "sid=1", "Accept": "x"})
    assert redacted == {"Authorization": f"Api-Token {MASK}", "Cookie": MASK, "Accept": "x"}


def test_scrub_removes_every_key_from_text() -> None:
    assert scrub("a k1 b k2", ["k1", "k2", ""]) == f"a {MASK} b {MASK}"


def test_curl_reads_the_key_from_its_variable() -> None:
    exchange = Exchange("POST", "http://t/api/x/", {"Authorization": f"Api-Token {MASK}",
                                                     "Content-Type": "application/json"},
                        {"a": 1}, 400, {}, "{}", 0.1, "CONFORMANCE_DM_ADMIN_KEY")
    curl = exchange.curl()
    assert "$CONFORMANCE_DM_ADMIN_KEY" in curl and MASK not in curl
    assert "'{\"a\": 1}'" in curl
