"""End to end: `xaa login` / `xaa token` / `xaa run` against the real reference server (in-process)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.xaa_harness import Xaa
from tests.support.server import DevServer, provision, sign_in
from xaa_cli.clock import FixedClock
from xaa_cli.storage.config import load_config
from xaa_cli.storage.paths import config_file
from xaa_cli.storage.secrets import secret_key

MakeServer = Callable[..., DevServer]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(time.time())


@pytest.fixture
def xaa(make_dev_server: MakeServer, clock: FixedClock, isolated_home: Path) -> Xaa:
    server = make_dev_server(clock=clock)
    provision(server)
    return Xaa(server, clock, isolated_home)


@pytest.fixture
def signed_in(xaa: Xaa) -> Xaa:
    xaa.ok("login")
    return xaa


def stored(name: str) -> str | None:
    import keyring

    return keyring.get_password("xaa", secret_key("dev", name))


# ----------------------------------------------------------------------------------------- login
def test_browser_login_follows_the_url_and_stores_validated_tokens(xaa: Xaa) -> None:
    result = xaa.ok("login")
    assert result.stdout == ""
    assert "Signed in to " in result.stderr
    assert "alice@example.com" in result.stderr
    (url,) = xaa.opened
    assert "code_challenge_method=S256" in url
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
    assert stored("id_token")
    assert stored("refresh_token")
    status = xaa.json("status")
    assert status["signed_in"] is True
    assert status["subject"] == "alice"
    assert status["refresh_token"] is True
    assert status["secret_store"]["kind"] == "keyring"
    assert 3500 < status["id_token_expires_in"] <= 3600


def test_no_browser_prints_the_url_on_stderr(xaa: Xaa) -> None:
    result = xaa("login", "--no-browser", "--timeout", "0.3")
    # nobody follows the printed URL: the login gives up after the timeout and says what to do
    assert result.exit_code == 7
    assert "no answer from the browser" in result.stderr
    assert result.stdout == ""
    assert "Open this URL in a browser to sign in:" in result.stderr
    assert "No browser on this machine? Use `xaa login --device`." in result.stderr
    assert xaa.opened == []


def test_device_login(make_dev_server: MakeServer, clock: FixedClock, isolated_home: Path) -> None:
    server = make_dev_server(clock=clock, auto_approve="bob")
    provision(server)
    xaa = Xaa(server, clock, isolated_home)
    result = xaa.ok("login", "--device")
    assert "enter the code" in result.stderr
    assert xaa.opened == []
    assert xaa.json("status")["subject"] == "bob"
    assert any("/device" in r for r in xaa.requests)


def test_login_with_an_existing_id_token(xaa: Xaa, tmp_path: Path) -> None:
    tokens = sign_in(xaa.server)
    path = tmp_path / "id_token"
    path.write_text(tokens["id_token"] + "\n")
    xaa.ok("login", "--subject-token-file", str(path))
    assert stored("id_token") == tokens["id_token"]
    assert xaa.json("status")["refresh_token"] is False
    token = xaa.ok("token", "get", "--aud", "github", "-s", "repo:status").stdout.strip()
    assert xaa.whoami("github", token).json()["sub"] == "alice"


def test_login_refuses_a_forged_subject_token(xaa: Xaa) -> None:
    forged = sign_in(xaa.server)["id_token"][:-6] + "AAAAAA"
    result = xaa("login", "--subject-token-file", "-", input=forged)
    assert result.exit_code == 6
    assert "signature" in result.stderr
    assert stored("id_token") is None


def test_logout_revokes_and_forgets(signed_in: Xaa) -> None:
    xaa = signed_in
    xaa.ok("token", "get", "--aud", "trello")
    refresh = stored("refresh_token")
    assert refresh
    result = xaa.ok("logout")
    assert "refresh token revoked" in result.stderr
    # The IdP really revoked it (RFC 7009), not just the local copy: the refresh grant now fails.
    server = xaa.server
    reuse = server.client.post(
        f"{server.idp_issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(server.kit.client_id, server.kit.secret),
    )
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert "1 cached token(s) dropped" in result.stderr
    assert stored("id_token") is None
    assert stored("refresh_token") is None
    assert xaa.json("status")["signed_in"] is False
    result = xaa("token", "get", "--aud", "trello")
    assert result.exit_code == 7
    assert "run `xaa login`" in result.stderr


# ----------------------------------------------------------------------------------------- tokens
@pytest.mark.parametrize(
    ("app", "scopes"),
    [("trello", ["board:write"]), ("slack", ["chat:write", "channels:read"]), ("github", ["repo:status"])],
)
def test_token_get_for_several_apps(signed_in: Xaa, app: str, scopes: list[str]) -> None:
    xaa = signed_in
    args = [arg for s in scopes for arg in ("--scope", s)]
    result = xaa.ok("token", "get", "--aud", app, *args)
    token = result.stdout.removesuffix("\n")
    assert result.stdout == token + "\n"
    assert "\n" not in token
    who = xaa.whoami(app, token)
    assert who.status_code == 200
    body = who.json()
    assert body["sub"] == "alice"
    assert body["client_id"] == f"xaa-agent-at-{app}"
    assert set(body["scope"].split()) == set(scopes)


def test_output_modes(signed_in: Xaa) -> None:
    xaa = signed_in
    data = xaa.json("token", "get", "--aud", "trello", "-s", "board:read")
    fields = "access_token token_type expires_at expires_in scope audience resource id_jag_jti"
    assert set(data) == set(fields.split())
    assert data["token_type"] == "Bearer"
    assert data["scope"] == "board:read"
    assert data["audience"] == xaa.server.app_issuer("trello")
    assert data["resource"] == xaa.server.resource("trello")
    assert data["expires_at"] == int(xaa.clock.now()) + 600
    assert data["expires_in"] == 600
    token = data["access_token"]
    header = xaa.ok("token", "get", "--aud", "trello", "-s", "board:read", "-o", "header").stdout
    assert header == f"Authorization: Bearer {token}\n"
    env = xaa.ok("token", "get", "--aud", "trello", "-s", "board:read", "-o", "env").stdout
    assert env == f"export XAA_ACCESS_TOKEN={token}\n"
    assert xaa("token", "get", "--aud", "trello", "-o", "table").exit_code == 2


def test_narrowed_scope_is_reported(signed_in: Xaa) -> None:
    result = signed_in.ok(
        "token", "get", "--aud", "salesforce", "-s", "contacts:read revenue:read", "-o", "json"
    )
    assert json.loads(result.stdout)["scope"] == "contacts:read"
    assert "granted fewer scopes than requested: revenue:read (dropped by the IdP)" in result.stderr


def test_bob_is_narrowed_to_read(make_dev_server: MakeServer, clock: FixedClock, isolated_home: Path) -> None:
    server = make_dev_server(clock=clock, auto_approve="bob")
    provision(server)
    xaa = Xaa(server, clock, isolated_home)
    xaa.ok("login", "--device")
    result = xaa.ok("token", "get", "--aud", "trello", "-s", "board:read", "-s", "board:write", "-o", "json")
    assert json.loads(result.stdout)["scope"] == "board:read"
    assert "board:write (dropped by the IdP)" in result.stderr


def test_refused_scope_says_hop_answer_and_cause(signed_in: Xaa) -> None:
    result = signed_in("token", "get", "--aud", "trello", "-s", "board:admin")
    assert result.exit_code == 5
    assert result.stdout == ""
    assert "error: token exchange at the IdP: the server answered invalid_scope" in result.stderr
    assert "hint: the requested scope (board:admin)" in result.stderr


def test_denied_user_gets_the_policy_answer(
    make_dev_server: MakeServer, clock: FixedClock, isolated_home: Path
) -> None:
    server = make_dev_server(clock=clock, auto_approve="bob")
    provision(server)
    xaa = Xaa(server, clock, isolated_home)
    xaa.ok("login", "--device")
    result = xaa("token", "get", "--aud", "salesforce", "-s", "contacts:read")
    assert result.exit_code == 5
    assert "token exchange at the IdP" in result.stderr
    assert "salesforce" in result.stderr
    entries = audit_entries(xaa.home)
    assert entries[-1]["event"] == "token_exchange"
    assert entries[-1]["outcome"] == "error"


def test_unknown_issuer_fails_at_discovery(signed_in: Xaa) -> None:
    result = signed_in("token", "get", "--aud", "http://127.0.0.1:8765/apps/nope")
    assert result.exit_code == 5
    assert result.stdout == ""
    assert "no authorization-server metadata for http://127.0.0.1:8765/apps/nope" in result.stderr


def test_app_the_policy_does_not_reach_is_invalid_target(
    make_dev_server: MakeServer, clock: FixedClock, isolated_home: Path
) -> None:
    from dataclasses import replace

    from xaa_cli.server.policy import DEFAULT_POLICY

    policy = replace(DEFAULT_POLICY, rules=tuple(r for r in DEFAULT_POLICY.rules if r.app != "github"))
    server = make_dev_server(clock=clock, policy=policy)
    provision(server)
    xaa = Xaa(server, clock, isolated_home)
    xaa.ok("login")
    result = xaa("token", "get", "--aud", "github")
    assert result.exit_code == 5
    assert "error: token exchange at the IdP: the server answered invalid_target" in result.stderr
    assert "hint: the IdP's policy does not let client xaa-agent reach github" in result.stderr


def test_cache_hit_makes_no_network_call_and_fresh_bypasses(signed_in: Xaa) -> None:
    xaa = signed_in
    first = xaa.ok("token", "get", "--aud", "trello", "-s", "board:write").stdout
    before = len(xaa.requests)
    again = xaa.ok("token", "get", "--aud", "trello", "-s", "board:write").stdout
    assert again == first
    assert len(xaa.requests) == before  # no discovery, no token request, nothing
    fresh = xaa.ok("token", "get", "--aud", "trello", "-s", "board:write", "--fresh").stdout
    assert fresh != first
    assert len(xaa.requests) > before
    events = [e["event"] for e in audit_entries(xaa.home)]
    assert events.count("token_cache_hit") == 1
    cached = xaa.json("status")["cached_tokens"]
    assert cached == [{"app": "trello", "scope": "board:write", "expires_in": 600}]
    listed = xaa.json("token", "list")
    assert len(listed) == 1
    assert listed[0]["scope"] == "board:write"
    assert "access_token" not in listed[0]
    assert fresh.strip() not in xaa.ok("token", "list").stdout
    assert "Removed 1 cached token(s)." in xaa.ok("token", "clear").stderr
    assert xaa.json("token", "list") == []


def test_tokens_near_expiry_are_renewed(signed_in: Xaa) -> None:
    xaa = signed_in
    first = xaa.ok("token", "get", "--aud", "trello").stdout
    xaa.clock.advance(600 - 30)  # inside the 60 s skew
    second = xaa.ok("token", "get", "--aud", "trello").stdout
    assert second != first
    assert xaa.whoami("trello", second.strip()).status_code == 200


def test_expired_id_token_is_renewed_through_the_refresh_token(signed_in: Xaa) -> None:
    xaa = signed_in
    old_id_token = stored("id_token")
    xaa.clock.advance(3600 + 120)  # the ID token (1 h) and every cached access token have expired
    token = xaa.ok("token", "get", "--aud", "slack", "-s", "chat:write").stdout.strip()
    assert stored("id_token") != old_id_token
    assert xaa.whoami("slack", token).status_code == 200
    events = [e["event"] for e in audit_entries(xaa.home)]
    assert events[-3:] == ["login_refresh", "token_exchange", "jwt_bearer"]


def test_id_token_refused_by_the_idp_is_renewed_once(signed_in: Xaa) -> None:
    import keyring

    xaa = signed_in
    good = stored("id_token")
    assert good
    header, payload, signature = good.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"  # not expired here, but the IdP must refuse it
    keyring.set_password("xaa", secret_key("dev", "id_token"), forged)
    token = xaa.ok("token", "get", "--aud", "trello").stdout.strip()
    assert xaa.whoami("trello", token).status_code == 200
    assert stored("id_token") not in (forged, good)
    events = [(e["event"], e["outcome"]) for e in audit_entries(xaa.home)]
    assert events[-4:] == [
        ("token_exchange", "error"), ("login_refresh", "ok"), ("token_exchange", "ok"), ("jwt_bearer", "ok"),
    ]  # fmt: skip


def test_refused_id_token_without_refresh_token_is_login_required(signed_in: Xaa) -> None:
    import keyring

    good = stored("id_token")
    assert good
    keyring.set_password("xaa", secret_key("dev", "id_token"), good[:-4] + "AAAA")
    keyring.delete_password("xaa", secret_key("dev", "refresh_token"))
    result = signed_in("token", "get", "--aud", "trello")
    assert result.exit_code == 7
    assert "the IdP no longer accepts your sign-in" in result.stderr


def test_unrenewable_login_says_run_xaa_login(signed_in: Xaa) -> None:
    import keyring

    xaa = signed_in
    keyring.delete_password("xaa", secret_key("dev", "refresh_token"))
    xaa.clock.advance(3600 + 120)
    result = xaa("token", "get", "--aud", "trello")
    assert result.exit_code == 7
    assert "your sign-in has expired" in result.stderr
    assert "run `xaa login`" in result.stderr


def test_revoked_refresh_token_is_login_required(signed_in: Xaa) -> None:
    xaa = signed_in
    refresh = stored("refresh_token")
    assert refresh
    response = xaa.server.client.post(
        f"{xaa.server.idp_issuer}/revoke",
        data={"token": refresh, "token_type_hint": "refresh_token"},
        auth=(xaa.server.kit.client_id, xaa.server.kit.secret),
    )
    assert response.status_code == 200
    xaa.clock.advance(3600 + 120)
    result = xaa("token", "get", "--aud", "trello")
    assert result.exit_code == 7
    assert "refused to renew it (invalid_grant)" in result.stderr


def test_discovery_from_resource(signed_in: Xaa) -> None:
    xaa = signed_in
    resource = xaa.server.resource("slack")
    xaa.requests.clear()
    data = xaa.json("token", "get", "--resource", resource, "-s", "chat:write")
    assert data["audience"] == xaa.server.app_issuer("slack")
    assert data["resource"] == resource
    assert xaa.whoami("slack", data["access_token"]).json()["aud"] == resource
    # RFC 9728 §5.1: the resource's own 401 challenge pointed at its metadata.
    prm = f"{xaa.server.base_url}/.well-known/oauth-protected-resource/apps/slack/api"
    urls = [entry.split(" ", 1)[-1] for entry in xaa.requests]
    assert urls.index(resource) < urls.index(prm)


def test_audience_as_issuer_url(signed_in: Xaa) -> None:
    xaa = signed_in
    data = xaa.json("token", "get", "--aud", xaa.server.app_issuer("github"), "-s", "contents:read")
    assert data["audience"] == xaa.server.app_issuer("github")
    assert data["resource"] == xaa.server.resource("github")


def test_app_that_does_not_advertise_id_jag_is_explained(signed_in: Xaa) -> None:
    from dataclasses import replace

    from xaa_cli.storage.config import save_config, with_app

    xaa = signed_in
    config = load_config(config_file())
    profile = config.profile("dev")
    # id_jag unknown: the client must read the metadata, which here does advertise the profile
    save_config(
        config.with_profile(with_app(profile, replace(profile.apps["trello"], id_jag=None))), config_file()
    )
    assert xaa.ok("token", "get", "--aud", "trello").stdout
    save_config(
        config.with_profile(with_app(profile, replace(profile.apps["trello"], id_jag=False))), config_file()
    )
    result = xaa("token", "get", "--aud", "trello", "--fresh")
    assert result.exit_code == 5
    assert "does not accept ID-JAGs: it is configured with id_jag = false" in result.stderr
    assert "--interactive" in result.stderr


@pytest.fixture
def hybrid(make_dev_server: MakeServer, clock: FixedClock, isolated_home: Path) -> Xaa:
    """github's authorization server does not support ID-JAG (draft A.4.2; issue 9)."""
    from dataclasses import replace

    from xaa_cli.server.policy import DEFAULT_POLICY

    apps = {**DEFAULT_POLICY.apps, "github": replace(DEFAULT_POLICY.apps["github"], id_jag=False)}
    server = make_dev_server(clock=clock, policy=replace(DEFAULT_POLICY, apps=apps))
    provision(server)
    config = load_config(config_file())
    profile = config.profile("dev")
    from xaa_cli.storage.config import save_config, with_app

    # let the client read the metadata instead of trusting the provisioned id_jag setting
    save_config(
        config.with_profile(with_app(profile, replace(profile.apps["github"], id_jag=None))), config_file()
    )
    xaa = Xaa(server, clock, isolated_home)
    xaa.ok("login")
    return xaa


