"""The demo's story, step by step, each through the code the real commands run:

sign-in (``xaa login``) → both hops (``xaa token get``) → the app's API (``xaa run``) → ``xaa inspect`` of the
ID-JAG and of the access token → the IdP's audit trail (``xaa dev audit``) → ``xaa revoke --aud trello``
and the API refusing the token → a request the IdP's policy refuses (bob asking for ``board:write``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from rich.text import Text

from xaa_cli.cli.demo.browser import ScriptedBrowser
from xaa_cli.cli.demo.narrate import Narrator, Row, checks_table, params_rows, short, step_rows
from xaa_cli.errors import XaaError

if TYPE_CHECKING:
    from xaa_cli.cli.context import AppContext
    from xaa_cli.cli.demo.sandbox import Sandbox
    from xaa_cli.core.token_endpoint import StepEvent
    from xaa_cli.storage.config import Profile
    from xaa_cli.storage.token_cache import CachedToken

APP: Final = "trello"
SCOPE: Final = "board:write"
AUTHORIZE_SKIPPED: Final = ("response_type",)  # implied by the grant row
SHOWN_CLAIMS: Final = ("iss", "sub", "aud", "client_id", "scope", "resource", "jti", "exp")


@dataclass
class Demo:
    box: Sandbox
    say: Narrator
    audit_seen: int = 0  # IdP audit rows already shown

    @property
    def actx(self) -> AppContext:
        return self.box.actx

    def run(self) -> None:
        prof = self.actx.profile()
        self.intro(prof)
        self.sign_in(prof, "alice")
        entry, jag = self.get_token(prof)
        self.call_api(entry, expect_ok=True)
        self.inspect(prof, jag, "the ID-JAG", f"xaa token id-jag --aud {APP} --scope {SCOPE}")
        self.inspect(prof, entry.access_token, "the access token", "xaa token get ...")
        self.idp_audit("The IdP's audit trail: who got what, under which policy rule", "xaa dev audit")
        self.revoke(prof, entry)
        self.call_api(entry, expect_ok=False)
        self.sign_in(prof, "bob", brief=True)
        self.refuse(prof)

    # ------------------------------------------------------------------ steps
    def intro(self, prof: Profile) -> None:
        apps = ", ".join(prof.apps)
        self.say.panel(
            "Reference servers up (what `xaa dev serve` runs), on loopback only",
            [
                ("IdP", f"{prof.issuer}  (users alice, bob; client {prof.client_id})"),
                (
                    "apps",
                    f"{apps}: each with its own authorization server and API under {self.box.base_url}/apps/",
                ),
                ("xaa home", f"{self.box.home}  (throw-away: config, token cache, audit log, secrets)"),
                ("profile", f"{prof.name}: IdP client auth {prof.client_auth}, every app as an alias"),
            ],
        )

    def sign_in(self, prof: Profile, user: str, *, brief: bool = False) -> None:
        """``xaa login`` through the sign-in page; ``brief``: the same as before, so fewer rows."""
        from xaa_cli.cli import flow
        from xaa_cli.core.login import browser_login

        actx = self.actx
        metadata = flow.idp_metadata(actx, prof)
        idp = flow.idp_endpoint(actx, prof, metadata)
        browser = ScriptedBrowser(actx.http(), user)
        result = browser_login(
            actx.http(), idp, metadata, scopes=prof.login_scopes, open_browser=browser,
            announce=lambda _message: None, clock=actx.clock,
        )  # fmt: skip
        flow.store_login(actx, prof, result)
        actx.audit().record(
            "login", profile=prof.name, issuer=prof.issuer, client_id=prof.client_id,
            method="authorization_code", subject=result.claims.get("sub"),
        )  # fmt: skip
        claims = result.claims
        page = browser.pages[0] if browser.pages else "the sign-in page"
        url = browser.opened[0] if browser.opened else metadata.endpoint("authorization_endpoint") or ""
        authorize_params = "\n".join(params_rows(url.partition("?")[2], skip=AUTHORIZE_SKIPPED))
        renew = "kept too (renews the ID token)" if result.refresh_token else "none"
        rows: list[Row] = [
            ("who", f"{user}'s browser → IdP; then xaa (client {prof.client_id}) → IdP token endpoint"),
            ("grant", "authorization code + PKCE S256, redirect to xaa's loopback listener (RFC 8252)"),
            ("request", f"GET {url.split('?', 1)[0]}"),
            ("parameters", authorize_params),
            ("page", f"“{page}”: the user {user} is picked (the demo plays the browser)"),
            ("answer", f"ID token for sub={claims.get('sub')} ({claims.get('email', '-')})"),
            ("  id_token", short(result.id_token)),
            ("  refresh", renew),
            ("stored", "in the secret store (here a 0600 file in the throw-away home), never printed"),
        ]
        if brief:
            rows = [r for r in rows if r[0] in ("who", "page", "answer", "  id_token")]
        title = f"Sign in: {user} at the IdP (OpenID Connect)"
        self.say.panel(title, rows, ok=True, footer="what `xaa login` does")

    def get_token(self, prof: Profile) -> tuple[CachedToken, str]:
        from xaa_cli.cli import flow

        actx = self.actx
        events: list[StepEvent] = []
        target = flow.resolve_target(actx, prof, APP, None)
        scopes = flow.default_scopes(target, [SCOPE])
        entry, result = flow.get_token(actx, prof, target, scopes, fresh=True, observer=events.append)
        if result is None:  # fresh=True always runs the flow
            raise XaaError("the demo expected a new token, not one from the cache")
        titles = (
            "Hop 1: ID token → ID-JAG at the IdP (RFC 8693 token exchange)",
            f"Hop 2: ID-JAG → access token at {APP} (RFC 7523 jwt-bearer)",
        )
        whos = (
            f"xaa (client {prof.client_id}) → IdP {prof.issuer}",
            f"xaa (client {target.app.client_id} at {APP}) → {target.audience}",
        )
        for index, event in enumerate(events[-2:]):
            rows = step_rows(event, whos[index])
            if index == 0:
                rows.append(("  ID-JAG", short(result.id_jag.token)))
            else:
                rows.append(("  access_token", short(entry.access_token)))
            footer = None if index == 0 else f"both hops: `xaa token get --aud {APP} --scope {SCOPE}`"
            self.say.panel(titles[index], rows, ok=True, footer=footer)
        return entry, result.id_jag.token

    def call_api(self, entry: CachedToken, *, expect_ok: bool) -> None:
        http = self.actx.http()
        resource = entry.resource or ""
        headers = {"Authorization": f"Bearer {entry.access_token}"}
        read = http.get(f"{resource}/whoami", headers=headers)
        rows: list[Row] = [
            ("who", f"a program holding the token → {APP}'s API"),
            ("request", f"GET {resource}/whoami"),
            ("", f"Authorization: Bearer {short(entry.access_token)}"),
            ("answer", f"HTTP {read.status_code} {_body(read)}"),
        ]
        if expect_ok:
            write = http.post(f"{resource}/records", headers=headers, data={"card": "from xaa demo"})
            rows += [
                ("request", f"POST {resource}/records (needs {SCOPE})"),
                ("answer", f"HTTP {write.status_code} {_body(write)}"),
            ]
            footer = f"`xaa run --aud {APP} --scope {SCOPE} -- CMD` hands CMD the token as $XAA_ACCESS_TOKEN"
        else:
            challenge = read.headers.get("www-authenticate", "")
            rows.append(("", f"WWW-Authenticate: {challenge}"))
            footer = "the revoked token is dead at once, long before its expiry"
        ok = read.status_code == 200 if expect_ok else read.status_code == 401
        title = f"Call {APP}'s API with the token" if expect_ok else f"Call {APP}'s API again: refused"
        self.say.panel(title, rows, ok=ok if expect_ok else False, footer=footer)
        if not ok:
            raise XaaError(f"the {APP} API answered HTTP {read.status_code}, which the demo did not expect")

    def inspect(self, prof: Profile, token: str, what: str, source: str) -> None:
        from xaa_cli.cli.commands._inspect_render import first_line
        from xaa_cli.cli.commands.inspect import trust_plan
        from xaa_cli.core.inspect import KIND_LABELS, Options, inspect_report, parse_token

        actx = self.actx
        parsed = parse_token(token)
        plan = trust_plan(
            actx, parsed, jwks=None, issuer=None, profile_name=prof.name, aud=APP, introspect=False
        )
        options = Options(expected_aud=plan.expected_aud, enforced=True)
        report = inspect_report(parsed, now=actx.clock.now(), trust=plan.trust, options=options)
        times = {t.claim: t.relative for t in report.times}
        alg = report.header.get("alg")
        rows: list[Row] = [
            ("verdict", "VERIFIED" if report.verified else first_line(report)),
            ("kind", f"{KIND_LABELS[report.kind]}; typ {report.header.get('typ', '-')}, alg {alg}"),
        ]
        for name in SHOWN_CLAIMS:
            if name in report.claims:
                value = report.claims[name]
                shown = " ".join(value) if isinstance(value, list) else str(value)
                rows.append((name, f"{shown}  ({times[name]})" if name in times else shown))
        self.say.panel(
            f"Inspect {what}, against its issuer's published keys",
            rows,
            ok=report.verified and report.passed,
            extra=checks_table(report.checks),
            footer=f"`xaa inspect TOKEN --profile {prof.name} --aud {APP}` (the token from `{source}`)",
        )

    def idp_audit(self, title: str, footer: str, *, ok: bool | None = None) -> list[dict[str, Any]]:
        from xaa_cli.server.audit import read_audit
        from xaa_cli.server.store import Store

        store = Store(self.box.data_dir)
        try:
            entries = read_audit(store, limit=1000)
        finally:
            store.close()
        new, self.audit_seen = entries[self.audit_seen :], len(entries)
        lines = Text("\n").join(Text(_audit_line(entry, self.box.base_url)) for entry in new)
        self.say.panel(title, [], ok=ok, extra=lines, footer=f"`{footer}`; tokens appear only as their jti")
        return new

    def revoke(self, prof: Profile, entry: CachedToken) -> None:
        from xaa_cli.cli.commands import _revoke_ops as ops

        actx = self.actx
        selection = ops.cached_selection(actx, profile_name=prof.name, aud=APP)
        rows = ops.revoke_cached(actx, selection, dry_run=False)
        shown: list[Row] = [
            ("who", f"xaa → {APP}'s authorization server, revocation endpoint (RFC 7009)"),
            ("token", f"{short(entry.access_token)}, token_type_hint=access_token"),
        ]
        shown += [("answer", f"{r.outcome} at {r.endpoint}: {r.detail}") for r in rows]
        self.say.panel(
            "Revoke the access token", shown, ok=all(r.ok for r in rows), footer=f"`xaa revoke --aud {APP}`"
        )

    def refuse(self, prof: Profile) -> None:
        from xaa_cli.cli import flow
        from xaa_cli.cli.exit_codes import exit_code_for

        actx = self.actx
        events: list[StepEvent] = []
        target = flow.resolve_target(actx, prof, APP, None)
        refused: XaaError | None = None
        try:
            flow.get_token(actx, prof, target, [SCOPE], fresh=True, observer=events.append)
        except XaaError as exc:
            refused = exc
        if refused is None:
            raise XaaError("the IdP granted bob board:write, which its policy should refuse")
        who = f"xaa (client {prof.client_id}, signed in as bob) → IdP"
        rows = step_rows(events[-1], who) if events else []
        rows += [("xaa says", f"error: {refused.message}"), ("", f"hint: {refused.hint or ''}")]
        rows.append(("exit code", f"{int(exit_code_for(refused))} ({refused.code})"))
        self.say.panel(
            f"A refused request: bob asks for {SCOPE} at {APP}",
            [r for r in rows if r[1]],
            ok=False,
            footer=f"`xaa token get --aud {APP} --scope {SCOPE}` as bob: bob may only read boards",
        )
        self.idp_audit("The IdP recorded the denial, and the rule that decided", "xaa dev audit", ok=False)


def _body(response: Any) -> str:
    text: str = response.text
    return text if len(text) <= 200 else text[:200] + "…"


def _audit_line(entry: dict[str, Any], base_url: str) -> str:
    """One audit entry on one line: ``idp id_jag.issued  xaa-agent for alice → apps/trello [board:write]``."""
    audience = str(entry.get("audience") or "").removeprefix(base_url + "/")
    parts = [f"{entry.get('server')}: {entry.get('event')}", f"to {entry.get('issued_to')}"]
    if entry.get("subject"):
        parts.append(f"for {entry['subject']}")
    if audience and audience != entry.get("issued_to"):
        parts.append(f"→ {audience}")
    if entry.get("scope"):
        parts.append(f"[{entry['scope']}]")
    if entry.get("policy"):
        parts.append(f"rule {entry['policy']}")
    parts.append(f"= {entry.get('outcome')}")
    return "  ".join(parts)
