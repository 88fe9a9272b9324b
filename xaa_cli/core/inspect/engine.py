"""``inspect_report``: parse → recognise → verify (only with trusted keys) → check claims → warn.

The report never says ``verified`` unless a signature checked out with a key the user trusts AND the token's
issuer is the one those keys speak for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xaa_cli.core.inspect import checks, idjag
from xaa_cli.core.inspect.kinds import recognise
from xaa_cli.core.inspect.model import Check, Report, TokenKind
from xaa_cli.core.inspect.parse import ParsedToken
from xaa_cli.core.inspect.risks import hide_secrets, risk_warnings
from xaa_cli.core.inspect.trust import TrustedKeys
from xaa_cli.core.jose import UNTRUSTED_KEY_HEADERS, verify_signature
from xaa_cli.errors import TokenVerificationError

DEFAULT_LEEWAY = 60.0
NO_TRUST = "no trust source given (use --jwks, --issuer or --profile)"


@dataclass(frozen=True, slots=True)
class Options:
    """What the user asked for. ``enforced``: any check was requested, so a failure means exit 1."""

    leeway: float = DEFAULT_LEEWAY
    max_lifetime: float | None = None
    expected_aud: str | None = None
    enforced: bool = False
    show_secrets: bool = False


def inspect_report(parsed: ParsedToken, *, now: float, trust: TrustedKeys | None, options: Options) -> Report:
    kind, reason = _kind(parsed)
    claims = parsed.claims
    report = Report(
        kind=kind,
        kind_reason=reason,
        header=dict(parsed.header),
        claims=claims if options.show_secrets else hide_secrets(claims),
        enforced=options.enforced,
        signature_bytes=len(parsed.jws.signature) if parsed.jws is not None else 0,
    )
    signature = signature_check(parsed, kind, trust)
    report.checks.append(signature)
    if parsed.jws is not None:
        report.checks += _claim_checks(parsed, kind, trust, options, now)
        report.warnings += risk_warnings(parsed.header, claims, kind)
        report.times = checks.time_infos(claims, now)
        report.scopes = scopes(claims)
        report.resources = resources(claims)
    if trust is not None:
        report.warnings += [f"ignored {note}" for note in trust.ignored]
    iss_row = next((c for c in report.checks if c.name == "iss"), None)
    report.verified = signature.ok is True and (iss_row is None or iss_row.ok is True)
    report.verification_note = _note(report, signature, iss_row)
    return report


def _kind(parsed: ParsedToken) -> tuple[TokenKind, str]:
    if parsed.segments == 5:
        return TokenKind.JWE, "it has five parts (RFC 7516 compact serialisation)"
    if parsed.jws is None:
        return TokenKind.OPAQUE, "it is not a JWT; only its issuer can say what it means"
    return recognise(parsed.header, parsed.claims)


def signature_check(parsed: ParsedToken, kind: TokenKind, trust: TrustedKeys | None) -> Check:
    if trust is None and kind is TokenKind.JWE:
        return Check("signature", None, "encrypted (JWE): nothing can be checked without the recipient's key")
    if trust is None and parsed.jws is None:
        return Check("signature", None, "opaque token: nothing to verify locally (see --introspect)")
    if trust is None:
        return Check("signature", None, NO_TRUST)
    if kind is TokenKind.JWE:
        return Check(
            "signature", False, "the token is encrypted (JWE); xaa cannot decrypt it, so it cannot verify it"
        )
    if parsed.jws is None:
        return Check(
            "signature",
            False,
            "an opaque token has no signature; only its issuer can vouch for it (use --introspect)",
        )
    if "crit" in parsed.header:
        # Checked here, not only in jose.verify_signature: there a present-but-null ``crit`` reaches joserfc,
        # which fails with a TypeError. Any ``crit`` means extensions we do not implement (RFC 7515 §4.1.11).
        return Check("signature", False, "the token has a 'crit' header parameter xaa does not understand")
    try:
        key = verify_signature(parsed.jws, trust.keys)
    except TokenVerificationError as exc:
        return Check("signature", False, exc.message + _embedded_key_note(parsed.header))
    except (TypeError, KeyError, AttributeError) as exc:
        # Defence in depth: a header shape the JOSE library did not expect is a rejection, never a crash.
        return Check("signature", False, f"the token's header cannot be verified ({type(exc).__name__})")
    kid = key.get("kid")
    return Check(
        "signature",
        True,
        f"{parsed.header.get('alg')} signature verified with trusted key {kid or '(no kid)'} "
        f"from {trust.source}",
    )


def _embedded_key_note(header: Mapping[str, Any]) -> str:
    carried = [name for name in UNTRUSTED_KEY_HEADERS if name in header]
    if not carried:
        return ""
    return f"; the token's own {', '.join(carried)} header is never used as a trusted key"


def _claim_checks(
    parsed: ParsedToken, kind: TokenKind, trust: TrustedKeys | None, options: Options, now: float
) -> list[Check]:
    claims, header = parsed.claims, parsed.header
    rows: list[Check | None] = [checks.alg_check(header), checks.typ_check(header, kind)]
    rows.append(checks.issuer_check(claims, trust.issuer if trust else None))
    rows.append(checks.audience_check(claims, options.expected_aud))
    rows += checks.time_checks(claims, now, options.leeway)
    if kind is TokenKind.ID_JAG:
        rows += idjag.profile_checks(claims, options.max_lifetime)
    else:
        rows.append(checks.lifetime_check(claims, options.max_lifetime))
    return [row for row in rows if row is not None]


def _note(report: Report, signature: Check, iss_row: Check | None) -> str:
    if report.verified:
        return signature.detail
    if signature.ok is None:
        return f"the signature was not checked: {signature.detail}"
    if signature.ok and iss_row is not None:
        return f"the signature is good but the issuer is not the trusted one: {iss_row.detail}"
    return f"the signature check failed: {signature.detail}"


def scopes(claims: Mapping[str, Any]) -> list[str]:
    scope, scp = claims.get("scope"), claims.get("scp")
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scp, list):
        return [str(s) for s in scp]
    return [scp] if isinstance(scp, str) else []


def resources(claims: Mapping[str, Any]) -> list[str]:
    value = claims.get("resource")
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []
