"""Load test of ``xaa dev serve`` on 127.0.0.1: token exchange (ID token -> ID-JAG) and jwt-bearer
(ID-JAG -> access token) with many concurrent keep-alive clients.

Runs the real CLI (``python -m xaa_cli dev serve``) in an isolated XAA_HOME, signs alice in once, then:
phase 1 sends token exchanges (each answer is a fresh, single-use ID-JAG, kept as phase 2's pool), phase 2
redeems those ID-JAGs with jwt-bearer, each exactly once (the server's jti single-use policy stays ON).
The ID token is a reusable subject token (the IdP does not make ID tokens single-use), so phase 1 repeats
one request.

Load generator: ``wrk`` (C, epoll, one thread, a Lua script that pre-builds every request) when it is on
PATH, so the client costs the 2-core box as little CPU as possible; otherwise a minimal asyncio HTTP/1.1
client in this process (``--generator python`` forces it). The report names the generator used.

    python benchmarks/server_load.py              # 32 clients, 2 workers, <= 10 s and 20000 requests a phase
    python benchmarks/server_load.py --workers 1 --alg RS256 --requests 4000 --duration 20
    python benchmarks/server_load.py --matrix            # workers 1/2 x ES256/RS256

Prints throughput, p50/p99 latency and the error count per phase (bounded by --requests and --duration),
and the CPU time per request of the server (all worker processes, from /proc) and of the load generator,
which stay meaningful when the machine is busy: capacity on N free cores is about N * 1000 / (ms per request).

Measured on the 2-core box (28 Nov 2026, wrk, 2 workers, ES256; docs/reference-server.md has every run):
                     token exchange              jwt-bearer                  server CPU/req (TE / JB)
    e8a1e9b          1,511-1,955/s p99 50-69 ms  1,050-1,361/s p99 69-92 ms  0.93-1.19 / 1.14-1.32 ms
    bba394f..8d4716a 2,499-4,034/s p99 20-45 ms  1,937-3,048/s p99 23-49 ms  0.47-0.76 / 0.61-0.97 ms
Zero errors; issue 3's goal (>= 1,000/s each, p99 <= 50 ms at 32 clients) is met except in the VM's
slowest quarter hour (jwt-bearer p99 50-57 ms in 4 of 10 runs then).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import resource
import secrets
import shutil
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
    generator: str
    completed: int = 0
    errors: int = 0
    elapsed: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    tokens: list[str] = field(default_factory=list)  # phase 1's ID-JAGs: phase 2's pool
    server_cpu: float = 0.0  # seconds of server CPU (all workers) during the phase
    client_cpu: float = 0.0  # seconds of the load generator's own CPU
    tail_ms: dict[str, float] = field(default_factory=dict)  # p90, p95, p99.9, max: the shape of the tail

    def set_latencies(self, latencies: list[float]) -> None:
        if latencies:
            ordered = sorted(latencies)
            self.p50_ms = statistics.median(ordered) * 1000

            def at(q: float) -> float:
                return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

            self.p99_ms = at(0.99)
            self.tail_ms = {"p90": at(0.90), "p95": at(0.95), "p99.9": at(0.999), "max": ordered[-1] * 1000}

    def report(self) -> str:
        done = self.completed + self.errors
        if not done:
            return f"{self.name:<16} no requests completed"
        return (
            f"{self.name:<16} {done:>6} req  {done / self.elapsed:>8.0f} req/s  p50 {self.p50_ms:6.1f} ms  "
            f"p99 {self.p99_ms:6.1f} ms  errors {self.errors}  CPU/req server "
            f"{self.server_cpu / done * 1000:.2f} ms, load generator ({self.generator}) "
            f"{self.client_cpu / done * 1000:.2f} ms"
            + ("\n" + " " * 17 + "tail " + "  ".join(f"{k} {v:.1f}" for k, v in self.tail_ms.items()) + " ms")
            * bool(self.tail_ms)
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


def build_request(host: str, path: str, form_body: str, basic: tuple[str, str]) -> bytes:
    body = form_body.encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {_basic(basic)}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


Results = tuple[list[float], list[bytes], list[int]]  # latencies, 200 bodies, errors


async def _client(host: str, port: int, requests: Iterator[bytes], out: Results, end: float) -> None:
    latencies, bodies, errors = out
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for request in requests:
            if time.perf_counter() > end:
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
            latencies.append(time.perf_counter() - start)
            if status_line.split()[1] != b"200":
                errors.append(1)
            else:
                bodies.append(body)
    finally:
        writer.close()


async def _python_phase(
    name: str, host: str, port: int, requests: list[bytes], concurrency: int, duration: float
) -> Phase:
    phase = Phase(name, "python asyncio, in-process")
    out: Results = ([], [], [])
    shared = iter(requests)  # one event loop: a plain iterator is safe to share
    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(_client(host, port, shared, out, start + duration) for _ in range(concurrency)))
    phase.elapsed = time.perf_counter() - start
    phase.client_cpu = time.process_time() - cpu
    phase.set_latencies(out[0])
    phase.completed, phase.errors = len(out[1]), len(out[2])
    phase.tokens = [json.loads(b)["access_token"] for b in out[1]]
    return phase


# wrk's Lua side: every request body is pre-built in init(); at most `limit` are sent (each pool entry at
# most once). Once they are all sent, delay() parks each connection whose answer is in, so nothing else is
# sent, and the thread stops when every connection is parked (no request in flight): wrk's latency
# histogram (its percentiles are the ones reported) holds the counted requests only.
# (An earlier version filled idle connections with cheap GET /idp/jwks requests, which wrk's histogram
# counted too: in runs that reached the limit before the duration, p50/p99 came out too low.)
# response() counts answers and, in phase 1, keeps each ID-JAG for phase 2. Throughput comes from a
# monotonic clock (LuaJIT ffi) from the first request to the last counted answer.
WRK_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } xaa_timespec;
int clock_gettime(int clk_id, xaa_timespec *tp);
]]
local ts = ffi.new("xaa_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local requests, out, sent, issued, limit, connections, parked = {}, nil, 0, 0, 0, 0, 0
ok, bad, first, last = 0, 0, 0, 0

function init(args)
  limit = tonumber(args[1])
  connections = tonumber(args[6])
  local headers = {["Authorization"] = args[3], ["Content-Type"] = "application/x-www-form-urlencoded"}
  for line in io.lines(args[4]) do requests[#requests + 1] = wrk.format("POST", args[2], headers, line) end
  if args[5] then
    out = io.open(args[5], "w")
    out:setvbuf("line")
  end
end

-- delay() runs before each request a connection sends: it reserves one of the `limit` requests, or parks
-- the connection. (Counting in request() instead is off by one: wrk also calls it once to check it.)
function delay()
  if sent < limit then
    if first == 0 then first = now() end
    sent = sent + 1
    return 0
  end
  parked = parked + 1
  if parked >= connections then wrk.thread:stop() end
  return 3600000
end

function request()
  issued = issued + 1
  return requests[(issued - 1) % #requests + 1]
end

function response(status, headers, body)
  if status == 200 then
    local token = body:match('"access_token":"([^"]+)"')
    if token == nil then return end
    ok = ok + 1
    if out then out:write(token, "\n") end
  else
    bad = bad + 1
  end
  last = now()
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, requests)
  local t = threads[1]
  local e = summary.errors
  io.write(string.format(
    "XAA_RESULT %d %d %.6f %.3f %.3f %d %.3f %.3f %.3f %.3f\n", t:get("ok"), t:get("bad"),
    t:get("last") - t:get("first"), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
end
"""


