"""Fake credentials built at run time (nothing real-looking is committed), deterministic per seed."""

from __future__ import annotations

import base64
import json
import random
import string
import zlib

from xaa_cli.scan.checks import base62_crc32

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"


class Fakes:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)

    def text(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def github(self, prefix: str = "ghp" + "_") -> str:
        body = self.text(ALNUM, 30)
        return prefix + body + base62_crc32(body)

    def github_bad_crc(self) -> str:
        token = self.github()
        return token[:-1] + ("A" if token[-1] != "A" else "B")

    def npm(self) -> str:
        return self.github("np" + "m_")

    def grafana(self) -> str:
        head = "gl" + "sa_" + self.text(ALNUM, 32)
        return head + "_" + zlib.crc32(head.encode()).to_bytes(4, "little").hex()

    def aws_key_id(self) -> str:
        return "AK" + "IA" + self.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)

    def aws_secret(self) -> str:
        return self.text(B64, 40)

    def stripe(self) -> str:
        return "sk" + "_live_" + self.text(ALNUM, 24)

    def slack_bot(self) -> str:
        return (
            "xo"
            + "xb-"
            + self.text(string.digits, 11)
            + "-"
            + self.text(string.digits, 12)
            + "-"
            + self.text(ALNUM, 24)
        )

    def password(self) -> str:
        return (
            self.text(string.ascii_letters, 5) + "#" + self.text(string.digits, 3) + "&" + self.text(ALNUM, 6)
        )

    def twilio_auth(self) -> str:
        return self.text(HEX, 32)

    def azure_storage_key(self) -> str:
        return base64.b64encode(bytes(self.rng.getrandbits(8) for _ in range(64))).decode()

    def jwt(self) -> str:
        def seg(obj: dict[str, object]) -> str:
            raw = json.dumps(obj, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        return (
            seg({"alg": "RS256", "typ": "JWT"})
            + "."
            + seg({"sub": self.text(ALNUM, 8), "exp": 1999999999})
            + "."
            + self.text(ALNUM, 43)
        )

    def pem(self, kind: str = "RSA PRIVATE KEY") -> str:
        body = base64.b64encode(bytes(self.rng.getrandbits(8) for _ in range(300))).decode()
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n"
