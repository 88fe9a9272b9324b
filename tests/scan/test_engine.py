"""The engine on in-memory buffers: precision filters, offline checks, overlaps, inline allow, prefilter."""

from __future__ import annotations

import base64

import pytest

from tests.scan.fakes import Fakes
from xaa_cli.scan import checks, filters
from xaa_cli.scan.engine import Engine
from xaa_cli.scan.prefilter import Prefilter
from xaa_cli.scan.rules import load_rules

ENGINE = Engine(load_rules().rules)


def ids(text: str, path: str = "app.py") -> list[str]:
    return [h.rule.id for h in ENGINE.scan(text.encode(), path)]


def test_github_checksum_valid_and_broken() -> None:
    fake = Fakes(1)
    good, bad = fake.github(), fake.github_bad_crc()
    hits = ENGINE.scan(f'A = "{good}"\n'.encode(), "a.py")
    assert [(h.rule.id, h.checksum) for h in hits] == [("github-pat", "valid")]
    # a broken CRC is not a GitHub token, and the generic rule must not report it either
    assert ids(f'token = "{bad}"\n') == []


def test_npm_and_grafana_checksums() -> None:
    fake = Fakes(2)
    assert checks.github_crc32(fake.npm().encode())
    assert checks.grafana_crc32(fake.grafana().encode())
    assert not checks.grafana_crc32(fake.grafana()[:-2].encode() + b"00")
    assert ids(f"NPM_TOKEN={fake.npm()}\n") == ["npm-access-token"]


@pytest.mark.parametrize(
    "value",
    ["${API_TOKEN}", "$API_TOKEN", "{{ token }}", "${{ secrets.TOKEN }}", "<your-token>", "xxxxxxxxxxxx",
     "changeme",
     "%(password)s", "{password}", "os.environ['X']", "AKIAIOSFODNN7EXAMPLE", "********"],
)  # fmt: skip
def test_placeholders(value: str) -> None:
    assert filters.is_placeholder(value.encode())


def test_hash_uuid_integrity_identifier_filters() -> None:
    fake = Fakes(3)
    assert filters.is_hash(fake.text("0123456789abcdef", 40).encode())
    assert filters.is_uuid(b"123e4567-e89b-12d3-a456-426614174000")
    assert filters.is_integrity(b"sha512-" + base64.b64encode(b"x" * 64))
    for word in (b"self.password", b"get_token()", b"db_password", b"camelCaseName", b"PascalCaseName",
                 b"_SCREAMING_CASE", b"2016-09-08T21:47:36Z", b"arn:aws:iam::aws:policy/X"):  # fmt: skip
        assert filters.is_identifier(word), word
    assert not filters.is_identifier(fake.password().encode())


def test_generic_rules_skip_hashes_uuids_and_lockfile_integrity() -> None:
    fake = Fakes(4)
    text = (
        f'token = "{fake.text("0123456789abcdef", 40)}"\n'
        'api_key = "123e4567-e89b-12d3-a456-426614174000"\n'
        f'"integrity": "sha512-{base64.b64encode(bytes(range(64))).decode()}"\n'
    )
    assert ids(text, "package-lock.json") == []


def test_gitleaks_gaps_are_covered() -> None:
    fake = Fakes(5)
    cases = {
        "aws-secret-access-key": f"aws_secret_access_key = {fake.aws_secret()}",
        "azure-storage-account-key": f"AccountName=a;AccountKey={fake.azure_storage_key()};EndpointSuffix=x",
        "database-url-password": f"url = postgres://user:p#ss{fake.text('abc', 6)}@db.internal/app",
        "twilio-auth-token": f"TWILIO_AUTH_TOKEN={fake.twilio_auth()}",
        "generic-password": f'db_password = "Tr0ub4dor&3-{fake.text("xyz123", 6)}"',
    }
    for rule_id, line in cases.items():
        assert ids(line + "\n") == [rule_id], line


def test_jwt_must_decode() -> None:
    fake = Fakes(6)
    assert ids(f'T = "{fake.jwt()}"\n') == ["jwt"]
    assert checks.jwt_decodable(fake.jwt().encode())
    assert not checks.jwt_decodable(b"eyJub3QiOiJqc29u.eyJhbGNvbnRlbnQ.c2lnbmF0dXJlIQ")


def test_pem_and_pkcs8_private_keys() -> None:
    fake = Fakes(7)
    assert ids("key = '''\n" + fake.pem() + "'''\n") == ["private-key-rsa"]
    assert ids(fake.pem("PRIVATE KEY")) == ["private-key-pkcs8"]
    assert ids(fake.pem("ENCRYPTED PRIVATE KEY")) == ["private-key-pkcs8-encrypted"]
    assert ids("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n") == []