def test_app_without_id_jag_is_explained_in_one_sentence(hybrid: Xaa) -> None:
    result = hybrid("token", "get", "--aud", "github", "-s", "repo:status")
    assert result.exit_code == 5
    assert result.stdout == ""
    assert (
        "does not accept ID-JAGs: its metadata does not list urn:ietf:params:oauth:grant-profile:id-jag"
        in result.stderr
    )
    assert "rerun with --interactive" in result.stderr
    assert not any("/idp/token" in r for r in hybrid.requests[-2:])  # no ID-JAG was requested for it


def test_interactive_fallback_signs_in_at_the_app(hybrid: Xaa) -> None:
    xaa = hybrid
    opened_before = len(xaa.opened)
    result = xaa.ok("token", "get", "--aud", "github", "-s", "repo:status", "--interactive", "-o", "json")
    data = json.loads(result.stdout)
    assert "signing in at the app itself" in result.stderr
    (url,) = xaa.opened[opened_before:]
    assert url.startswith(xaa.server.app_issuer("github") + "/authorize?")
    assert "code_challenge_method=S256" in url
    assert data["id_jag_jti"] is None
    assert data["scope"] == "repo:status"
    who = xaa.whoami("github", data["access_token"]).json()
    assert who["sub"] == "alice"
    # same cache: the next call is a hit, with no browser and no request
    before = len(xaa.requests)
    again = xaa.ok("token", "get", "--aud", "github", "-s", "repo:status", "--interactive").stdout
    assert again.strip() == data["access_token"]
    assert len(xaa.requests) == before
    entries = audit_entries(xaa.home)
    assert ("authorization_code", "ok") in [(e["event"], e["outcome"]) for e in entries]
    assert data["access_token"] not in json.dumps(entries)


