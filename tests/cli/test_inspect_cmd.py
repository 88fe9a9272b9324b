"""``xaa inspect`` end to end, in process: input forms, exit codes, trust sources (JWKS file, JWKS URL and
discovery on a real loopback HTTP server, profiles) and RFC 7662 introspection."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import keyring
import pytest
from typer.testing import CliRunner, Result

from tests.support.indep_jws import Signer, make_signer, unsigned_token
from xaa_cli.cli.app import app
from xaa_cli.cli.context import AppContext
from xaa_cli.clock import FixedClock
from xaa_cli.storage import paths
from xaa_cli.storage.config import App, Config, Profile, save_config
from xaa_cli.storage.secrets import SERVICE, secret_key

NOW = 1_800_000_000.0
RAS = "https://as.example"


def invoke(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, list(args), obj=AppContext(clock=FixedClock(NOW)), input=stdin)


def id_jag(signer: Signer, iss: str = "https://idp.example", **over: Any) -> str:
    claims: dict[str, Any] = {
        "iss": iss,
        "sub": "alice",
        "aud": RAS,
        "client_id": "agent",
        "jti": "j-1",
        "iat": int(NOW) - 30,
        "exp": int(NOW) + 270,
        "scope": "board:read",
    }
    claims.update(over)
    return signer.token(claims, typ="oauth-id-jag+jwt")


def jwks_file(tmp_path: Path, *signers: Signer) -> str:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [s.public_jwk() for s in signers]}))
    return str(path)


# ---------------------------------------------------------------- decode only


def test_decode_only_says_not_verified_on_the_first_line(runner: CliRunner) -> None:
    result = invoke(runner, "inspect", id_jag(make_signer("ES256")))
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("NOT VERIFIED: the signature was not checked")
    assert "ID-JAG" in result.stdout
    assert "expires in 4m 30s" in result.stdout
    assert result.stderr == ""


def test_json_shape(runner: CliRunner) -> None:
    result = invoke(runner, "inspect", id_jag(make_signer("EdDSA")), "-o", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == ["kind", "header", "claims", "verified", "checks", "warnings"]
    assert data["kind"] == "id-jag"
    assert data["verified"] is False
    assert data["header"]["typ"] == "oauth-id-jag+jwt"
    assert data["claims"]["client_id"] == "agent"
    assert all(set(c) == {"name", "ok", "detail"} for c in data["checks"])
    assert data["checks"][0] == {
        "name": "signature",
        "ok": None,
        "detail": "no trust source given (use --jwks, --issuer or --profile)",
    }


def test_global_output_flag_works_too(runner: CliRunner) -> None:
    result = invoke(runner, "-o", "json", "inspect", id_jag(make_signer("ES256")))
    assert json.loads(result.stdout)["kind"] == "id-jag"


def test_stdin_and_file_inputs(runner: CliRunner, tmp_path: Path) -> None:
    token = id_jag(make_signer("ES256"))
    from_stdin = invoke(runner, "inspect", "-", "-o", "json", stdin=token + "\n")
    assert json.loads(from_stdin.stdout)["kind"] == "id-jag"
    path = tmp_path / "token.txt"
    path.write_text(f"Bearer {token}\n")
    from_file = invoke(runner, "inspect", f"@{path}", "-o", "json")
    assert json.loads(from_file.stdout)["claims"]["sub"] == "alice"
    missing = invoke(runner, "inspect", f"@{tmp_path / 'nope'}")
    assert missing.exit_code == 2
    assert "cannot read" in missing.stderr


def test_input_over_64_kib_is_refused_clearly(runner: CliRunner) -> None:
    result = invoke(runner, "inspect", "-", stdin="a" * (64 * 1024 + 10))
    assert result.exit_code == 6
    assert "larger than 64 KiB" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("text", ["not a token at all", "eyJhbGciOiJFUzI1NiJ9.e30", "{}"])
def test_not_a_token_exits_6_with_empty_stdout(runner: CliRunner, text: str) -> None:
    result = invoke(runner, "inspect", text)
    assert result.exit_code == 6
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")


def test_opaque_token_decodes_as_opaque(runner: CliRunner) -> None:
    result = invoke(runner, "inspect", "2YotnFZFEjr1zCsicMWpAA")
    assert result.exit_code == 0
    assert "Opaque token" in result.stdout
    assert "2YotnFZFEjr1zCsicMWpAA" not in result.stdout  # never echo the token itself


# ---------------------------------------------------------------- JWKS file


def test_jwks_file_verifies(runner: CliRunner, tmp_path: Path) -> None:
    signer = make_signer("RS256")
    result = invoke(runner, "inspect", id_jag(signer), "--jwks", jwks_file(tmp_path, signer), "--aud", RAS)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("VERIFIED: RS256 signature verified with trusted key")
    assert "✓ all" in result.stdout


def test_failed_checks_exit_1_and_explain(runner: CliRunner, tmp_path: Path) -> None:
    signer = make_signer("ES256")
    token = id_jag(signer, exp=int(NOW) - 3 * 3600, iat=int(NOW) - 3 * 3600 - 300)
    result = invoke(runner, "inspect", token, "--jwks", jwks_file(tmp_path, signer), "--aud", "https://other")
    assert result.exit_code == 1
    assert (
        result.stdout.splitlines()[0] == "INVALID: the signature is genuine, but 2 check(s) failed: aud, exp"
    )
    assert "expired 3h ago" in result.stdout
    assert "not the expected https://other" in result.stdout
    assert "check(s) failed: aud, exp" in result.stderr


def test_json_output_then_check_failed(runner: CliRunner, tmp_path: Path) -> None:
    signer, other = make_signer("ES256", "k"), make_signer("ES256", "k")
    result = invoke(runner, "inspect", id_jag(other), "--jwks", jwks_file(tmp_path, signer), "-o", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["verified"] is False
    assert data["checks"][0]["ok"] is False
    assert json.loads(result.stderr)["error"] == "check_failed"


def test_alg_none_and_hmac_confusion_via_cli(runner: CliRunner, tmp_path: Path) -> None:
    from tests.support.indep_jws import hs256_token

    signer = make_signer("RS256", "k1")
    jwks = jwks_file(tmp_path, signer)
    claims = json.loads(invoke(runner, "inspect", id_jag(signer), "-o", "json").stdout)["claims"]
    none = invoke(runner, "inspect", unsigned_token({"kid": "k1"}, claims), "--jwks", jwks)
    assert none.exit_code == 1
    assert "alg 'none' means the token is unsigned" in none.stdout
    confused = invoke(
        runner, "inspect", hs256_token({"kid": "k1"}, claims, signer.public_pem()), "--jwks", jwks
    )
    assert confused.exit_code == 1
    assert "key-confusion" in confused.stdout.replace("\n", " ")


def test_max_lifetime_and_leeway_options(runner: CliRunner, tmp_path: Path) -> None:
    signer = make_signer("ES256")
    token = id_jag(signer, iat=int(NOW) - 200, exp=int(NOW) - 90)  # lives 1m 50s, expired 1m 30s ago
    short = invoke(runner, "inspect", token, "--max-lifetime", "1m", "--leeway", "2m")
    assert short.exit_code == 1
    assert "lives 1m 50s (exp - iat), more than the bound 1m" in short.stdout
    assert invoke(runner, "inspect", token, "--max-lifetime", "600").exit_code == 1  # expired
    assert invoke(runner, "inspect", token, "--max-lifetime", "10m", "--leeway", "2m").exit_code == 0
    assert invoke(runner, "inspect", token, "--leeway", "soon").exit_code == 2


# ---------------------------------------------------------------- loopback servers


Route = Callable[[BaseHTTPRequestHandler, bytes], tuple[int, Any]]


class Site:
    """A tiny real HTTP server on 127.0.0.1: path → handler returning (status, JSON body)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                route = site.routes.get(self.path)
                status, doc = route(self, body) if route else (404, {"error": "not_found"})
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def json(self, path: str, doc: Any, status: int = 200) -> None:
        self.routes[path] = lambda _h, _b: (status, doc)

    def issuer(self, path: str, signer: Signer, **extra: Any) -> str:
        issuer = self.url + path
        self.json(
            f"{path}/.well-known/openid-configuration",
            {"issuer": issuer, "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks", **extra},
        )
        self.json(f"{path}/jwks", signer.jwks())
        return issuer


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    thread = threading.Thread(target=s.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.mark.loopback
def test_jwks_url_on_loopback(runner: CliRunner, site: Site) -> None:
    signer = make_signer("PS256")
    site.json("/keys", signer.jwks())
    result = invoke(runner, "inspect", id_jag(signer), "--jwks", site.url + "/keys")
    assert result.exit_code == 0, result.output
    assert f"from JWKS {site.url}/keys" in result.stdout.splitlines()[0]


@pytest.mark.loopback
def test_issuer_discovery_verifies_and_pins_iss(runner: CliRunner, site: Site) -> None:
    signer = make_signer("ES256")
    issuer = site.issuer("/idp", signer)
    good = invoke(runner, "inspect", id_jag(signer, iss=issuer), "--issuer", issuer, "-o", "json")
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout)["verified"] is True
    wrong = invoke(runner, "inspect", id_jag(signer, iss=issuer + "/"), "--issuer", issuer)
    assert wrong.exit_code == 1
    assert wrong.stdout.splitlines()[0].startswith("NOT VERIFIED: the signature is good but the issuer")
    assert "trailing slash" in wrong.stdout


