"""The webhook URL check, on addresses and names resolved by an injected resolver (no network)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.webhook_fakes import Resolver
from tra_core.webhooks.urls import WebhookUrlRefused, refusal_reason, vet_url

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "0.0.0.0",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.170.2",
    "169.254.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "2002:a9fe:a9fe::1",
    "2002:7f00:1::",
    "2001:db8::1",
]
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"]


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_refused(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is not None
    with pytest.raises(WebhookUrlRefused) as refused:
        vet_url(f"https://[{address}]/hook" if ":" in address else f"https://{address}/hook", Resolver())
    assert refused.value.code == "WEBHOOK_URL_REFUSED"
    assert "public HTTPS" in refused.value.message


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_accepted(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


@given(st.ip_addresses(v=4, network="10.0.0.0/8") | st.ip_addresses(v=4, network="192.168.0.0/16"))
def test_every_private_ipv4_is_refused_also_in_its_ipv4_mapped_ipv6_form(
    address: ipaddress.IPv4Address,
) -> None:
    assert refusal_reason(address) is not None
    assert refusal_reason(ipaddress.IPv6Address(f"::ffff:{address}")) is not None


def test_a_name_is_accepted_when_every_address_it_resolves_to_is_public() -> None:
    resolver = Resolver({"hub.example": ["93.184.216.34", "2606:4700:4700::1111"]})
    vetted = vet_url("https://hub.example/hooks/myunisoft", resolver)
    assert (vetted.host, vetted.port, vetted.addresses) == (
        "hub.example",
        443,
        ("93.184.216.34", "2606:4700:4700::1111"),
    )


def test_a_name_with_one_internal_address_among_public_ones_is_refused() -> None:
    resolver = Resolver({"hub.example": ["93.184.216.34", "169.254.169.254"]})
    with pytest.raises(WebhookUrlRefused, match=r"resolves to 169\.254\.169\.254, which is a cloud metadata"):
        vet_url("https://hub.example/hooks", resolver)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hub.example/hooks", "https://"),
        ("ftp://hub.example/hooks", "https://"),
        ("https:///hooks", "must name a host"),
        ("https://user:pw@hub.example/hooks", "user name or password"),
        ("https://nowhere.example/hooks", "cannot be resolved"),
        ("https://hub.example:99999/hooks", "not a valid URL"),
        ("https://hub.example/" + "a" * 2100, "longer than"),
    ],
)
def test_malformed_or_unsafe_urls_are_refused_with_a_sentence(url: str, why: str) -> None:
    resolver = Resolver({"hub.example": ["93.184.216.34"]})
    with pytest.raises(WebhookUrlRefused, match=why):
        vet_url(url, resolver)


def test_loopback_http_is_allowed_only_by_the_local_setting_and_only_on_127_0_0_1() -> None:
    resolver = Resolver({"localhost": ["127.0.0.1"]})
    with pytest.raises(WebhookUrlRefused):
        vet_url("http://127.0.0.1:8123/hook", resolver)
    vetted = vet_url("http://127.0.0.1:8123/hook", resolver, allow_loopback_http=True)
    assert vetted.addresses == ("127.0.0.1",)
    for other in ("http://localhost:8123/hook", "http://10.0.0.1/hook", "https://127.0.0.1/hook"):
        with pytest.raises(WebhookUrlRefused):
            vet_url(other, resolver, allow_loopback_http=True)
    assert resolver.asked == []  # refused before any name is looked up