def test_kubernetes_secret_values_are_decoded() -> None:
    fake = Fakes(8)
    password = fake.password()
    manifest = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  username: YWRtaW4=\n"
        f"  password: {base64.b64encode(password.encode()).decode()}\n"
        f"stringData:\n  token: {fake.password()}\n"
        "---\nkind: ConfigMap\ndata:\n  password: " + base64.b64encode(b"Zx9#kLm2!qR7").decode() + "\n"
    )
    hits = [
        h for h in ENGINE.scan(manifest.encode(), "k8s/db.yaml") if h.rule.id == "kubernetes-secret-manifest"
    ]
    assert len(hits) == 2  # password (data, decoded) and token (stringData); never the username
    assert hits[0].secret == password.encode()  # the decoded value is the secret
    assert "kubernetes-secret-manifest" not in ids(manifest, "k8s/db.txt")


def test_credential_files() -> None:
    fake = Fakes(9)
    tok = fake.text("abcdefghijklmnopqrstuvwxyz0123456789", 36)
    assert ids(f"//registry.example.com/:_authToken={tok}\n", ".npmrc") == ["npmrc-auth"]
    assert ids(f"[pypi]\npassword = {fake.password()}\n", ".pypirc") == ["pypirc-password"]
    assert ids(f"machine h login u password {fake.password()}\n", "home/.netrc") == ["netrc-password"]
    assert ids(f"https://u:{tok}@github.com\n", ".git-credentials") == ["git-credentials"]
    auth = base64.b64encode(f"ci:{fake.password()}".encode()).decode()
    assert ids(f'{{"auths": {{"r.io": {{"auth": "{auth}"}}}}}}', ".docker/config.json") == [
        "docker-config-auth"
    ]
    assert ids(f"ENV DB_PASSWORD={fake.password()}\n", "Dockerfile") == ["dockerfile-secret"]
    assert ids(f'password = "{fake.password()}"\n', "infra/main.tf") == ["terraform-secret"]


def test_specific_rule_wins_over_generic() -> None:
    fake = Fakes(10)
    assert ids(f'api_token = "{fake.stripe()}"\n') == ["stripe-secret-key"]


def test_inline_allow_silences_one_line() -> None:
    fake = Fakes(11)
    first, second = fake.github(), fake.github()
    text = f'A = "{first}"  # xaa:allow\nB = "{second}"\n'
    hits = ENGINE.scan(text.encode(), "a.py")
    assert [h.secret.decode() for h in hits] == [second]


def test_many_secrets_on_one_line_and_offsets() -> None:
    fake = Fakes(12)
    a, b = fake.github(), fake.stripe()
    text = f'x = ["{a}", "{b}"]'
    hits = ENGINE.scan(text.encode(), "a.py")
    assert [(h.start, h.secret.decode()) for h in hits] == [(text.index(a), a), (text.index(b), b)]


def test_long_lines_and_minified_files() -> None:
    fake = Fakes(13)
    token = fake.github()
    text = "var a=1;" * 20000 + f'var t="{token}";' + "var b=2;" * 20000
    assert [h.secret.decode() for h in ENGINE.scan(text.encode(), "app.min.js")] == [token]


def test_prefilter_fallback_matches_automaton() -> None:
    keywords = ["ghp_", "password", "aiza", "sk_live_"]
    text = ("x ghp_ y PASSWORD password aiza " * 50).lower()
    fast = Prefilter(keywords)
    slow = Prefilter(keywords)
    slow._automaton = None  # the stdlib path, as when pyahocorasick is not installed
    assert fast.hits(text) == slow.hits(text)
    assert set(fast.hits(text)) == {0, 1, 2}


def test_entropy() -> None:
    assert checks.shannon_entropy(b"aaaa") == 0
    assert checks.shannon_entropy(b"abcd") == 2


def test_crlf_line_endings() -> None:
    fake = Fakes(14)
    password = fake.password()
    env = f"DB_PASSWORD={password}\r\nOTHER=1\r\n"
    assert [h.secret.decode() for h in ENGINE.scan(env.encode(), ".env")] == [password]
    assert ids(f"[pypi]\r\npassword = {fake.password()}\r\n", ".pypirc") == ["pypirc-password"]
    manifest = "kind: Secret\r\ndata:\r\n  password: " + base64.b64encode(password.encode()).decode() + "\r\n"
    assert ids(manifest, "s.yaml") == ["kubernetes-secret-manifest"]


def test_gcp_service_account_json() -> None:
    fake = Fakes(15)
    key = fake.pem("PRIVATE KEY").replace("\n", "\\n")
    doc = (
        '{"type": "service_account", "project_id": "p",\n'
        f' "private_key_id": "{fake.text("0123456789abcdef", 40)}",\n'
        f' "private_key": "{key}",\n "client_email": "sa@p.iam.gserviceaccount.com"}}\n'
    )
    assert sorted(ids(doc, "sa.json")) == ["gcp-service-account-key", "private-key-pkcs8"]


def test_docker_compose_environment_list() -> None:
    password = Fakes(16).password()
    compose = f"services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD={password}\n"
    assert [h.secret.decode() for h in ENGINE.scan(compose.encode(), "docker-compose.yml")] == [password]
