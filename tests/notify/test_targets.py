"""Where an admin may point a webhook, and which addresses may receive email: each refusal says
why, in words a person filling in the form can act on."""

from __future__ import annotations

import re

import pytest

from fireline.notify.targets import check_email, check_url, resolved_addresses_allowed

REFUSED_URLS = [
    ("ftp://hooks.example.com/x", "must start with https://"),
    ("hooks.example.com/x", "must start with https://"),
    ("http://user:pw@hooks.example.com/x", "user name or password"),
    ("https://token@hooks.example.com/x", "user name or password"),
    ("http://127.0.0.1/hook", "loopback"),
    ("http://127.1/hook", "loopback"),  # the short spelling resolvers still accept
    ("http://2130706433/hook", "loopback"),  # and 127.0.0.1 as one number
    ("http://[::1]/hook", "loopback"),
    ("http://10.1.2.3/hook", "private-network"),
    ("http://192.168.1.20:8080/hook", "private-network"),
    ("http://[fd00::1]/hook", "private-network"),
    ("http://[::ffff:10.0.0.1]/hook", "private-network"),  # IPv4-mapped IPv6
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://100.64.0.1/hook", "carrier-grade NAT"),
    ("http://224.0.0.1/hook", "multicast"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://240.0.0.1/hook", "reserved"),
    ("http://localhost/hook", "this server"),
    ("http://foo.localhost/hook", "this server"),
    ("http://LOCALHOST:8000/hook", "this server"),
    ("https://hooks.example.com/x#top", "#fragment"),
    ("https:///x", "needs a host name"),
    ("https://hooks.example.com:99999/x", "not valid"),
    ("https://hooks.example.com/x y", "spaces or line breaks"),
    ("https://hooks.example.com/x\r\nHost: evil", "spaces or line breaks"),
    ("", "Enter a URL"),
]

ACCEPTED_URLS = [
    ("https://hooks.slack.com/services/x", "https://hooks.slack.com/services/x"),
    ("http://example.com:8080/x", "http://example.com:8080/x"),
    (
        "  HTTPS://Hooks.Slack.COM/services/T0/B0/AbC  ",
        "https://hooks.slack.com/services/T0/B0/AbC",
    ),
    ("https://example.com/hook?team=ops&v=2", "https://example.com/hook?team=ops&v=2"),
    ("https://8.8.8.8/hook", "https://8.8.8.8/hook"),
    ("https://[2606:4700:4700::1111]/hook", "https://[2606:4700:4700::1111]/hook"),
    ("https://bücher.example/hook", "https://xn--bcher-kva.example/hook"),
]


@pytest.mark.parametrize(("url", "why"), REFUSED_URLS)
def test_a_url_fireline_must_not_call_is_refused_with_the_reason(url, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(("url", "normalised"), ACCEPTED_URLS)
def test_a_public_url_is_accepted_and_normalised(url, normalised):
    assert check_url(url, allow_private=False) == normalised


def test_refusing_a_private_address_tells_how_an_admin_can_allow_it():
    with pytest.raises(ValueError, match="FIRELINE_WEBHOOK_ALLOW_PRIVATE_TARGETS"):
        check_url("http://10.1.2.3/hook", allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8065/hooks/abc",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/",
        "http://localhost/hook",
        "http://chat.intranet.localhost/hooks/x",
    ],
)
def test_an_intranet_chat_server_is_accepted_when_private_targets_are_allowed(url):
    assert check_url(url, allow_private=True) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://10.1.2.3/x", "https://"),
        ("http://user:pw@10.1.2.3/x", "password"),
        ("http://10.1.2.3/x#frag", "fragment"),
    ],
)
def test_allowing_private_targets_still_refuses_malformed_urls(url, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        check_url(url, allow_private=True)


def test_a_name_that_resolves_to_loopback_is_refused_at_send_time():
    # check_url refuses `localhost` by name; this is the resolver-side check the sender runs
    # on whatever name a URL has, so DNS cannot lead it to an internal address.
    with pytest.raises(ValueError, match=r"localhost resolves to .*loopback"):
        resolved_addresses_allowed("localhost", 80, allow_private=False)


def test_resolving_is_not_checked_when_private_targets_are_allowed():
    assert resolved_addresses_allowed("localhost", 80, allow_private=True) is None


def test_a_public_address_passes_the_send_time_check():
    assert resolved_addresses_allowed("8.8.8.8", 443, allow_private=False) is None


def test_a_name_that_does_not_resolve_is_a_lookup_error_not_a_refusal():
    # A DNS outage must not fail deliveries for good: it is an OSError, which senders retry.
    with pytest.raises(OSError):  # noqa: PT011 - gaierror's message depends on the resolver
        resolved_addresses_allowed("fireline-test.invalid", 443, allow_private=False)


@pytest.mark.parametrize(
    ("address", "normalised"),
    [
        ("rita@example.com", "rita@example.com"),
        ("  Rita.Pager@Example.COM ", "Rita.Pager@example.com"),
        ("ops+sev1@mail.example.org", "ops+sev1@mail.example.org"),
    ],
)
def test_an_email_address_is_accepted_and_normalised(address, normalised):
    assert check_email(address) == normalised


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("rita", "@-sign"),
        ("rita@", "after the @-sign"),
        ("rita pager@example.com", "invalid characters"),
        ("Rita <rita@example.com>", "display name"),
        ("rita@example.com\r\nBcc: eve@example.com", "line breaks"),
        ("rita@example.com\n", "line breaks"),
    ],
)
def test_an_address_mail_cannot_go_to_is_refused_with_the_reason(address, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        check_email(address)