@pytest.mark.loopback
def test_issuer_discovery_via_rfc8414_and_mismatched_metadata(runner: CliRunner, site: Site) -> None:
    signer = make_signer("EdDSA")
    issuer = site.url + "/as"
    site.json(
        "/.well-known/oauth-authorization-server/as",
        {"issuer": issuer, "token_endpoint": issuer + "/token", "jwks_uri": site.url + "/k"},
    )
    site.json("/k", signer.jwks())
    assert invoke(runner, "inspect", id_jag(signer, iss=issuer), "--issuer", issuer).exit_code == 0
    site.json(
        "/evil/.well-known/openid-configuration", {"issuer": "https://evil", "jwks_uri": site.url + "/k"}
    )
    bad = invoke(runner, "inspect", id_jag(signer), "--issuer", site.url + "/evil")
    assert bad.exit_code == 5
    assert "names issuer 'https://evil'" in bad.stderr
    gone = invoke(runner, "inspect", id_jag(signer), "--issuer", site.url + "/nothing")
    assert gone.exit_code == 5


def test_unreachable_and_insecure_trust_sources(runner: CliRunner) -> None:
    token = id_jag(make_signer("ES256"))
    assert invoke(runner, "inspect", token, "--jwks", "http://jwks.example/keys").exit_code == 2
    assert invoke(runner, "inspect", token, "--jwks", "http://127.0.0.1:9/keys").exit_code == 4


