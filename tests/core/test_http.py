"""The HTTP client factory: https-or-loopback, TLS settings, and a --verbose trace that never shows a
secret."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from xaa_cli.core.http import USER_AGENT, make_client, network_error, require_secure_url, ssl_context
from xaa_cli.core.redact import fingerprint, redacted
from xaa_cli.errors import InsecureURLError, NetworkError, UsageError


@pytest.mark.parametrize(
    "url",
    [
        "https://idp.example.com",
        "https://idp.example.com:8443/tenant/",
        "http://127.0.0.1:8765/idp",
        "http://127.8.9.10/",
        "http://[::1]:8080/as",
        "http://localhost:3000",
        "http://LOCALHOST/x",
        "http://app.localhost/",
    ],
)
def test_secure_urls_accepted(url: str) -> None:
    assert require_secure_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://idp.example.com",
        "http://127.0.0.1.nip.io/",
        "http://localhost.evil.example/",
        "http://127.0.0.1@evil.example/",
        "http://[::2]/",
        "http://10.0.0.1/",
        "http://0.0.0.0/",
    ],
)
def test_plain_http_off_loopback_refused(url: str) -> None:
    with pytest.raises(InsecureURLError, match="refusing plain http://"):
        require_secure_url(url, what="issuer")


@pytest.mark.parametrize(
    "url", ["ftp://idp.example", "idp.example.com", "https://", "", "file:///etc/passwd"]
)
def test_non_http_urls_refused(url: str) -> None:
    with pytest.raises(UsageError, match="not an absolute http"):
        require_secure_url(url)


def test_client_refuses_insecure_request_before_sending() -> None:
    sent: list[httpx.Request] = []
    client = make_client(transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200)))
    with pytest.raises(InsecureURLError):
        client.get("http://idp.example.com/.well-known/openid-configuration")
    assert sent == []


def test_client_defaults() -> None:
    client = make_client(timeout=3.5, transport=httpx.MockTransport(lambda _: httpx.Response(200)))
    assert client.timeout == httpx.Timeout(3.5)
    assert client.headers["user-agent"] == USER_AGENT
    assert client.follow_redirects is False
    assert client.trust_env is True  # proxies from the environment


def test_ca_bundle_must_exist(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        ssl_context(str(tmp_path / "missing.pem"))


def test_ca_bundle_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XAA_CA_BUNDLE", str(tmp_path / "corp.pem"))
    with pytest.raises(UsageError, match=r"corp\.pem does not exist"):
        ssl_context()


SECRETS = {
    "client_secret": "cs-" + "a1b2c3d4e5f6",
    "subject_token": "eyJ" + "hbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln",
    "access_token": "at-" + "9z8y7x6w5v",
    "refresh_token": "rt-" + "q1w2e3r4t5",
    "id_token": "it-" + "m9n8b7v6c5",
    "basic": "Basic " + "Y2xpZW50OnNlY3JldA==",
    "code": "code-" + "k1j2h3g4",
    "admin": "admin-" + "p0o9i8u7",
}


def _token_endpoint(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/authorize":
        return httpx.Response(
            302, headers={"Location": f"http://127.0.0.1:9/cb?code={SECRETS['code']}&state=s1"}
        )
    if request.url.path == "/admin":
        return httpx.Response(200, text="ok, stored token " + SECRETS["admin"])
    return httpx.Response(
        200,
        json={
            "access_token": SECRETS["access_token"],
            "refresh_token": SECRETS["refresh_token"],
            "id_token": SECRETS["id_token"],
            "token_type": "Bearer",
            "expires_in": 300,
        },
        headers={"Set-Cookie": "session=" + SECRETS["admin"]},
    )


@pytest.fixture
def traced() -> tuple[httpx.Client, list[str]]:
    lines: list[str] = []
    client = make_client(trace=lines.append, transport=httpx.MockTransport(_token_endpoint))
    return client, lines


def test_verbose_trace_redacts_forms_headers_and_json(traced: tuple[httpx.Client, list[str]]) -> None:
    client, lines = traced
    response = client.post(
        "https://idp.example/token?audience=x",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": SECRETS["subject_token"],
            "client_secret": SECRETS["client_secret"],
            "scope": "board:read",
        },
        headers={"Authorization": SECRETS["basic"]},
    )
    assert response.json()["access_token"] == SECRETS["access_token"]  # the caller still gets the real answer
    trace = "\n".join(lines)
    for name, secret in SECRETS.items():
        if name not in ("code",):
            assert secret not in trace, f"{name} leaked into the trace"
    assert "board:read" in trace  # non-secret fields stay readable
    assert "token-exchange" in trace
    assert "> POST https://idp.example/token" in trace
    assert "audience=x" not in trace  # query strings are not traced
    for name in ("subject_token", "client_secret", "access_token", "refresh_token", "id_token"):
        assert fingerprint(SECRETS[name], 8) in trace, f"no fingerprint for {name}"
    assert "Basic <redacted sha256:" in trace
    assert redacted(SECRETS["basic"]) in trace


def test_verbose_trace_redacts_json_request_bodies(traced: tuple[httpx.Client, list[str]]) -> None:
    client, lines = traced
    client.post("https://idp.example/token", json={"token": SECRETS["access_token"], "user": "alice"})
    trace = "\n".join(lines)
    assert SECRETS["access_token"] not in trace
    assert "alice" in trace


def test_verbose_trace_redacts_codes_in_redirects(traced: tuple[httpx.Client, list[str]]) -> None:
    client, lines = traced
    client.get("https://idp.example/authorize")
    trace = "\n".join(lines)
    assert SECRETS["code"] not in trace
    assert fingerprint(SECRETS["code"], 8) in trace
    assert "state=s1" in trace


def test_unknown_bodies_mentioning_tokens_are_not_printed(traced: tuple[httpx.Client, list[str]]) -> None:
    client, lines = traced
    client.post("https://idp.example/admin", content=b"\x00binary " + SECRETS["admin"].encode())
    trace = "\n".join(lines)
    assert SECRETS["admin"] not in trace
    assert "bytes of" in trace


def test_no_trace_without_verbose() -> None:
    client = make_client(transport=httpx.MockTransport(_token_endpoint))
    assert client.event_hooks["response"] == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.loopback
def test_connection_refused_becomes_a_network_error() -> None:
    port = _closed_port()
    with make_client(timeout=2) as client, pytest.raises(httpx.TransportError) as info:
        client.get(f"http://127.0.0.1:{port}/")
    error = network_error(info.value)
    assert isinstance(error, NetworkError)
    assert f"cannot reach http://127.0.0.1:{port}" in error.message
    assert error.hint


def test_network_error_ignores_other_exceptions() -> None:
    assert network_error(ValueError("x")) is None
    assert isinstance(network_error(httpx.ReadTimeout("slow")), NetworkError)


def test_trace_is_json_safe_for_truncated_bodies() -> None:
    lines: list[str] = []
    big = {"access_token": SECRETS["access_token"], "pad": "x" * 10_000}
    client = make_client(
        trace=lines.append, transport=httpx.MockTransport(lambda _: httpx.Response(200, text=json.dumps(big)))
    )
    client.get("https://as.example/x")
    assert SECRETS["access_token"] not in "\n".join(lines)


def test_form_encoded_token_responses_are_redacted() -> None:
    lines: list[str] = []
    body = f"access_token={SECRETS['access_token']}&token_type=bearer&scope=repo"
    transport = httpx.MockTransport(
        lambda _: httpx.Response(
            200, content=body.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    )
    make_client(trace=lines.append, transport=transport).post("https://gh.example/token", data={"code": "c"})
    trace = "\n".join(lines)
    assert SECRETS["access_token"] not in trace
    assert fingerprint(SECRETS["access_token"], 8) in trace
    assert "scope=repo" in trace