# ----------------------------------------------------------------------------------------- step by step
def test_id_jag_then_exchange_step_by_step(signed_in: Xaa) -> None:
    xaa = signed_in
    result = xaa.ok("token", "id-jag", "--aud", "trello", "-s", "board:read", "-o", "json", "--show-steps")
    data = json.loads(result.stdout)
    assert data["verified"] is False
    assert data["header"]["typ"] == "oauth-id-jag+jwt"
    assert data["claims"]["aud"] == xaa.server.app_issuer("trello")
    assert data["claims"]["client_id"] == "xaa-agent-at-trello"
    assert data["scope"] == "board:read"
    assert "step 1: token exchange at the IdP" in result.stderr
    assert data["id_jag"] not in result.stderr
    exchanged = xaa.ok("token", "exchange", "--aud", "trello", "-", "-o", "json", input=data["id_jag"] + "\n")
    access = json.loads(exchanged.stdout)
    assert access["scope"] == "board:read"
    assert xaa.whoami("trello", access["access_token"]).status_code == 200
    replay = xaa("token", "exchange", "--aud", "trello", data["id_jag"])
    assert replay.exit_code == 5  # the reference RAS is single-use (EMA §7.4.2)
    assert "jwt-bearer grant at trello: the server answered invalid_grant" in replay.stderr