def _wrk_phase(
    name: str, base: str, path: str, auth: str, bodies: list[str], limit: int, args: argparse.Namespace
) -> Phase:
    """One phase with wrk (one thread: plenty for a few thousand requests a second, and the least CPU)."""
    phase = Phase(name, "wrk, 1 thread")
    with tempfile.TemporaryDirectory() as tmp:
        script, body_file, out_file = Path(tmp, "load.lua"), Path(tmp, "bodies"), Path(tmp, "tokens")
        script.write_text(WRK_SCRIPT)
        body_file.write_text("\n".join(bodies) + "\n")
        command = [
            "wrk", "-t1", f"-c{args.concurrency}", f"-d{args.duration}s", "--timeout", "10s",
            "-s", str(script), base, "--", str(limit), path, auth, str(body_file), str(out_file),
            str(args.concurrency),
        ]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=args.duration + 60, check=False
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        phase.client_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        result = [line for line in done.stdout.splitlines() if line.startswith("XAA_RESULT ")]
        if done.returncode or not result:
            raise SystemExit(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
        ok, bad, elapsed, p50, p99, socket_errors, p90, p95, p999, worst = result[0].split()[1:]
        phase.completed, phase.errors = int(ok), int(bad) + int(socket_errors)
        phase.elapsed, phase.p50_ms, phase.p99_ms = float(elapsed), float(p50), float(p99)
        phase.tail_ms = {"p90": float(p90), "p95": float(p95), "p99.9": float(p999), "max": float(worst)}
        phase.tokens = out_file.read_text().split()
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


def _policy_file(home: Path, alg: str) -> Path | None:
    if alg == "ES256":
        return None
    import tomli_w

    from xaa_cli.server.policy import DEFAULT_POLICY, policy_to_dict

    data = policy_to_dict(DEFAULT_POLICY)
    data["options"]["signing_alg"] = alg
    policy = home / "policy.toml"
    policy.write_text(tomli_w.dumps(data))
    return policy


def _basic(client: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()


def run_once(workers: int, alg: str, args: argparse.Namespace, use_wrk: bool) -> tuple[Phase, Phase]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        proc, base = start_server(home, workers, _policy_file(home, alg))
        try:
            stored = json.loads((home / "state" / "secrets.json").read_text())
            idp = ("xaa-agent", stored["profile/dev/client_secret"])
            app = ("xaa-agent-at-trello", stored["profile/dev/app/trello/client_secret"])
            te_body = urlencode(
                {
                    "grant_type": TE,
                    "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
                    "audience": f"{base}/apps/trello",
                    "subject_token": sign_in(base, idp),
                    "scope": "board:read",
                    "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                }
            )
            cpu = _tree_cpu_seconds(proc.pid)
            te = _phase("token exchange", base, "/idp/token", idp, [te_body], args.requests, args, use_wrk)
            te.server_cpu, cpu = _tree_cpu_seconds(proc.pid) - cpu, _tree_cpu_seconds(proc.pid)
            jb_bodies = [urlencode({"grant_type": JB, "assertion": g}) for g in te.tokens]
            jb = _phase(
                "jwt-bearer", base, "/apps/trello/token", app, jb_bodies, len(jb_bodies), args, use_wrk
            )
            jb.server_cpu = _tree_cpu_seconds(proc.pid) - cpu
        finally:
            proc.terminate()
            proc.communicate(timeout=20)
    return te, jb


def _phase(
    name: str,
    base: str,
    path: str,
    client: tuple[str, str],
    bodies: list[str],
    limit: int,
    args: argparse.Namespace,
    use_wrk: bool,
) -> Phase:
    if use_wrk:
        return _wrk_phase(name, base, path, _basic(client), bodies, limit, args)
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [build_request(parts.netloc, path, body, client) for body in bodies]
    requests = (requests * (limit // len(requests) + 1))[:limit]
    return asyncio.run(_python_phase(name, host, port, requests, args.concurrency, args.duration))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=20000, help="max requests per phase")
    parser.add_argument("--duration", type=int, default=10, help="max seconds per phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--alg", default="ES256", help="signing algorithm of the IdP and apps")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--runs", type=int, default=1, help="repeat each configuration")
    parser.add_argument(
        "--matrix", action="store_true", help="compare workers 1/2 x ES256/RS256 side by side"
    )
    args = parser.parse_args()
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk") is not None)
    if args.generator == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("wrk is not on PATH (apt-get install wrk), or use --generator python")
    runs = [(w, a) for w in (1, 2) for a in ("ES256", "RS256")] if args.matrix else [(args.workers, args.alg)]
    print(
        f"xaa dev serve, {args.concurrency} concurrent keep-alive clients, load generator "
        f"{'wrk' if use_wrk else 'python asyncio' + ('' if shutil.which('wrk') else ' (wrk not found)')}, "
        "SQLite WAL synchronous=NORMAL, "
        f"jti single use ON, {os.cpu_count()} CPUs shared by server and generator; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    for workers, alg in runs:
        for _ in range(args.runs):
            te, jb = run_once(workers, alg, args, use_wrk)
            print(f"-- workers={workers} alg={alg}")
            print(te.report())
            print(jb.report())
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
