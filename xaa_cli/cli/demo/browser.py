"""The demo's stand-in for a person at a browser: it loads the IdP's real sign-in page, submits the form
as a real browser would (the page's hidden fields plus the button of the chosen user), and follows the
redirect to ``xaa login``'s loopback listener. It is the ``open_browser`` that ``xaa login`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from xaa_cli.errors import ProtocolError

if TYPE_CHECKING:
    import httpx

MAX_PAGE_BYTES = 256 * 1024


class _FormReader(HTMLParser):
    """The first form of a page: its action, its hidden fields, and the user buttons it offers."""

    def __init__(self) -> None:
        super().__init__()
        self.in_form = False
        self.seen_form = False
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.users: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "form" and not self.seen_form:
            self.in_form = self.seen_form = True
            self.action = attr.get("action") or None
        elif self.in_form and tag == "input" and attr.get("type") == "hidden" and attr.get("name"):
            self.fields[attr["name"]] = attr.get("value", "")
        elif self.in_form and tag == "button" and attr.get("name") == "user":
            self.users.append(attr.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


@dataclass
class ScriptedBrowser:
    """``open_browser`` for ``xaa login``: sign in as ``user`` on the IdP's sign-in page."""

    http: httpx.Client
    user: str
    pages: list[str] = field(default_factory=list)  # titles of the pages it saw, for the narration
    opened: list[str] = field(default_factory=list)  # the authorization URLs it was given

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        page = self.http.get(url)
        if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
            raise ProtocolError(f"the IdP's sign-in page answered HTTP {page.status_code}")
        form = _FormReader()
        form.feed(page.text[:MAX_PAGE_BYTES])
        self.pages.append(form.title.strip())
        if self.user not in form.users:
            raise ProtocolError(f"the IdP's sign-in page offers no button for {self.user!r}")
        target = urljoin(url, form.action) if form.action else url.split("?", 1)[0]
        answer = self.http.post(target, data={**form.fields, "user": self.user})
        location = answer.headers.get("location", "")
        if answer.status_code not in (302, 303) or urlsplit(location).hostname != "127.0.0.1":
            raise ProtocolError(f"the IdP did not send the browser back to xaa (HTTP {answer.status_code})")
        self.http.get(location)  # the loopback listener of `xaa login` takes the code from here
        return True