def test_show_steps_narrates_both_hops_without_tokens(signed_in: Xaa) -> None:
    xaa = signed_in
    result = xaa.ok("token", "get", "--aud", "trello", "-s", "board:write", "--show-steps")
    err = result.stderr
    assert err.index("step 1: token exchange at the IdP") < err.index("step 2: jwt-bearer grant at trello")
    assert "POST http://127.0.0.1:8765/idp/token" in err
    assert "POST http://127.0.0.1:8765/apps/trello/token" in err
    assert "issued_token_type: urn:ietf:params:oauth:token-type:id-jag" in err
    assert "expires_in: 600" in err
    assert "subject_token=<redacted" in err
    assert result.stdout.strip() not in err


# ----------------------------------------------------------------------------------------- run
def test_run_passes_the_token_and_the_exit_status(signed_in: Xaa, tmp_path: Path) -> None:
    xaa = signed_in
    out = tmp_path / "seen"
    script = (
        "import os, sys; open(sys.argv[1], 'w').write(os.environ.get('TRELLO_TOKEN', ''));"
        "sys.exit(int(sys.argv[2]))"
    )
    result = xaa("run", "--aud", "trello", "-s", "board:read", "--env", "TRELLO_TOKEN", "--",
                 sys.executable, "-c", script, str(out), "3")  # fmt: skip
    assert result.exit_code == 3
    token = out.read_text()
    assert xaa.whoami("trello", token).json()["scope"] == "board:read"
    assert token not in result.stdout + result.stderr
    ok = xaa("run", "--aud", "trello", "-s", "board:read", "--", sys.executable, "-c", script, str(out), "0")
    assert ok.exit_code == 0
    assert out.read_text() == ""  # default variable is XAA_ACCESS_TOKEN, not TRELLO_TOKEN


