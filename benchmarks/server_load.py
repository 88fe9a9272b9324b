"""Load test of ``xaa dev serve`` on 127.0.0.1: token exchange (ID token -> ID-JAG) and jwt-bearer
(ID-JAG -> access token) with many concurrent keep-alive clients.

Runs the real CLI (``python -m xaa_cli dev serve``) in an isolated XAA_HOME, signs alice in once, then:
phase 1 sends N token exchanges (each answer is a fresh, single-use ID-JAG), phase 2 redeems those N
ID-JAGs with jwt-bearer. The load generator is a minimal asyncio HTTP/1.1 client (pre-built requests, one
connection per simulated client) so that it costs the 2-core box as little CPU as possible.

    python benchmarks/server_load.py                     # 32 clients, 4000 requests per phase
    python benchmarks/server_load.py --workers 2 --alg RS256 --requests 2000 --duration 20

Prints throughput, p50/p99 latency and the error count per phase (bounded by --requests and --duration),
and the server's own CPU time per request (all worker processes, from /proc), which stays meaningful when
the machine is busy with other work: capacity on N free cores is about N * 1000 / (ms per request).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

TE = "urn:ietf:params:oauth:grant-type:token-exchange"
JB = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    server_cpu: float = 0.0  # seconds of server CPU (all workers) during the phase
    client_cpu: float = 0.0  # seconds of the load generator's own CPU

    def report(self) -> str:
        done = len(self.latencies)
        if not done:
            return f"{self.name:<16} no requests completed"
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(done - 1, int(done * 0.99))] * 1000
        cpu = self.server_cpu / done * 1000
        return (
            f"{self.name:<16} {done:>6} req  {done / self.elapsed:>8.0f} req/s  p50 {p50:6.1f} ms  "
            f"p99 {p99:6.1f} ms  errors {self.errors}  CPU/req server {cpu:.2f} ms, "
            f"load generator {self.client_cpu / done * 1000:.2f} ms"
        )


def _tree_cpu_seconds(root: int) -> float:
    """User+system CPU of ``root`` and its descendants (Linux /proc; 0.0 elsewhere): the server's own cost,
    which unlike wall-clock throughput does not depend on what else the machine is running."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        stats[int(entry.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    family, total, changed = {root}, 0.0, True
    while changed:
        changed = False
        for pid, (ppid, _) in stats.items():
            if ppid in family and pid not in family:
                family.add(pid)
                changed = True
    for pid in family:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def build_request(host: str, path: str, form: dict[str, str], basic: tuple[str, str]) -> bytes:
    body = urlencode(form).encode()
    token = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {token}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _client(host: str, port: int, requests: Iterator[bytes], phase: Phase, deadline: float) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for request in requests:
            if time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            phase.latencies.append(time.perf_counter() - start)
            if status_line.split()[1] != b"200":
                phase.errors += 1
            else:
                phase.bodies.append(body)
    finally:
        writer.close()


async def run_phase(
    name: str, host: str, port: int, requests: list[bytes], concurrency: int, duration: float
) -> Phase:
    phase = Phase(name)
    shared = iter(requests)  # one event loop: a plain iterator is safe to share
    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(_client(host, port, shared, phase, start + duration) for _ in range(concurrency)))
    phase.elapsed = time.perf_counter() - start
    phase.client_cpu = time.process_time() - cpu
    return phase


def start_server(home: Path, workers: int, policy: Path | None) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "XAA_HOME": str(home), "XAA_SECRET_STORE": "file", "NO_COLOR": "1"}
    command = [
        sys.executable,
        "-m",
        "xaa_cli",
        "dev",
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(home / "server"),
        "--auto-approve",
        "alice",
        "--workers",
        str(workers),
    ]
    if policy:
        command += ["--policy", str(policy)]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {line}{proc.stderr.read()}")
    base = line.split()[-1]
    for _ in range(200):
        try:
            httpx.get(f"{base}/idp/jwks", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return proc, base


def sign_in(base: str, client: tuple[str, str]) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = "http://127.0.0.1:9/cb"
    params = {
        "response_type": "code",
        "client_id": client[0],
        "redirect_uri": redirect,
        "scope": "openid email",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    location = httpx.get(f"{base}/idp/authorize", params=params).headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "code_verifier": verifier,
    }
    return str(httpx.post(f"{base}/idp/token", data=data, auth=client).json()["id_token"])


def run_once(workers: int, alg: str, requests: int, concurrency: int, duration: float) -> tuple[Phase, Phase]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        policy = None
        if alg != "ES256":
            import tomli_w

            from xaa_cli.server.policy import DEFAULT_POLICY, policy_to_dict

            data = policy_to_dict(DEFAULT_POLICY)
            data["options"]["signing_alg"] = alg
            policy = home / "policy.toml"
            policy.write_text(tomli_w.dumps(data))
        proc, base = start_server(home, workers, policy)
        try:
            stored = json.loads((home / "state" / "secrets.json").read_text())
            idp = ("xaa-agent", stored["profile/dev/client_secret"])
            app = ("xaa-agent-at-trello", stored["profile/dev/app/trello/client_secret"])
            id_token = sign_in(base, idp)
            parts = urlsplit(base)
            host, hostname, port = parts.netloc, parts.hostname or "127.0.0.1", parts.port or 80
            te_form = {
                "grant_type": TE,
                "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
                "audience": f"{base}/apps/trello",
                "subject_token": id_token,
                "scope": "board:read",
                "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            }
            te_request = build_request(host, "/idp/token", te_form, idp)
            cpu = _tree_cpu_seconds(proc.pid)
            te = asyncio.run(
                run_phase("token exchange", hostname, port, [te_request] * requests, concurrency, duration)
            )
            te.server_cpu, cpu = _tree_cpu_seconds(proc.pid) - cpu, _tree_cpu_seconds(proc.pid)
            grants = [json.loads(b)["access_token"] for b in te.bodies]
            jb_requests = [
                build_request(host, "/apps/trello/token", {"grant_type": JB, "assertion": g}, app)
                for g in grants
            ]
            jb = asyncio.run(run_phase("jwt-bearer", hostname, port, jb_requests, concurrency, duration))
            jb.server_cpu = _tree_cpu_seconds(proc.pid) - cpu
        finally:
            proc.terminate()
            proc.communicate(timeout=20)
    return te, jb


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=4000, help="per phase")
    parser.add_argument("--duration", type=float, default=30.0, help="max seconds per phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--alg", default="ES256", help="signing algorithm of the IdP and apps")
    parser.add_argument(
        "--matrix", action="store_true", help="compare workers 1/2 x ES256/RS256 side by side"
    )
    args = parser.parse_args()
    runs = [(w, a) for w in (1, 2) for a in ("ES256", "RS256")] if args.matrix else [(args.workers, args.alg)]
    print(
        f"xaa dev serve, {args.concurrency} concurrent clients, SQLite WAL synchronous=NORMAL, "
        f"{os.cpu_count()} CPUs shared with the load generator; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    for workers, alg in runs:
        te, jb = run_once(workers, alg, args.requests, args.concurrency, args.duration)
        print(f"-- workers={workers} alg={alg}")
        print(te.report())
        print(jb.report())
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
