"""ID tokens are RS256 by default (what an OIDC relying party expects unless it registered another
algorithm, and what OIDC Discovery §3 requires the IdP to list), while ID-JAGs and access tokens keep the
cheaper `signing_alg` (ES256). `id_token_signing_alg` is a policy option."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.server.helpers import exchange, jwt_bearer
from tests.support.server import DevServer, sign_in
from xaa_cli.core.jose import decode_unverified
from xaa_cli.errors import ConfigError
from xaa_cli.server.policy import DEFAULT_POLICY, Policy, policy_from_dict, policy_to_dict


def _policy(**options: str) -> Policy:
    return replace(DEFAULT_POLICY, options=replace(DEFAULT_POLICY.options, **options))


def _idp_jwks(server: DevServer) -> list[dict[str, str]]:
    keys: list[dict[str, str]] = server.client.get(f"{server.idp_issuer}/jwks").json()["keys"]
    return keys


def test_id_tokens_are_rs256_and_id_jags_es256_by_default(dev_server: DevServer) -> None:
    oidc = dev_server.client.get(f"{dev_server.idp_issuer}/.well-known/openid-configuration").json()
    assert oidc["id_token_signing_alg_values_supported"] == ["RS256"]
    id_token = sign_in(dev_server)["id_token"]
    id_jag = exchange(dev_server, id_token).json()["access_token"]
    id_header, jag_header = decode_unverified(id_token).header, decode_unverified(id_jag).header
    assert id_header["alg"] == "RS256"
    assert jag_header["alg"] == "ES256"
    published = {k["kid"]: k for k in _idp_jwks(dev_server)}
    assert published[id_header["kid"]]["kty"] == "RSA"
    assert published[jag_header["kid"]]["kty"] == "EC"
    assert all("d" not in k for k in published.values())  # public halves only
    # and the whole chain works with them: the app accepts the ES256 ID-JAG
    assert jwt_bearer(dev_server, id_jag).status_code == 200


def test_one_key_when_both_algorithms_are_the_same(make_dev_server) -> None:
    server = make_dev_server(policy=_policy(id_token_signing_alg="ES256"))
    oidc = server.client.get(f"{server.idp_issuer}/.well-known/openid-configuration").json()
    assert oidc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert len(_idp_jwks(server)) == 1
    id_token = sign_in(server)["id_token"]
    assert decode_unverified(id_token).header["alg"] == "ES256"
    assert exchange(server, id_token).status_code == 200


def test_id_tokens_from_before_the_upgrade_still_work(make_dev_server, tmp_path: Path) -> None:
    """A data directory from a version that signed ID tokens with the ID-JAG key (ES256): after the
    upgrade the IdP adds an RS256 key, and keeps publishing the old one, so earlier ID tokens still work."""
    data = tmp_path / "state"
    before = make_dev_server(policy=_policy(id_token_signing_alg="ES256"), data_dir=data)
    old_id_token = sign_in(before)["id_token"]
    before.close()
    after = make_dev_server(data_dir=data, kit=before.kit, admin_token=before.admin_token)
    assert len(_idp_jwks(after)) == 2
    assert decode_unverified(sign_in(after)["id_token"]).header["alg"] == "RS256"
    assert exchange(after, old_id_token).status_code == 200


@pytest.mark.parametrize("option", ["signing_alg", "id_token_signing_alg"])
def test_an_unknown_algorithm_in_the_policy_is_refused(option: str) -> None:
    data = policy_to_dict(DEFAULT_POLICY)
    data["options"][option] = "HS256"
    with pytest.raises(ConfigError, match=f"options.{option} must be one of"):
        policy_from_dict(data)