def test_run_default_env_name(signed_in: Xaa, tmp_path: Path) -> None:
    out = tmp_path / "seen"
    script = "import os, sys; open(sys.argv[1], 'w').write(os.environ['XAA_ACCESS_TOKEN'])"
    signed_in.ok("run", "--aud", "github", "--", sys.executable, "-c", script, str(out))
    assert signed_in.whoami("github", out.read_text()).status_code == 200


def test_run_without_a_command_is_a_usage_error(signed_in: Xaa) -> None:
    assert signed_in("run", "--aud", "github", "--", "no-such-program-xaa").exit_code == 2


# ----------------------------------------------------------------------------------------- client auth
@pytest.mark.parametrize(
    ("idp_auth", "app_auth"),
    [
        ("private_key_jwt", "client_secret_basic"),
        ("client_secret_basic", "client_secret_post"),
        ("client_secret_post", "private_key_jwt"),
    ],
)
def test_each_client_auth_method(xaa: Xaa, idp_auth: str, app_auth: str) -> None:
    from dataclasses import replace

    from xaa_cli.storage.config import save_config, with_app

    config = load_config(config_file())
    profile = config.profile("dev")
    profile = with_app(
        replace(profile, client_auth=idp_auth), replace(profile.apps["slack"], client_auth=app_auth)
    )  # type: ignore[arg-type]
    save_config(config.with_profile(profile), config_file())
    xaa.ok("login")
    result = xaa.ok("token", "get", "--aud", "slack", "-s", "chat:write", "--show-steps")
    err = result.stderr
    markers = {
        "private_key_jwt": "client_assertion=<redacted",
        "client_secret_post": "client_secret=<redacted",
        "client_secret_basic": None,
    }
    idp_step, app_step = err.split("step 2:")
    for step, method in ((idp_step, idp_auth), (app_step, app_auth)):
        marker = markers[method]
        others = [m for k, m in markers.items() if m and k != method]
        if marker:
            assert marker in step
        assert not any(m in step for m in others)
    assert xaa.whoami("slack", result.stdout.strip()).json()["client_id"] == "xaa-agent-at-slack"


