"""``xaa scan [PATH]``: inventory the static secrets in a directory, its git history or the staged index,
and say what should replace each one (an IdP-issued token where the vendor supports it).

Exit 0 when nothing (new) is found, 1 when secrets are found (``--exit-code N`` changes it), 2 on usage
errors. Secrets are redacted in every output unless ``--reveal``; SARIF never contains them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xaa_cli.cli.context import AppContext, get_ctx
from xaa_cli.cli.exit_codes import ExitCode
from xaa_cli.cli.inputs import OutputOpt
from xaa_cli.errors import UsageError

if TYPE_CHECKING:
    from xaa_cli.scan import ScanResult
    from xaa_cli.scan.runner import Progress, Scanner
    from xaa_cli.scan.settings import ScanSettings


def register(app: typer.Typer) -> None:
    app.command("scan", help=scan_cmd.__doc__)(scan_cmd)


def scan_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Directory or file to scan.", show_default=True)] = Path("."),
    history: Annotated[
        bool, typer.Option("--history", help="Scan every blob reachable from any git ref (each once).")
    ] = False,
    staged: Annotated[
        bool, typer.Option("--staged", help="Scan what is staged for the next commit.")
    ] = False,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show secret values in the table and JSON (never in SARIF).")
    ] = False,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Report only findings not in this baseline file.")
    ] = None,
    update_baseline: Annotated[
        bool, typer.Option("--update-baseline", help="Write every current finding to the --baseline file.")
    ] = False,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", help="Extra rule file (TOML); same id replaces a built-in rule. Repeatable."),
    ] = None,
    exit_code: Annotated[
        int | None, typer.Option("--exit-code", help="Exit status when secrets are found (default 1).")
    ] = None,
    max_file_size: Annotated[
        str | None, typer.Option("--max-file-size", help="Skip larger files and blobs (default 5M).")
    ] = None,
    follow_symlinks: Annotated[
        bool | None,
        typer.Option("--follow-symlinks/--no-follow-symlinks", help="Follow symlinks, even out of the tree."),
    ] = None,
    no_gitignore: Annotated[
        bool, typer.Option("--no-gitignore", help="Also scan files that .gitignore excludes.")
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0 = one per CPU).")] = 0,
    output: OutputOpt = None,
) -> None:
    """Find static secrets (API keys, tokens, passwords, private keys) and what should replace them.

    Honours .gitignore but always reads env and credential files (.env*, *.tfvars, .npmrc, *.pem, ...).
    Examples: `xaa scan .`, `xaa scan --history -o sarif > xaa.sarif`, `xaa scan --staged` (pre-commit).
    """
    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("table", "json", "sarif"), "table")
    if history and staged:
        raise UsageError("choose either --history or --staged")
    if update_baseline and baseline is None:
        raise UsageError("--update-baseline needs --baseline FILE")
    if exit_code is not None and not 0 <= exit_code <= 255:
        raise UsageError("--exit-code must be between 0 and 255")
    from xaa_cli.scan import baseline as baseline_mod
    from xaa_cli.scan import settings as settings_mod

    settings = settings_mod.from_config(actx.config().scan)
    scanner = _scanner(settings, rules or [], max_file_size, follow_symlinks, no_gitignore, jobs)
    started = time.perf_counter()
    with _progress(actx) as progress:
        if history:
            result = scanner.scan_history(path, progress)
        elif staged:
            result = scanner.scan_staged(path, progress)
        else:
            result = scanner.scan_tree(path, progress)
    elapsed = time.perf_counter() - started
    _warn_skips(actx, result)
    if baseline is not None and update_baseline:
        baseline_mod.write(baseline, result.findings)
        actx.info(f"wrote {len(result.findings)} finding(s) to baseline {baseline}")
        result.findings = []
    elif baseline is not None:
        before = len(result.findings)
        result.findings = baseline_mod.subtract(result.findings, baseline_mod.load(baseline))
        actx.info(f"baseline: {before - len(result.findings)} known finding(s) not reported")
    _emit(actx, mode, result, reveal=reveal, elapsed=elapsed)
    if result.findings:
        chosen = exit_code if exit_code is not None else settings.exit_code
        raise typer.Exit(ExitCode.CHECK_FAILED if chosen is None else chosen)


def _scanner(
    settings: ScanSettings,
    rule_files: list[Path],
    max_file_size: str | None,
    follow_symlinks: bool | None,
    no_gitignore: bool,
    jobs: int,
) -> Scanner:
    from xaa_cli.scan import Scanner, ScanOptions, load_rules, parse_size
    from xaa_cli.scan.model import DEFAULT_MAX_FILE_SIZE

    if jobs < 0:
        raise UsageError("--jobs must be 0 (one per CPU) or more")
    ruleset = load_rules(
        [*settings.rule_files, *rule_files], inline=settings.inline_rules, disabled=settings.disabled_rules
    )
    size = parse_size(max_file_size) if max_file_size else settings.max_file_size or DEFAULT_MAX_FILE_SIZE
    follow = follow_symlinks if follow_symlinks is not None else bool(settings.follow_symlinks)
    options = ScanOptions(
        max_file_size=size,
        follow_symlinks=follow,
        respect_gitignore=not no_gitignore,
        exclude_paths=settings.exclude_paths,
        jobs=jobs,
    )
    return Scanner(ruleset, options)


class _progress:
    """A transient rich progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, actx: AppContext) -> None:
        self.actx = actx
        self.bar: object | None = None

    def __enter__(self) -> Progress | None:
        if not _stderr_is_tty():
            return None
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

        bar = Progress(
            "scanning",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=self.actx.err,
            transient=True,
        )
        bar.start()
        task = bar.add_task("scan", total=None)
        self.bar = bar

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()  # type: ignore[attr-defined]


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _warn_skips(actx: AppContext, result: ScanResult) -> None:
    s = result.stats
    parts = [
        (s.skipped_large, "over the size limit (--max-file-size)"),
        (s.skipped_unreadable, "unreadable"),
        (s.skipped_symlinks, "symlinks not followed (--follow-symlinks)"),
    ]
    for count, why in parts:
        if count:
            actx.warn(f"skipped {count} {'entry' if count == 1 else 'entries'}: {why}")


