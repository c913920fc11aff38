"""The client address behind proxies: only the hops written by trusted proxies are believed."""

import pytest
from django.core.checks import run_checks

from webox.client_address import client_address, resolve, trusted_networks

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"


def request_from(rf, peer: str, forwarded_for: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return rf.get("/", REMOTE_ADDR=peer, **extra)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(rf, settings):
    settings.WEBOX_TRUSTED_PROXIES = []
    assert client_address(request_from(rf, "198.51.100.7", "203.0.113.9")) == "198.51.100.7"


def test_behind_a_trusted_proxy_the_hop_it_wrote_is_the_client(rf, settings):
    settings.WEBOX_TRUSTED_PROXIES = [PROXY]
    assert client_address(request_from(rf, PROXY, "198.51.100.7")) == "198.51.100.7"
    # The client's own entries come first; the proxy appended the address it saw.
    assert client_address(request_from(rf, PROXY, "203.0.113.9, 1.2.3.4, 198.51.100.7")) == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(rf, settings):
    settings.WEBOX_TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    assert client_address(request_from(rf, PROXY, "203.0.113.9, 198.51.100.7, 192.0.2.1, 10.2.0.1")) == "198.51.100.7"


def test_an_untrusted_peer_is_the_client_whatever_it_forwards(rf, settings):
    settings.WEBOX_TRUSTED_PROXIES = [PROXY]
    assert client_address(request_from(rf, "198.51.100.7", "10.0.0.5, 127.0.0.1")) == "198.51.100.7"


def test_a_trusted_proxy_without_a_usable_header_is_the_address(rf, settings):
    settings.WEBOX_TRUSTED_PROXIES = [PROXY]
    assert client_address(request_from(rf, PROXY)) == PROXY
    assert client_address(request_from(rf, PROXY, "198.51.100.7, unknown")) == PROXY


def test_an_ipv4_client_of_a_dual_stack_socket_is_its_ipv4_address():
    assert resolve("::ffff:198.51.100.7", "", ()) == "198.51.100.7"
    assert resolve("not an address", "", ()) == "unknown"


def test_a_bad_trusted_proxy_entry_fails_the_check(settings):
    settings.WEBOX_TRUSTED_PROXIES = ["10.0.0.5", "proxy.example.com"]
    assert "webox.E005" in {error.id for error in run_checks()}
    settings.WEBOX_TRUSTED_PROXIES = ["10.0.0.5", "10.1.0.0/16", "2001:db8::/32"]
    assert "webox.E005" not in {error.id for error in run_checks()}
    assert len(trusted_networks(tuple(settings.WEBOX_TRUSTED_PROXIES))) == 3


def test_a_forged_forwarded_header_does_not_change_the_address_limited(api_client, settings):
    settings.WEBOX_TRUSTED_PROXIES = [PROXY]
    settings.WEBOX_LOGIN_RATE_IP = "2/300"
    for n, forged in enumerate(("203.0.113.1", "203.0.113.2")):
        response = api_client.post("/api/auth/token", {"username": f"a{n}", "password": "x"}, format="json",
                                   REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{forged}, 198.51.100.7")
        assert response.status_code == 401
    forged = api_client.post("/api/auth/token", {"username": "a3", "password": "x"}, format="json",
                             REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.3, 198.51.100.7")
    assert forged.status_code == 429
    # Another client behind the same proxy has its own count.
    other = api_client.post("/api/auth/token", {"username": "a3", "password": "x"}, format="json",
                            REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 401


def test_without_trusting_the_proxy_every_forwarded_client_shares_its_address(api_client, settings):
    settings.WEBOX_TRUSTED_PROXIES = []
    settings.WEBOX_LOGIN_RATE_IP = "2/300"
    codes = [api_client.post("/api/auth/token", {"username": f"a{n}", "password": "x"}, format="json",
                             REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
             for n in range(3)]
    assert codes == [401, 401, 429]


def test_the_metrics_allow_list_cannot_be_passed_with_a_forged_header(client, settings):
    settings.DEBUG = False
    settings.WEBOX_METRICS_TOKEN = ""
    settings.WEBOX_METRICS_ALLOW = ["10.0.0.0/8"]
    settings.WEBOX_TRUSTED_PROXIES = []
    assert client.get("/metrics", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 403
    settings.WEBOX_TRUSTED_PROXIES = ["192.0.2.1"]
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1",
                      HTTP_X_FORWARDED_FOR="10.1.2.3, 198.51.100.7").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200


def test_the_request_log_line_names_the_client_address(client, settings, caplog):
    settings.WEBOX_TRUSTED_PROXIES = [PROXY]
    with caplog.at_level("INFO", logger="webox.request"):
        client.get("/healthz/live", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7")
    assert [record.client for record in caplog.records if record.name == "webox.request"] == ["198.51.100.7"]
