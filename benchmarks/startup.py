"""Start-up time of xaa next to peers, measured side by side in interleaved rounds.

    python benchmarks/startup.py [--rounds 15] [--warmup 3] [--json] [--compare LABEL=PATH/TO/xaa ...]

Runs ``python -c pass`` (the floor), ``xaa --version``, ``xaa config show`` and, when installed,
``aws --version`` (another Python CLI), round-robin so that machine noise hits every command alike, and
prints medians and ratios. Goal (issue 2): ``xaa --version`` median <= 1/4 of ``aws --version``.
Each run gets a private XAA_HOME with a one-profile config, so ``config show`` reads a real file.
``--compare typer029=/tmp/venv-029/bin/xaa`` adds another install of xaa to the same interleaved rounds
(e.g. a different typer version).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = """default_profile = "dev"

[profiles.dev]
issuer = "https://idp.example"
client_id = "agent"
client_auth = "private_key_jwt"

[profiles.dev.apps.trello]
issuer = "https://trello.example/as"
client_id = "agent-at-trello"
scopes = ["board:read"]
"""


def xaa_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m xaa_cli``."""
    script = Path(sys.executable).with_name("xaa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "xaa_cli"]


def commands(compare: list[str]) -> dict[str, list[str]]:
    xaa = xaa_command()
    found = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "xaa --version": [*xaa, "--version"],
        "xaa config show": [*xaa, "config", "show"],
    }
    for spec in compare:
        label, _, path = spec.partition("=")
        found[f"{label} --version"] = [path, "--version"]
        found[f"{label} config show"] = [path, "config", "show"]
    aws = shutil.which("aws")
    if aws:
        found["aws --version"] = [aws, "--version"]
    return found


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run. CPU time (user + sys) is steadier than wall time on a busy machine."""
    cpu0, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed, cpu


def measure(rounds: int, warmup: int, compare: list[str]) -> dict[str, list[tuple[float, float]]]:
    with tempfile.TemporaryDirectory(prefix="xaa-bench-") as home:
        Path(home, "config.toml").write_text(CONFIG)
        env = {**os.environ, "XAA_HOME": home, "NO_COLOR": "1"}
        cmds = commands(compare)
        for _ in range(warmup):
            for argv in cmds.values():
                run_once(argv, env)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
        for _ in range(rounds):
            for name, argv in cmds.items():
                samples[name].append(run_once(argv, env))
    return samples


def report(samples: dict[str, list[tuple[float, float]]]) -> dict[str, object]:
    medians = {name: statistics.median(w for w, _ in values) * 1000 for name, values in samples.items()}
    cpu = {name: statistics.median(c for _, c in values) * 1000 for name, values in samples.items()}
    out: dict[str, object] = {
        "python": sys.version.split()[0],
        "rounds": len(next(iter(samples.values()))),
        "median_ms": {k: round(v, 1) for k, v in medians.items()},
        "min_ms": {k: round(min(w for w, _ in v) * 1000, 1) for k, v in samples.items()},
        "median_cpu_ms": {k: round(v, 1) for k, v in cpu.items()},
    }
    aws = medians.get("aws --version")
    if aws:
        ratio = medians["xaa --version"] / aws
        out["xaa_version_vs_aws"] = round(ratio, 3)
        out["xaa_version_vs_aws_cpu"] = round(cpu["xaa --version"] / cpu["aws --version"], 3)
        out["xaa_config_show_vs_aws"] = round(medians["xaa config show"] / aws, 3)
        out["goal_met"] = ratio <= 0.25
    return out


def print_table(result: dict[str, object]) -> None:
    medians, mins, cpu = result["median_ms"], result["min_ms"], result["median_cpu_ms"]
    assert isinstance(medians, dict)
    assert isinstance(mins, dict)
    assert isinstance(cpu, dict)
    floor = medians["python -c pass"]
    print(f"start-up, {result['rounds']} interleaved rounds, Python {result['python']}")
    width = max(len(name) for name in medians)
    print(f"{'command':<{width}} {'median ms':>10} {'min ms':>8} {'cpu ms':>8} {'x python':>9}")
    for name, value in medians.items():
        print(f"{name:<{width}} {value:>10.1f} {mins[name]:>8.1f} {cpu[name]:>8.1f} {value / floor:>9.1f}")
    if "xaa_version_vs_aws" in result:
        verdict = "met" if result["goal_met"] else "MISSED"
        print(
            f"xaa --version / aws --version = {result['xaa_version_vs_aws']:.3f} (goal <= 0.25: {verdict}); "
            f"CPU time ratio {result['xaa_version_vs_aws_cpu']:.3f}"
        )
        print(f"xaa config show / aws --version = {result['xaa_config_show_vs_aws']:.3f}")
    else:
        print("aws is not installed: no peer ratio")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--compare", action="append", default=[], metavar="LABEL=PATH", help="another xaa")
    args = parser.parse_args()
    result = report(measure(args.rounds, args.warmup, args.compare))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