# ----------------------------------------------------------------------------------------- no leaks
def audit_entries(home: Path) -> list[dict[str, Any]]:
    path = next(home.rglob("audit.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_no_token_in_stderr_audit_log_or_config(signed_in: Xaa) -> None:
    xaa = signed_in
    outputs, errors = [], []
    for args in (
        ("token", "get", "--aud", "trello", "-s", "board:write", "--show-steps", "-o", "json"),
        ("--verbose", "token", "get", "--aud", "slack", "--fresh", "--show-steps"),
        ("token", "id-jag", "--aud", "github", "--show-steps"),
        ("status", "-o", "json"),
        ("token", "list", "-o", "json"),
    ):
        result = xaa.ok(*args)
        outputs.append(result.stdout)
        errors.append(result.stderr)
    secrets = [stored("id_token"), stored("refresh_token"), xaa.server.kit.secret]
    data = json.loads(outputs[0])
    secrets += [data["access_token"], outputs[1].strip(), outputs[2].strip()]
    assert all(secrets)
    stderr = "\n".join(errors)
    on_disk = xaa.files_text()
    config_text = config_file().read_text()
    assert audit_entries(xaa.home)
    for secret in secrets:
        assert secret
        assert secret not in stderr
        assert secret not in on_disk
        assert secret not in config_text
    events = {e["event"] for e in audit_entries(xaa.home)}
    assert {"login", "token_exchange", "jwt_bearer"} <= events
    assert all("token_fingerprint" in e for e in audit_entries(xaa.home) if e["event"] == "jwt_bearer")


def test_step_up_demand_leads_to_login_with_max_age(
    make_dev_server: MakeServer, clock: FixedClock, isolated_home: Path
) -> None:
    from dataclasses import replace

    from xaa_cli.server.policy import DEFAULT_POLICY

    apps = {**DEFAULT_POLICY.apps, "trello": replace(DEFAULT_POLICY.apps["trello"], max_auth_age=300)}
    server = make_dev_server(clock=clock, policy=replace(DEFAULT_POLICY, apps=apps))
    provision(server)
    xaa = Xaa(server, clock, isolated_home)
    xaa.ok("login")
    clock.advance(400)  # the ID token is still valid for an hour, but the sign-in is older than 300 s
    result = xaa("token", "get", "--aud", "trello")
    assert result.exit_code == 7
    assert "the IdP wants a more recent or stronger sign-in before it lets you reach trello" in result.stderr
    assert "run `xaa login --max-age 300`, then retry" in result.stderr
    xaa.ok("login", "--max-age", "300")
    assert "max_age=300" in xaa.opened[-1]
    assert xaa.ok("token", "get", "--aud", "trello").stdout.strip()


def test_resource_challenge_for_another_resource_is_refused(signed_in: Xaa) -> None:
    # whoami answers 401 with resource_metadata for .../api; RFC 9728 §3.3 forbids using it for .../api/whoami
    endpoint = signed_in.server.resource("slack") + "/whoami"
    result = signed_in("token", "get", "--resource", endpoint)
    assert result.exit_code == 5
    assert "refusing to use it (RFC 9728 §3.3)" in result.stderr
    assert not any(r.startswith("POST") for r in signed_in.requests[-3:])