def configure(site: Site, idp: Signer, ras: Signer, auth: str = "client_secret_basic") -> tuple[str, str]:
    idp_issuer = site.issuer("/idp", idp)
    app_issuer = site.issuer("/apps/trello", ras, introspection_endpoint=site.url + "/apps/trello/introspect")
    trello = App("trello", app_issuer, "agent-at-trello", auth, resource=site.url + "/api")  # type: ignore[arg-type]
    profile = Profile("dev", idp_issuer, "xaa-agent", apps={"trello": trello})
    save_config(Config(default_profile="dev", profiles={"dev": profile}), paths.config_file())
    keyring.set_password(SERVICE, secret_key("dev", "client_secret", app="trello"), "s" + "3cret")
    return idp_issuer, app_issuer


@pytest.mark.loopback
def test_profile_trusts_the_idp_and_expects_the_app_audience(runner: CliRunner, site: Site) -> None:
    idp, ras = make_signer("ES256", "idp"), make_signer("ES256", "ras")
    idp_issuer, app_issuer = configure(site, idp, ras)
    token = id_jag(idp, iss=idp_issuer, aud=app_issuer)
    ok = invoke(runner, "inspect", token, "--profile", "dev", "--aud", "trello", "-o", "json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["verified"] is True
    elsewhere = invoke(runner, "inspect", id_jag(idp, iss=idp_issuer), "--profile", "dev", "--aud", "trello")
    assert elsewhere.exit_code == 1  # aud is RAS, not trello's issuer
    forged = invoke(runner, "inspect", id_jag(ras, iss=idp_issuer, aud=app_issuer), "--profile", "dev")
    assert forged.exit_code == 1
    access = ras.token(
        {"iss": app_issuer, "sub": "alice", "aud": site.url + "/api", "client_id": "agent-at-trello",
         "jti": "a", "iat": int(NOW), "exp": int(NOW) + 600, "scope": "board:read"},
        typ="at+jwt",
    )  # fmt: skip
    at = invoke(runner, "inspect", access, "--profile", "dev", "--aud", "trello", "-o", "json")
    assert at.exit_code == 0, at.output
    assert json.loads(at.stdout)["kind"] == "access-token"


@pytest.mark.loopback
def test_introspection_active_inactive_and_refused(runner: CliRunner, site: Site) -> None:
    idp, ras = make_signer("ES256", "idp"), make_signer("ES256", "ras")
    configure(site, idp, ras)
    seen: list[dict[str, str]] = []
    expected = "Basic " + base64.b64encode(b"agent-at-trello:s3cret").decode()

    def introspect(handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any]:
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(body.decode()))
        seen.append(form)
        if handler.headers.get("Authorization") != expected:
            return 401, {"error": "invalid_client"}
        if form.get("token") == "live-token":
            return 200, {"active": True, "sub": "alice", "scope": "board:read", "exp": int(NOW) + 60}
        return 200, {"active": False}

    site.routes["/apps/trello/introspect"] = introspect
    live = invoke(runner, "inspect", "live-token", "--profile", "dev", "--aud", "trello", "--introspect")
    assert live.exit_code == 0, live.output
    assert "active: sub=alice, scope=board:read, expires in 1m" in live.stdout
    dead = invoke(
        runner, "inspect", "dead-token", "--profile", "dev", "--aud", "trello", "--introspect", "-o", "json"
    )
    assert dead.exit_code == 1
    assert json.loads(dead.stdout)["introspection"] == {"active": False}
    assert seen[-1]["token"] == "dead-token"
    keyring.set_password(SERVICE, secret_key("dev", "client_secret", app="trello"), "wrong")
    refused = invoke(runner, "inspect", "live-token", "--profile", "dev", "--aud", "trello", "--introspect")
    assert refused.exit_code == 5
    assert "introspection: the server answered invalid_client" in refused.stderr