def _emit(actx: AppContext, mode: str, result: ScanResult, *, reveal: bool, elapsed: float) -> None:
    from xaa_cli import __version__
    from xaa_cli.cli import render
    from xaa_cli.scan import report

    if mode == "json":
        render.emit_json(report.json_report(result, reveal=reveal))
        actx.info(_summary_line(result, elapsed))
    elif mode == "sarif":
        render.emit_json(report.sarif_report(result, tool_version=__version__))
        actx.info(_summary_line(result, elapsed))
    else:
        _table(actx, result, reveal=reveal)
        actx.out.print(_summary_line(result, elapsed), highlight=False, markup=False)


def _table(actx: AppContext, result: ScanResult, *, reveal: bool) -> None:
    """Findings grouped by provider, then one line per provider saying what replaces its secrets."""
    if not result.findings:
        return
    from rich.table import Table

    from xaa_cli.scan.report import provider_groups

    groups = provider_groups(result.findings)
    findings = Table(header_style="bold")
    for column in ("Provider", "Rule", "Location", "Secret", "Tracked"):
        findings.add_column(column, overflow="fold")
    for provider, items in groups:
        for i, f in enumerate(items):
            where = f"{f.path}:{f.line}:{f.column}" + (f"@{f.commit[:10]}" if f.commit else "")
            tracked = {True: "yes", False: "no", None: "-"}[f.tracked]
            if f.in_working_tree is not None:
                tracked += ", in tree" if f.in_working_tree else ", history only"
            label = f"{provider} ({len(items)})" if i == 0 else ""
            findings.add_row(label, f.rule_id, where, f.secret if reveal else f.redacted, tracked)
        findings.add_section()
    actx.out.print(findings)
    hints = Table(header_style="bold", title="What replaces them", title_justify="left")
    for column in ("Provider", "Secrets", "XAA", "Replace with"):
        hints.add_column(column, overflow="fold")
    for provider, items in groups:
        hints.add_row(provider, str(len(items)), "yes" if items[0].xaa else "-", items[0].replacement)
    actx.out.print(hints)


def _summary_line(result: ScanResult, elapsed: float) -> str:
    from xaa_cli.scan.report import summary

    s = summary(result)
    scanned = f"{s['files_scanned']} files, {s['bytes_scanned'] / 1e6:.1f} MB"
    if result.mode == "history":
        scanned = f"{s['blobs_scanned']} blobs from {s['commits']} commits, {s['bytes_scanned'] / 1e6:.1f} MB"
    if not s["findings"]:
        return f"No secrets found ({scanned} scanned in {elapsed:.1f}s)."
    noun = "secret" if s["findings"] == 1 else "secrets"
    return (
        f"{s['findings']} {noun} in {s['files_with_findings']} file(s); {s['xaa_capable']} with an "
        f"XAA-capable replacement ({scanned} scanned in {elapsed:.1f}s)."
    )
