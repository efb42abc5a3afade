"""The pure rules of webhooks: the signature receivers check, where a webhook may be sent,
and how long a failed delivery waits."""

from __future__ import annotations

import pytest

from moderation.services import webhook_guard, webhook_signing
from moderation.services.webhook_delivery import RetryPolicy
from moderation.services.webhook_guard import UnsafeURL

SECRET = "whsec_0123456789abcdef"
BODY = b'{"id":7,"type":"comment.published","created_at":"2026-12-01T10:00:00Z","data":{}}'


def test_a_signature_verifies_with_the_secret_and_the_exact_body():
    signed = webhook_signing.header(SECRET, BODY, timestamp=1_800_000_000)
    assert signed.startswith("t=1800000000,v1=")
    assert webhook_signing.verify(SECRET, BODY, signed, now=1_800_000_030)
    assert not webhook_signing.verify("whsec_wrong", BODY, signed, now=1_800_000_030)
    assert not webhook_signing.verify(SECRET, BODY.replace(b"7", b"8"), signed,
                                      now=1_800_000_030)


def test_a_signature_older_than_five_minutes_is_refused_as_a_replay():
    signed = webhook_signing.header(SECRET, BODY, timestamp=1_800_000_000)
    assert webhook_signing.verify(SECRET, BODY, signed, now=1_800_000_300)
    assert not webhook_signing.verify(SECRET, BODY, signed, now=1_800_000_301)


@pytest.mark.parametrize("signed", ["", "v1=abc", "t=soon,v1=abc", "t=1800000000",
                                    "garbage"])
def test_a_malformed_signature_header_is_refused(signed):
    assert not webhook_signing.verify(SECRET, BODY, signed, now=1_800_000_000)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1800000000." + BODY, hashlib.sha256).hexdigest()
    assert webhook_signing.header(SECRET, BODY, 1_800_000_000) == f"t=1800000000,v1={expected}"


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254",
    "0.0.0.0", "224.0.0.251", "240.0.0.1", "100.64.0.1", "255.255.255.255",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
])
def test_loopback_private_link_local_multicast_reserved_and_unspecified_are_refused(address):
    assert webhook_guard.refusal(address) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111",
                                     "2002:808:808::1"])
def test_public_addresses_are_allowed(address):
    assert webhook_guard.refusal(address) is None


@pytest.mark.parametrize("address, words", [
    ("2002:a9fe:a9fe::", "leads to 169.254.169.254"),  # 6to4 around cloud metadata
    ("2002:7f00:1::1", "leads to 127.0.0.1"),
    ("2002:0a00:0001:1::5", "leads to 10.0.0.1"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "leads to 10.0.0.1"),  # Teredo client
    ("fec0::1", "site-local"),
    ("fec0:1234::a9fe:a9fe", "site-local"),
])
def test_ipv4_hidden_in_6to4_or_teredo_and_site_local_ipv6_are_refused(address, words):
    assert words in webhook_guard.refusal(address)


def test_a_6to4_literal_in_a_url_is_refused():
    with pytest.raises(UnsafeURL, match="169.254.169.254"):
        webhook_guard.check("http://[2002:a9fe:a9fe::1]/latest/meta-data")


@pytest.mark.parametrize("url, words", [
    ("ftp://hooks.example/x", "https://"),
    ("file:///etc/passwd", "https://"),
    ("javascript:alert(1)", "https://"),
    ("https://user:pw@hooks.example/x", "user name or password"),
    ("https://token@hooks.example/x", "user name or password"),
    ("https://hooks.example:99999/x", "not a URL"),
    ("https:///nohost", "host name"),
    ("", "1 to 500"),
])
def test_only_http_and_https_urls_without_credentials_are_accepted(url, words):
    with pytest.raises(UnsafeURL, match=words):
        webhook_guard.check(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://[::1]/hook",
                                 "http://[::ffff:7f00:1]/hook", "https://10.1.2.3/hook",
                                 "http://0.0.0.0/hook", "http://169.254.169.254/latest"])
def test_an_address_literal_is_checked_too(url):
    with pytest.raises(UnsafeURL, match="Only public addresses"):
        webhook_guard.check(url)


def test_a_host_name_resolving_to_loopback_is_refused(monkeypatch):
    monkeypatch.setattr(webhook_guard, "resolve", lambda host, port: ["127.0.0.1"])
    with pytest.raises(UnsafeURL, match="127.0.0.1 is a loopback address"):
        webhook_guard.check("https://innocent.example/hook")


def test_one_private_answer_among_public_ones_is_enough_to_refuse(monkeypatch):
    monkeypatch.setattr(webhook_guard, "resolve",
                        lambda host, port: ["93.184.216.34", "10.0.0.7"])
    with pytest.raises(UnsafeURL, match="10.0.0.7 is a private address"):
        webhook_guard.check("https://mixed.example/hook")


def test_the_connection_goes_to_the_checked_address_with_the_url_s_host_name(monkeypatch):
    monkeypatch.setattr(webhook_guard, "resolve", lambda host, port: ["93.184.216.34"])
    target = webhook_guard.check("https://Hooks.Example/in?x=1")
    assert (target.scheme, target.host, target.port, target.path, target.address) == \
        ("https", "hooks.example", 443, "/in?x=1", "93.184.216.34")


def test_a_non_ascii_path_and_host_are_sent_in_their_ascii_forms(monkeypatch):
    monkeypatch.setattr(webhook_guard, "resolve", lambda host, port: ["93.184.216.34"])
    target = webhook_guard.check("https://Café.example/café?q=é&done=%2F")
    assert (target.host, target.path) == ("xn--caf-dma.example", "/caf%C3%A9?q=%C3%A9&done=%2F")


@pytest.mark.parametrize("url", ["https://hooks.example/a b", "https://hooks.example/a\tb",
                                 "https://hooks.example/a\nb", "https://hooks.example/?q=a b"])
def test_spaces_and_control_characters_are_refused_with_a_clear_message(url):
    with pytest.raises(UnsafeURL, match="spaces or control characters"):
        webhook_guard.parse(url)


def test_private_addresses_pass_when_the_setting_allows_them():
    target = webhook_guard.check("http://127.0.0.1:9/hook", allow_private=True)
    assert target.address == "127.0.0.1"


def test_a_host_that_does_not_resolve_is_refused(monkeypatch):
    def fail(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(webhook_guard, "resolve", fail)
    with pytest.raises(UnsafeURL, match="could not be resolved"):
        webhook_guard.check("https://nowhere.invalid/hook")


def test_retries_back_off_exponentially_up_to_the_cap():
    policy = RetryPolicy(base_seconds=30, max_seconds=3600, max_attempts=8)
    assert [policy.delay(attempts) for attempts in range(1, 9)] == \
        [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_the_verification_snippet_in_the_docs_accepts_our_signature_and_nothing_else():
    import re
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    [snippet] = re.findall(r"```python\n(.*?)```", docs, flags=re.DOTALL)
    namespace: dict = {}
    exec(compile(snippet, "docs/webhooks.md", "exec"), namespace)  # noqa: S102  (our own docs)
    verify = namespace["verify"]
    assert verify(SECRET, BODY, webhook_signing.header(SECRET, BODY))
    assert not verify(SECRET, BODY + b" ", webhook_signing.header(SECRET, BODY))
    assert not verify(SECRET, BODY, webhook_signing.header(SECRET, BODY, timestamp=1))
    assert not verify(SECRET, BODY, "v1=deadbeef")