def test_introspect_needs_profile_and_app(runner: CliRunner) -> None:
    result = invoke(runner, "inspect", "tok", "--introspect")
    assert result.exit_code == 2
    assert "--introspect needs --profile" in result.stderr
    unknown = invoke(runner, "inspect", "tok", "--profile", "dev", "--aud", "trello", "--introspect")
    assert unknown.exit_code == 3  # no such profile: said before any network call
    assert "no profile named 'dev'" in unknown.stderr
    bad_leeway = invoke(runner, "inspect", "not a token", "--leeway", "soon")
    assert bad_leeway.exit_code == 2  # options are checked before the token is read


# ---------------------------------------------------------------- the reference server (real uvicorn)


@pytest.fixture(scope="module")
def reference() -> Iterator[Any]:
    from tests.support.server import start_live

    server = start_live()
    yield server
    server.close()


def reference_tokens(server: Any) -> dict[str, str]:
    from tests.server.helpers import exchange, jwt_bearer
    from tests.support.server import sign_in

    id_token = sign_in(server)["id_token"]
    grant = exchange(server, id_token, app="trello", scope="board:read").json()["access_token"]
    access = jwt_bearer(server, grant, app="trello").json()["access_token"]
    return {"id_token": id_token, "id_jag": grant, "access": access}


