"""The IdP's HTML pages: the sign-in page of the authorization endpoint and the device verification page.
Every value is escaped; the pages post back to the same path and carry no secret."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from xaa_cli.server.policy import User

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "button{font-size:1rem;margin:.3rem .3rem .3rem 0;padding:.5rem 1rem;cursor:pointer}"
    ".deny{background:#fee;border:1px solid #c99}.muted{color:#666;font-size:.9rem}"
)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items() if v
    )


def _user_buttons(users: Mapping[str, User]) -> str:
    return "".join(
        f'<button type="submit" name="user" value="{escape(u.name)}">Sign in as {escape(u.display_name)} '
        f'<span class="muted">({escape(u.email)})</span></button><br>'
        for u in users.values()
    )


def sign_in_page(client_id: str, scope: str, users: Mapping[str, User], fields: Mapping[str, str]) -> str:
    body = (
        f"<p><strong>{escape(client_id)}</strong> asks to sign you in"
        f"{' with scopes <code>' + escape(scope) + '</code>' if scope else ''}.</p>"
        f'<form method="post">{_hidden(fields)}{_user_buttons(users)}'
        '<button class="deny" type="submit" name="decision" value="deny">Deny</button></form>'
        '<p class="muted">xaa reference IdP (xaa dev serve): choose a test user from the policy.</p>'
    )
    return _page("Sign in to the xaa dev IdP", body)


def device_page(users: Mapping[str, User], user_code: str = "", message: str = "") -> str:
    note = f"<p><strong>{escape(message)}</strong></p>" if message else ""
    body = (
        f"{note}<p>Enter the code shown on your device, then choose who you are.</p>"
        '<form method="post"><label>Code <input name="user_code" autocomplete="off" '
        f'value="{escape(user_code)}" required></label><br><br>{_user_buttons(users)}'
        '<button class="deny" type="submit" name="decision" value="deny">Deny</button></form>'
    )
    return _page("Device sign-in", body)


def cross_site(base_url: str, origin: str | None) -> bool:
    """A form POST from another site (browsers send ``Origin``): refuse it, so a web page cannot sign a
    user in or approve a device behind their back (login CSRF). Scripts send no ``Origin`` and pass."""
    return origin is not None and origin != base_url


def message_page(title: str, message: str, status_note: str = "") -> str:
    return _page(title, f"<p>{escape(message)}</p><p class='muted'>{escape(status_note)}</p>")
