"""Walking real directories: .gitignore, credential files, symlinks, hostile entries, size and binary
limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.scan.fakes import Fakes
from xaa_cli.scan import Scanner, ScanOptions, gitignore, load_rules
from xaa_cli.scan.model import ScanStats
from xaa_cli.scan.walker import Walker

RULES = load_rules()


def rels(root: Path, **options: object) -> list[str]:
    stats = ScanStats()
    return [e.rel for e in Walker(root, ScanOptions(**options), stats).files()]  # type: ignore[arg-type]


def scan(root: Path, **options: object) -> tuple[list[tuple[str, str]], ScanStats]:
    result = Scanner(RULES, ScanOptions(**options)).scan_tree(root)  # type: ignore[arg-type]
    return [(f.path, f.rule_id) for f in result.findings], result.stats


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_gitignore_is_honoured_but_credential_files_are_always_read(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "build/\n*.log\n/local.py\n!keep.log\n.env\n")
    for name in ("a.py", "build/gen.py", "x.log", "keep.log", "local.py", "sub/local.py", ".env",
                 "build/.env.production", "build/deploy.tfvars", "node_modules/pkg/.npmrc"):  # fmt: skip
        write(tmp_path / name, "x = 1\n")
    assert sorted(rels(tmp_path)) == [
        ".env", ".gitignore", "a.py", "build/.env.production", "build/deploy.tfvars", "keep.log",
        "sub/local.py",
    ]  # fmt: skip
    assert "build/gen.py" in rels(tmp_path, respect_gitignore=False)


def test_nested_gitignore_and_globstar(tmp_path: Path) -> None:
    write(tmp_path / "pkg" / ".gitignore", "**/generated/\n*.tmp\n")
    write(tmp_path / "pkg" / "a" / "generated" / "x.py", "")
    write(tmp_path / "pkg" / "b.tmp", "")
    write(tmp_path / "b.tmp", "")
    write(tmp_path / "pkg" / "ok.py", "")
    assert sorted(rels(tmp_path)) == ["b.tmp", "pkg/.gitignore", "pkg/ok.py"]


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "ignored"),
    [("*.py", "a/b.py", False, True), ("/a.py", "sub/a.py", False, False),
     ("docs/*.md", "docs/x.md", False, True), ("docs/*.md", "docs/sub/x.md", False, False),
     ("a/**/b", "a/x/y/b", False, True), ("out/", "out", False, False),
     ("out/", "out", True, True), ("**/cache", "x/cache", True, True), ("abc/**", "abc/d/e", False, True),
     ("[ab].txt", "b.txt", False, True), ("?.txt", "ab.txt", False, False)],
)  # fmt: skip
def test_gitignore_patterns(pattern: str, path: str, is_dir: bool, ignored: bool) -> None:
    assert gitignore.is_ignored(gitignore.parse(pattern, ""), path, is_dir=is_dir) is ignored


def test_symlink_loop_is_survived(tmp_path: Path) -> None:
    write(tmp_path / "d" / "a.py", f'T = "{Fakes(1).github()}"\n')
    os.symlink(tmp_path / "d", tmp_path / "d" / "loop")
    os.symlink(tmp_path, tmp_path / "d" / "up")
    findings, stats = scan(tmp_path, follow_symlinks=True)
    assert findings == [("d/a.py", "github-pat")]
    findings, stats = scan(tmp_path)
    assert findings == [("d/a.py", "github-pat")]
    assert stats.skipped_symlinks == 2


def test_symlink_out_of_tree_only_when_asked(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.py", f'T = "{Fakes(2).github()}"\n')
    root = tmp_path / "root"
    write(root / "a.py", "x = 1\n")
    os.symlink(outside, root / "linked.py")
    os.symlink(outside.parent, root / "linked_dir")
    os.symlink(tmp_path / "missing", root / "dangling")
    assert scan(root)[0] == []
    findings, stats = scan(root, follow_symlinks=True)
    assert sorted(findings) == [("linked.py", "github-pat"), ("linked_dir/secret.py", "github-pat")]
    assert stats.skipped_unreadable == 1  # the dangling link


def test_unreadable_file_vanished_between_walk_and_read(tmp_path: Path) -> None:
    write(tmp_path / "a.py", f'T = "{Fakes(3).github()}"\n')
    gone = write(tmp_path / "gone.py", "x = 1\n")
    scanner = Scanner(RULES, ScanOptions(jobs=1))
    original = Walker.files

    def files_then_delete(self: Walker):  # type: ignore[no-untyped-def]
        entries = list(original(self))
        gone.unlink()  # a file removed while the scan runs: must be skipped, not crash the scan
        return iter(entries)

    Walker.files = files_then_delete  # type: ignore[method-assign]
    try:
        result = scanner.scan_tree(tmp_path)
    finally:
        Walker.files = original  # type: ignore[method-assign]
    assert [f.path for f in result.findings] == ["a.py"]
    assert result.stats.skipped_unreadable == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_permission_denied(tmp_path: Path) -> None:
    locked = write(tmp_path / "locked" / "a.py", "x = 1\n")
    locked.chmod(0)
    locked.parent.chmod(0)
    try:
        findings, stats = scan(tmp_path)
    finally:
        locked.parent.chmod(0o700)
        locked.chmod(0o600)
    assert findings == []
    assert stats.skipped_unreadable == 1


def test_invalid_utf8_binary_and_oversized(tmp_path: Path) -> None:
    fake = Fakes(4)
    token = fake.github()
    write(tmp_path / "latin1.py", b"# caf\xe9 \xff\xfe\n" + f'T = "{token}"\n'.encode())
    write(tmp_path / "blob.bin.py", b"\x00\x01\x02" + f'T = "{fake.github()}"'.encode())
    write(tmp_path / "big.py", b"x" * 3000 + f'\nT = "{fake.github()}"\n'.encode())
    findings, stats = scan(tmp_path, max_file_size=2048)
    assert findings == [("latin1.py", "github-pat")]
    assert (stats.skipped_binary, stats.skipped_large) == (1, 1)


def test_column_counts_characters_not_bytes(tmp_path: Path) -> None:
    token = Fakes(5).github()
    write(tmp_path / "u.py", f'é = "ü"; T = "{token}"\n')
    result = Scanner(RULES).scan_tree(tmp_path)
    assert (result.findings[0].line, result.findings[0].column) == (1, 15)


def test_single_file_and_exclude_paths(tmp_path: Path) -> None:
    token = Fakes(6).github()
    target = write(tmp_path / "fixtures" / "a.py", f'T = "{token}"\n')
    assert scan(target)[0] == [("a.py", "github-pat")]
    assert scan(tmp_path, exclude_paths=("fixtures/",))[0] == []


def test_parallel_workers_give_the_same_answer(tmp_path: Path) -> None:
    fake = Fakes(7)
    filler = "def f(x):\n    return x + 1\n" * 40000  # ~1.1 MB per file: above the parallel threshold
    tokens = [fake.github() for _ in range(6)]
    for i, token in enumerate(tokens):
        write(tmp_path / f"m{i}.py", filler + f'T = "{token}"\n')
    serial = Scanner(RULES, ScanOptions(jobs=1)).scan_tree(tmp_path)
    parallel = Scanner(RULES, ScanOptions(jobs=2)).scan_tree(tmp_path)
    assert [f.fingerprint for f in serial.findings] == [f.fingerprint for f in parallel.findings]
    assert len(parallel.findings) == 6
    assert parallel.stats.bytes == serial.stats.bytes


def test_spawned_workers_rebuild_the_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # where fork is unavailable (macOS, Windows, threads running) workers are spawned and get the
    # rule set pickled through the pool initializer
    import multiprocessing

    from xaa_cli.scan import runner

    monkeypatch.setattr(runner, "_context", lambda: multiprocessing.get_context("spawn"))
    fake = Fakes(8)
    filler = "x = 1\n" * 400000  # 2.4 MB per file: above the parallel threshold
    for i in range(2):
        write(tmp_path / f"m{i}.py", filler + f'T = "{fake.github()}"\n')
    result = Scanner(RULES, ScanOptions(jobs=2)).scan_tree(tmp_path)
    assert len(result.findings) == 2


def test_git_info_exclude_is_honoured(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "info" / "exclude", "scratch/\n")
    write(tmp_path / "scratch" / "notes.py", "x = 1\n")
    write(tmp_path / "a.py", "x = 1\n")
    assert rels(tmp_path) == ["a.py"]