@pytest.mark.loopback
def test_reference_server_tokens_verify_by_issuer(runner: CliRunner, reference: Any) -> None:
    tokens = reference_tokens(reference)
    trello = reference.app_issuer("trello")
    args = ["inspect", tokens["id_jag"], "--issuer", reference.idp_issuer, "--aud", trello, "-o", "json"]
    grant = runner.invoke(app, args)
    assert grant.exit_code == 0, grant.output
    data = json.loads(grant.stdout)
    assert data["kind"] == "id-jag"
    assert data["verified"] is True
    assert all(c["ok"] for c in data["checks"]), data["checks"]
    access = runner.invoke(app, ["inspect", tokens["access"], "--issuer", reference.app_issuer("trello")])
    assert access.exit_code == 0, access.output
    assert access.stdout.startswith("VERIFIED: ")
    assert "OAuth access token (RFC 9068 JWT)" in access.stdout
    # The IdP's keys must not vouch for the app's tokens, and vice versa.
    crossed = runner.invoke(app, ["inspect", tokens["access"], "--issuer", reference.idp_issuer])
    assert crossed.exit_code == 1
    assert crossed.stdout.startswith("NOT VERIFIED: ")


@pytest.mark.loopback
def test_reference_server_profile_trust_and_introspection(runner: CliRunner, reference: Any) -> None:
    from tests.support.server import provision

    provision(reference)
    tokens = reference_tokens(reference)
    id_token = runner.invoke(app, ["inspect", tokens["id_token"], "--profile", "dev", "-o", "json"])
    assert id_token.exit_code == 0, id_token.output
    assert json.loads(id_token.stdout)["kind"] == "id-token"
    grant = runner.invoke(app, ["inspect", tokens["id_jag"], "--profile", "dev", "--aud", "trello"])
    assert grant.exit_code == 0, grant.output
    live = runner.invoke(
        app,
        ["inspect", tokens["access"], "--profile", "dev", "--aud", "trello", "--introspect", "-o", "json"],
    )
    assert live.exit_code == 0, live.output
    data = json.loads(live.stdout)
    assert data["introspection"]["active"] is True
    assert data["introspection"]["sub"] == "alice"
    wrong_app = runner.invoke(
        app, ["inspect", tokens["access"], "--profile", "dev", "--aud", "slack", "--introspect"]
    )
    assert wrong_app.exit_code == 1  # slack's AS does not know trello's token: active false is a result
    assert "inactive" in wrong_app.stdout


@pytest.mark.loopback
def test_reference_server_introspection_with_private_key_jwt(runner: CliRunner, reference: Any) -> None:
    from dataclasses import replace

    from tests.support.server import provision
    from xaa_cli.storage.config import load_config, with_app

    profile = provision(reference)
    keyed = replace(profile.apps["trello"], client_auth="private_key_jwt")  # the profile's key signs
    config = load_config(paths.config_file())
    save_config(config.with_profile(with_app(profile, keyed)), paths.config_file())
    access = reference_tokens(reference)["access"]
    result = runner.invoke(app, ["inspect", access, "--profile", "dev", "--aud", "trello", "--introspect"])
    assert result.exit_code == 0, result.output
    assert "✓  introspection  active: sub=alice" in result.stdout
    keyring.delete_password(SERVICE, secret_key("dev", "private_key"))  # no key: no silent fallback
    keyless = runner.invoke(app, ["inspect", access, "--profile", "dev", "--aud", "trello", "--introspect"])
    assert keyless.exit_code == 3
    assert "no private key is stored" in keyless.stderr
