"""Group commit (server/batch.py): the writes of the requests one event-loop turn handled go to SQLite in
one transaction, each in a savepoint of its own, and no request is answered before that COMMIT.

The requests are driven straight through the ASGI app on one asyncio loop (no HTTP client in between), so
that they all reach their writes in the same turn, as they do on a busy uvicorn worker."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.server.helpers import JB, app_auth, exchange, id_jag, idp_auth
from tests.support.server import DevServer, sign_in
from xaa_cli.server.audit import read_audit
from xaa_cli.server.wire import Deferred, Response

TE = "urn:ietf:params:oauth:grant-type:token-exchange"


def _basic(credentials: tuple[str, str]) -> bytes:
    return b"Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode())


async def _post(server: DevServer, path: str, form: dict[str, str], auth: tuple[str, str]) -> tuple[int, Any]:
    """One POST straight through the ASGI app; returns (status, JSON body)."""
    body = urlencode(form).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8765"),
            (b"authorization", _basic(auth)),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8765),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # never: the body came in one message
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await server.client.app(scope, receive, send)  # type: ignore[attr-defined]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(payload)


def _redeem_all(server: DevServer, grants: list[str]) -> list[tuple[int, Any]]:
    auth = app_auth(server, "trello")

    async def run() -> list[tuple[int, Any]]:
        calls = [
            _post(server, "/apps/trello/token", {"grant_type": JB, "assertion": g}, auth) for g in grants
        ]
        return list(await asyncio.gather(*calls))

    return asyncio.run(run())


def _commits(server: DevServer) -> int:
    assert server.runtime is not None
    return server.runtime.batch.commits


def test_redemptions_in_one_turn_share_one_commit(dev_server: DevServer) -> None:
    grants = [id_jag(dev_server) for _ in range(8)]
    before = _commits(dev_server)
    answers = _redeem_all(dev_server, grants)
    assert [status for status, _ in answers] == [200] * 8
    assert _commits(dev_server) == before + 1
    for _, body in answers:  # each token was recorded: the app's introspection knows it
        introspected = dev_server.client.post(
            f"{dev_server.base_url}/apps/trello/introspect",
            data={"token": body["access_token"]},
            auth=app_auth(dev_server, "trello"),
        ).json()
        assert introspected["active"] is True


def test_a_replay_inside_one_batch_is_refused_once_and_audited(dev_server: DevServer) -> None:
    grant = id_jag(dev_server)
    answers = _redeem_all(dev_server, [grant, grant, grant])
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 400, 400]
    assert sorted(body.get("error", "ok") for _, body in answers) == ["invalid_grant", "invalid_grant", "ok"]
    assert dev_server.runtime is not None
    trail = [e for e in read_audit(dev_server.runtime.store) if e["server"] == "trello"]
    assert [e["event"] for e in trail].count("access_token.issued") == 1
    denied = [e for e in trail if e["event"] == "access_token.denied"]
    assert len(denied) == 2
    assert all("already used" in (e["detail"] or "") for e in denied)


def test_token_exchanges_in_one_turn_share_one_commit(dev_server: DevServer) -> None:
    id_token = sign_in(dev_server)["id_token"]
    form = {
        "grant_type": TE,
        "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
        "audience": dev_server.app_issuer("trello"),
        "subject_token": id_token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "scope": "board:read",
    }
    before = _commits(dev_server)

    async def run() -> list[tuple[int, Any]]:
        return list(
            await asyncio.gather(
                *(_post(dev_server, "/idp/token", form, idp_auth(dev_server)) for _ in range(5))
            )
        )

    answers = asyncio.run(run())
    assert [status for status, _ in answers] == [200] * 5
    assert _commits(dev_server) == before + 1
    assert dev_server.runtime is not None
    issued = [e for e in read_audit(dev_server.runtime.store) if e["event"] == "id_jag.issued"]
    assert len(issued) == 5
    assert len({e["jti"] for e in issued}) == 5
    # and the exchange through the regular client still works after the batch
    assert exchange(dev_server, id_token).status_code == 200


def test_a_failing_write_is_undone_alone(dev_server: DevServer) -> None:
    runtime = dev_server.runtime
    assert runtime is not None

    def broken() -> Response:
        runtime.store.set_kv("test:broken", "written")
        raise RuntimeError("a bug in one request's writes")

    def fine() -> Response:
        runtime.store.set_kv("test:fine", "written")
        return Response(200, b"{}")

    async def run() -> list[Any]:
        jobs = [runtime.batch.commit(Deferred(broken)), runtime.batch.commit(Deferred(fine))]
        return list(await asyncio.gather(*jobs, return_exceptions=True))

    failed, succeeded = asyncio.run(run())
    assert isinstance(failed, RuntimeError)
    assert isinstance(succeeded, Response)
    assert succeeded.status == 200
    assert runtime.store.get_kv("test:broken") is None
    assert runtime.store.get_kv("test:fine") == "written"


def test_a_failed_commit_answers_no_request(dev_server: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = dev_server.runtime
    assert runtime is not None
    grants = [id_jag(dev_server) for _ in range(3)]
    real = runtime.store.transaction

    @contextmanager
    def failing_commit() -> Iterator[sqlite3.Connection]:
        with real() as db:
            yield db
            raise sqlite3.OperationalError("disk I/O error")  # as if COMMIT failed: everything rolls back

    monkeypatch.setattr(runtime.store, "transaction", failing_commit)

    async def run() -> list[Any]:
        auth = app_auth(dev_server, "trello")
        calls = [
            _post(dev_server, "/apps/trello/token", {"grant_type": JB, "assertion": g}, auth) for g in grants
        ]
        return list(await asyncio.gather(*calls, return_exceptions=True))

    outcomes = asyncio.run(run())
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes)
    monkeypatch.undo()
    # nothing of that batch landed: the same grants redeem now (their jti was never recorded)
    assert [status for status, _ in _redeem_all(dev_server, grants)] == [200, 200, 200]
