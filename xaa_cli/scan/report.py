"""Report builders: the JSON document and SARIF 2.1.0 (what GitHub code scanning accepts). Pure functions
from findings to plain dicts; secret values appear only in JSON and only when ``reveal`` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from xaa_cli.scan.model import Finding, ScanResult

SARIF_SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI: Final = "https://github.com/xaa-cli/xaa/blob/main/docs/scanning.md"
#: The finding fields of ``-o json``, in order (issue 6); history adds author_date / in_working_tree.
JSON_FIELDS: Final = (
    "rule_id", "provider", "path", "line", "column",
    "commit", "tracked", "fingerprint", "redacted", "replacement",
)  # fmt: skip


def summary(result: ScanResult) -> dict[str, int]:
    """Counts for the summary line: secrets, files with secrets, how many have an XAA-capable fix."""
    findings = result.findings
    return {
        "findings": len(findings),
        "files_with_findings": len({(f.path, f.commit) for f in findings}),
        "xaa_capable": sum(1 for f in findings if f.xaa),
        "files_scanned": result.stats.files,
        "bytes_scanned": result.stats.bytes,
        "blobs_scanned": result.stats.blobs,
        "commits": result.stats.commits,
    }


def finding_json(finding: Finding, *, reveal: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(finding, name) for name in JSON_FIELDS}
    out["description"] = finding.description
    out["checksum"] = finding.checksum
    out["xaa_capable"] = finding.xaa
    if finding.author_date is not None or finding.in_working_tree is not None:
        out["author_date"] = finding.author_date
        out["in_working_tree"] = finding.in_working_tree
    if reveal:
        out["secret"] = finding.secret
    return out


def json_report(result: ScanResult, *, reveal: bool = False) -> dict[str, Any]:
    return {
        "version": 1,
        "tool": "xaa scan",
        "mode": result.mode,
        "summary": summary(result),
        "findings": [finding_json(f, reveal=reveal) for f in result.findings],
    }


def sarif_report(result: ScanResult, *, tool_version: str) -> dict[str, Any]:
    """SARIF 2.1.0: one run, rules that have results, relative URIs, no secret values anywhere."""
    rule_ids = sorted({f.rule_id for f in result.findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    first = {f.rule_id: f for f in reversed(result.findings)}
    rules = [_sarif_rule(first[rid]) for rid in rule_ids]
    results = [_sarif_result(f, index[f.rule_id]) for f in result.findings]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "xaa scan",
                        "version": tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The scanned directory."}}},
                "results": results,
            }
        ],
    }


def _sarif_rule(example: Finding) -> dict[str, Any]:
    return {
        "id": example.rule_id,
        "name": _pascal(example.rule_id),
        "shortDescription": {"text": example.description},
        "fullDescription": {"text": f"{example.description} (provider: {example.provider})"},
        "help": {"text": f"Replace with: {example.replacement}"},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "secret", example.provider], "precision": "high"},
    }


def _sarif_result(finding: Finding, rule_index: int) -> dict[str, Any]:
    where = f" (commit {finding.commit[:12]})" if finding.commit else ""
    properties: dict[str, Any] = {"provider": finding.provider, "tracked": finding.tracked}
    if finding.commit:
        properties.update(
            commit=finding.commit, authorDate=finding.author_date, inWorkingTree=finding.in_working_tree
        )
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {
            "text": f"{finding.description}: {finding.redacted}{where}. Replace with: {finding.replacement}",
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
        "partialFingerprints": {"secretSha256/v1": finding.fingerprint},
        "properties": properties,
    }


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.replace(".", "-").replace("_", "-").split("-"))


def provider_groups(findings: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by provider, biggest group first (the table's layout)."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.provider, []).append(f)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
