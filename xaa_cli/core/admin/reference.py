"""The ``reference`` admin driver: the admin API of ``xaa dev serve`` (loopback only, bearer admin token).

IdP routes live under the IdP issuer (``{issuer}/admin/...``); each app's route under the app's issuer
(``{base}/apps/{name}/admin/...``), where ``base`` is the IdP issuer without its ``/idp`` path — the
layout the reference server promises (issue 3 contract). Answers are small JSON objects, read with a cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from xaa_cli.core.admin import AdminResult
from xaa_cli.core.http import require_secure_url
from xaa_cli.core.token_endpoint import Hop, describe_non_json, json_or_none, round_trip
from xaa_cli.errors import ProtocolError, RemoteError

if TYPE_CHECKING:
    import httpx

MAX_AUDIT_ENTRIES: Final = 10_000
_REFUSALS: Final[Mapping[int, str]] = {
    401: "the admin credential was refused",
    403: "the admin API refused this caller",
    404: "not found",
}


def _segment(value: str) -> str:
    return quote(value, safe="")


class ReferenceAdminDriver:
    kind = "reference"

    def __init__(
        self,
        http: httpx.Client,
        issuer: str,
        admin_token: str,
        *,
        app_issuers: Mapping[str, str] | None = None,
    ) -> None:
        self.http = http
        self.issuer = require_secure_url(issuer.rstrip("/"), what="IdP issuer")
        self._token = admin_token
        base = self.issuer[: -len("/idp")] if self.issuer.endswith("/idp") else self.issuer
        self._base = base
        self._app_issuers = dict(app_issuers or {})

    def __repr__(self) -> str:  # never the admin token
        return f"ReferenceAdminDriver({self.issuer!r})"

    # ------------------------------------------------------------------ URLs
    def _idp_url(self, path: str) -> str:
        return f"{self.issuer}/admin/{path}"

    def _app_url(self, app: str, path: str) -> str:
        issuer = self._app_issuers.get(app) or f"{self._base}/apps/{_segment(app)}"
        return require_secure_url(f"{issuer.rstrip('/')}/admin/{path}", what="app admin URL")

    # ------------------------------------------------------------------ calls
    def _call(self, method: str, url: str, what: str, params: Mapping[str, str] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        status, raw, _ = round_trip(self.http, method, url, Hop(what, ""), headers=headers, params=params)
        body = json_or_none(raw)
        if status == 200 and isinstance(body, dict):
            return body
        if status in _REFUSALS:
            detail = body.get("error_description") if isinstance(body, dict) else None
            raise RemoteError(
                f"{what}: {_REFUSALS[status]} (HTTP {status}{f': {detail}' if detail else ''})",
                hint="check the admin_token in the secret store (`xaa dev serve` writes it for the dev "
                "profile) and that the name is right"
                if status != 404
                else "check the name",
            )
        raise ProtocolError(f"{what}: the admin API answered {describe_non_json(status, raw)}")

    @staticmethod
    def _count(body: Mapping[str, Any]) -> int | None:
        value = body.get("revoked")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    # ------------------------------------------------------------------ IdpAdminDriver
    def disable_client(self, client_id: str) -> AdminResult:
        url = self._idp_url(f"clients/{_segment(client_id)}/disable")
        body = self._call("POST", url, f"disabling client {client_id} at the IdP")
        if body.get("disabled") is not True:
            raise ProtocolError(f"the IdP did not confirm that client {client_id} is disabled")
        return AdminResult(url, detail="disabled: no new ID-JAGs")

    def enable_client(self, client_id: str) -> AdminResult:
        url = self._idp_url(f"clients/{_segment(client_id)}/enable")
        body = self._call("POST", url, f"enabling client {client_id} at the IdP")
        if body.get("disabled") is not False:
            raise ProtocolError(f"the IdP did not confirm that client {client_id} is enabled")
        return AdminResult(url, detail="enabled")

    def client_apps(self, client_id: str) -> Mapping[str, str]:
        body = self._call("GET", self._idp_url("clients"), "listing clients at the IdP")
        for entry in body.get("clients") or []:
            if isinstance(entry, dict) and entry.get("client_id") == client_id:
                apps = entry.get("app_client_ids")
                if not isinstance(apps, dict):
                    raise ProtocolError(
                        "the IdP's admin API does not say which apps the client is registered at",
                        hint="this server predates app_client_ids in GET /idp/admin/clients",
                    )
                return {str(k): str(v) for k, v in apps.items() if isinstance(v, str)}
        raise RemoteError(f"the IdP has no client {client_id!r}", hint="check the client_id")

    def revoke_client_tokens_at_app(self, app: str, app_client_id: str) -> AdminResult:
        url = self._app_url(app, f"clients/{_segment(app_client_id)}/revoke-tokens")
        body = self._call("POST", url, f"revoking the tokens of {app_client_id} at {app}")
        count = self._count(body)
        return AdminResult(url, count, f"{count} token(s) revoked" if count is not None else "revoked")

    def revoke_user_refresh_tokens(self, user: str) -> AdminResult:
        url = self._idp_url(f"users/{_segment(user)}/revoke-refresh-tokens")
        body = self._call("POST", url, f"revoking the refresh tokens of {user} at the IdP")
        count = self._count(body)
        detail = f"{count} refresh token(s) revoked" if count is not None else "revoked"
        return AdminResult(url, count, detail)

    def read_audit(self, *, limit: int) -> list[dict[str, Any]]:
        wanted = max(1, min(limit, MAX_AUDIT_ENTRIES))
        url = self._idp_url("audit")
        body = self._call("GET", url, "reading the IdP audit trail", {"limit": str(wanted)})
        entries = body.get("entries")
        if not isinstance(entries, list):
            raise ProtocolError("the IdP audit trail answer has no entries list")
        return [e for e in entries if isinstance(e, dict)]
