"""`xaa token get` from a warm cache and through the cold two-hop path, next to `aws --version`.

    python benchmarks/token_bench.py [--rounds 15] [--warmup 2] [--json]

Starts a real `xaa dev serve` on a free loopback port with a private XAA_HOME (file secret store), signs in
with the device flow (auto-approved), then runs in interleaved rounds:

- ``warm``: `xaa token get --aud trello` answered from the token cache (no network, no discovery);
- ``cold``: `xaa token get --aud trello --fresh` (discovery of the IdP and the app, token exchange at the
  IdP with private_key_jwt, jwt-bearer at the app);
- ``aws --version`` when installed (another Python CLI, the start-up yardstick).

Goals (issue 4): warm median <= 1/3 of `aws --version`; cold median <= 2.5 x warm median.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

WARM = "warm: xaa token get (cache hit)"
COLD = "cold: xaa token get --fresh (two hops)"


def xaa_command() -> list[str]:
    script = Path(sys.executable).with_name("xaa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "xaa_cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, deadline_s: float = 20.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (loopback http, our own server)
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not come up at {url}")


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def measure(rounds: int, warmup: int) -> dict[str, list[float]]:
    xaa = xaa_command()
    with tempfile.TemporaryDirectory(prefix="xaa-token-bench-") as home:
        env = {**os.environ, "XAA_HOME": home, "XAA_SECRET_STORE": "file", "NO_COLOR": "1"}
        env.pop("XAA_PROFILE", None)
        # An installed tool runs from compiled bytecode (pip compiles at install time); with
        # PYTHONDONTWRITEBYTECODE set, every run would recompile ~30 modules and measure the compiler.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        port = free_port()
        server = subprocess.Popen(
            [*xaa, "dev", "serve", "--port", str(port), "--auto-approve", "alice",
             "--data-dir", f"{home}/srv"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until_up(f"http://127.0.0.1:{port}/idp/.well-known/openid-configuration")
            time.sleep(0.3)  # the dev profile is written right after the socket opens
            run_once([*xaa, "login", "--device"], env)
            get = [*xaa, "token", "get", "--aud", "trello"]
            commands = {WARM: get, COLD: [*get, "--fresh"]}
            aws = shutil.which("aws")
            if aws:
                commands["aws --version"] = [aws, "--version"]
            for _ in range(warmup):
                for argv in commands.values():
                    run_once(argv, env)
            samples: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(rounds):
                for name, argv in commands.items():
                    samples[name].append(run_once(argv, env))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    samples = measure(args.rounds, args.warmup)
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    minimums = {name: min(values) * 1000 for name, values in samples.items()}
    ratios = _ratios(medians)
    if args.json:
        report = {"median_ms": medians, "min_ms": minimums, "ratios": ratios, "min_ratios": _ratios(minimums)}
        print(json.dumps({**report, "rounds": args.rounds}, indent=2))
        return
    for name, value in medians.items():
        print(f"{name:45s} median {value:7.1f} ms  (min {minimums[name]:.1f})")
    for name, goal in (("cold / warm", "<= 2.5"), ("warm / aws --version", "<= 0.33")):
        if name in ratios:
            on_min = _ratios(minimums)[name]
            print(f"{name:22s} {ratios[name]:.2f} on medians, {on_min:.2f} on minimums (goal {goal})")


def _ratios(values: dict[str, float]) -> dict[str, float]:
    out = {"cold / warm": values[COLD] / values[WARM]}
    if "aws --version" in values:
        out["warm / aws --version"] = values[WARM] / values["aws --version"]
    return out


if __name__ == "__main__":
    main()
