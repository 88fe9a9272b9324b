"""The reference IdP's pages in a real headless browser (Debian's ``chromium`` driven by Playwright),
completing a real ``xaa login`` run as a separate process: the browser flow (``--no-browser`` prints the
authorization URL; the browser opens it, picks a user on the sign-in page and is sent back to xaa's
loopback listener) and the device flow (the browser opens the verification page and types the code).

Skips, with the reason, when chromium or Playwright is missing; ``.ci/run`` installs both. Playwright
never downloads a browser here: it is pointed at the system chromium.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.server import DevServer, provision, start_live
from xaa_cli.cli.app import app
from xaa_cli.server.policy import DEFAULT_POLICY

pytestmark = pytest.mark.loopback

CHROMIUM = os.environ.get("XAA_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Where to keep the screenshots (default: the test's tmp_path), for a person to look at the pages.
SHOTS = os.environ.get("XAA_TEST_SCREENSHOTS")
TIMEOUT_MS = 20_000
CALLBACK = re.compile(r"http://127\.0\.0\.1:\d+/callback\?")
AUTHORIZE_URL = r"(http://127\.0\.0\.1:\d+/idp/authorize\?\S+)"


@pytest.fixture(scope="module")
def browser_server() -> Iterator[DevServer]:
    """A real uvicorn server WITHOUT auto-approve, so the sign-in and device pages are shown."""
    policy = replace(DEFAULT_POLICY, options=replace(DEFAULT_POLICY.options, device_interval=1))
    server = start_live(policy=policy, auto_approve=None)
    yield server
    server.close()


@pytest.fixture
def open_page(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``open_page()``: a page in a fresh headless chromium (its own --user-data-dir)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium is not installed ({CHROMIUM}); .ci/run installs it with apt-get")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the Playwright package is not installed (pip install -e '.[test]')"
    )
    contexts: list[Any] = []
    with sync_api.sync_playwright() as driver:

        def launch() -> Any:
            context = driver.chromium.launch_persistent_context(
                str(tmp_path / f"chromium-profile-{len(contexts)}"),  # a fresh --user-data-dir
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
            )
            context.set_default_timeout(TIMEOUT_MS)
            contexts.append(context)
            return context.new_page()

        try:
            yield launch
        finally:
            for context in contexts:
                context.close()


@pytest.fixture
def cli_home(isolated_home: Path, monkeypatch: pytest.MonkeyPatch, browser_server: DevServer) -> Path:
    """The dev profile in this test's XAA_HOME, its secrets in the file store so a child `xaa` reads them."""
    monkeypatch.setenv("XAA_SECRET_STORE", "file")
    provision(browser_server)
    return isolated_home


_CHILDREN: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_stray_login() -> Iterator[None]:
    """A failed test must not leave an `xaa login` waiting on its loopback port."""
    yield
    while _CHILDREN:
        child = _CHILDREN.pop()
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def _start_login(*args: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "xaa_cli", "login", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _CHILDREN.append(child)
    return child


def _read_until(proc: subprocess.Popen[str], pattern: str) -> tuple[re.Match[str], str]:
    """Read the child's stderr line by line until ``pattern`` matches (the URL or code it prints)."""
    assert proc.stderr is not None
    seen = ""
    for line in proc.stderr:
        seen += line
        found = re.search(pattern, seen)
        if found:
            return found, seen
    proc.wait(timeout=10)
    raise AssertionError(f"xaa login never printed {pattern!r}; stderr was:\n{seen}")


def _finish(proc: subprocess.Popen[str], before: str) -> str:
    try:
        _, rest = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, before + rest
    return before + rest


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    target = Path(SHOTS) if SHOTS else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)


def _signed_in_as(runner: CliRunner, user: str) -> None:
    status = runner.invoke(app, ["status", "-o", "json"])
    assert status.exit_code == 0, status.output
    info = json.loads(status.stdout)
    assert (info["subject"], info["signed_in"]) == (user, True)


def _choose(page: Any, url: str, button: str) -> None:
    """Open the sign-in URL, click ``button``, and land on xaa's loopback callback. The page's own
    Content-Security-Policy is in force: Chromium applies form-action to the redirect after the POST, so
    a policy that forgot the loopback redirect origin fails here (it once did)."""
    refusals: list[str] = []
    page.on("console", lambda m: refusals.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(url)
    assert page.title() == "Sign in to the xaa dev IdP"
    assert page.get_by_text("xaa-agent", exact=False).first.is_visible()
    page.locator(button).click()
    for _ in range(TIMEOUT_MS // 50):  # the callback, or the browser's refusal, whichever comes first
        if CALLBACK.match(page.url):
            page.wait_for_load_state()
            return
        assert not refusals, f"the browser refused to go back to xaa: {refusals}"
        page.wait_for_timeout(50)
    raise AssertionError(f"the browser never got back to xaa; it is at {page.url}")


def test_browser_sign_in_page_completes_xaa_login(
    open_page: Callable[..., Any], cli_home: Path, runner: CliRunner, tmp_path: Path
) -> None:
    proc = _start_login("--no-browser", "--timeout", "60")
    found, said = _read_until(proc, AUTHORIZE_URL)
    page = open_page()
    page.goto(found.group(1))
    _shot(page, tmp_path, "sign-in")
    _choose(page, found.group(1), "button[name=user][value=alice]")
    assert "Sign-in finished" in page.content()
    said = _finish(proc, said)
    assert "as alice@example.com" in said
    _signed_in_as(runner, "alice")


def test_sign_in_page_deny_button_fails_the_login_cleanly(
    open_page: Callable[..., Any], cli_home: Path, runner: CliRunner
) -> None:
    proc = _start_login("--no-browser", "--timeout", "60")
    found, said = _read_until(proc, AUTHORIZE_URL)
    _choose(open_page(), found.group(1), "button[name=decision][value=deny]")
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 5, said + rest  # the IdP refused: exit 5
    assert "access_denied" in said + rest
    assert "Traceback" not in said + rest


def test_device_page_completes_xaa_login_device(
    open_page: Callable[..., Any], cli_home: Path, runner: CliRunner, tmp_path: Path
) -> None:
    page = open_page()
    proc = _start_login("--device")
    found, said = _read_until(proc, r"open (http://\S+)\s+and enter the code (\S+) ")
    url, code = found.group(1), found.group(2)
    page.goto(url.split("?", 1)[0])  # the bare verification page: the user types the code
    assert page.title() == "Device sign-in"
    page.locator("input[name=user_code]").fill(code)
    _shot(page, tmp_path, "device")
    page.locator("button[name=user][value=bob]").click()
    page.wait_for_load_state()
    assert page.title() == "Signed in"
    said = _finish(proc, said)
    assert "as bob@example.com" in said
    _signed_in_as(runner, "bob")
