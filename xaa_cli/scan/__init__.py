"""Secret scanning: rules as data, a prefiltered regex engine, working-tree / history / staged walkers,
baselines and JSON/SARIF reports. Stdlib only (plus the optional ``pyahocorasick`` prefilter), offline;
never imports ``xaa_cli.core``, httpx, joserfc or keyring.
"""

from xaa_cli.scan.model import Finding, ScanOptions, ScanResult, ScanStats, parse_size
from xaa_cli.scan.rules import Rule, RuleSet, load_rules
from xaa_cli.scan.runner import Scanner

__all__ = [
    "Finding",
    "Rule",
    "RuleSet",
    "ScanOptions",
    "ScanResult",
    "ScanStats",
    "Scanner",
    "load_rules",
    "parse_size",
]
