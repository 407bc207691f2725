"""Personal fields encrypted at rest, and a keyed hash to find them.

Keys come from the environment: KESU_DATA_KEYS="k2:BASE64,k1:BASE64" (the
first encrypts; all decrypt, so `kesu keys rotate` can re-encrypt old rows) or
a single KESU_DATA_KEY; KESU_HASH_KEY keys the lookup hash. Without them (the
embedded demo), keys are generated once into $KESU_HOME/keys/ with mode 0600,
and the start-up says so.

Values are stored as "enc1:<key id>:<base64 nonce+ciphertext>" (AES-256-GCM).
A value without that prefix is a row written before encryption existed; it
reads as it is and the next rotation encrypts it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PREFIX = "enc1:"


class KeyError_(ValueError):
    pass


@dataclass(frozen=True)
class Keyring:
    keys: tuple[tuple[str, bytes], ...]  # (id, 32-byte key), the first encrypts
    hash_key: bytes
    source: str = "environment"

    @property
    def current(self) -> tuple[str, bytes]:
        return self.keys[0]

    def _aead(self, kid: str) -> AESGCM | None:
        cache = self.__dict__.setdefault("_ciphers", {})
        if kid not in cache:
            key = dict(self.keys).get(kid)
            cache[kid] = None if key is None else AESGCM(key)
        return cache[kid]

    def encrypt(self, value: str) -> str:
        kid = self.current[0]
        nonce = secrets.token_bytes(12)
        aead = self._aead(kid)
        assert aead is not None
        ct = aead.encrypt(nonce, value.encode("utf-8"), kid.encode())
        return f"{PREFIX}{kid}:{base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        kid, _, payload = stored[len(PREFIX) :].partition(":")
        aead = self._aead(kid)
        if aead is None:
            raise KeyError_(
                f"没有密钥“{kid}”，无法解密个人信息；请在 KESU_DATA_KEYS 中保留旧密钥直到轮换完成。"
            )
        raw = base64.b64decode(payload)
        return aead.decrypt(raw[:12], raw[12:], kid.encode()).decode("utf-8")

    def key_id_of(self, stored: str | None) -> str | None:
        if not stored or not stored.startswith(PREFIX):
            return None
        return stored[len(PREFIX) :].partition(":")[0]

    def lookup_hash(self, value: str) -> str:
        base = self.__dict__.get("_hmac")
        if base is None:
            base = self.__dict__["_hmac"] = hmac.new(self.hash_key, digestmod=hashlib.sha256)
        h = base.copy()
        h.update(value.encode("utf-8"))
        return h.hexdigest()[:40]


def _decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip())
    except ValueError:
        raise KeyError_("密钥应为 base64 编码的 32 字节。") from None
    if len(key) != 32:
        raise KeyError_("密钥应为 base64 编码的 32 字节。")
    return key


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def from_environment(env: dict[str, str], home: Path) -> Keyring:
    keys: list[tuple[str, bytes]] = []
    if env.get("KESU_DATA_KEYS"):
        for part in env["KESU_DATA_KEYS"].split(","):
            kid, _, text = part.strip().partition(":")
            if not kid or not text:
                raise KeyError_(
                    "KESU_DATA_KEYS 的格式为 id:base64key,id:base64key（第一个用于加密）。"
                )
            keys.append((kid, _decode_key(text)))
    elif env.get("KESU_DATA_KEY"):
        keys.append(("k1", _decode_key(env["KESU_DATA_KEY"])))
    hash_text = env.get("KESU_HASH_KEY")
    if keys and hash_text:
        return Keyring(tuple(keys), _decode_key(hash_text))
    # The embedded default: keys kept next to the SQLite file, created once.
    folder = home / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    data_file, hash_file = folder / "data.key", folder / "hash.key"
    for path in (data_file, hash_file):
        if not path.exists():
            path.write_text(new_key(), encoding="utf-8")
            os.chmod(path, 0o600)
    if not keys:
        keys.append(("local", _decode_key(data_file.read_text(encoding="utf-8"))))
    hash_key = _decode_key(hash_text) if hash_text else _decode_key(hash_file.read_text())
    return Keyring(tuple(keys), hash_key, source=str(folder))


_current: Keyring | None = None


def configure(keyring: Keyring) -> None:
    global _current
    _current = keyring


def keyring() -> Keyring:
    """The configured keys; from the environment on first use."""
    global _current
    if _current is None:
        home = Path(os.environ.get("KESU_HOME", Path.cwd() / ".kesu"))
        _current = from_environment(dict(os.environ), home)
    return _current


def phone_hash(phone: str) -> str:
    return keyring().lookup_hash("phone:" + phone)


class EncryptedText(TypeDecorator):
    """Text encrypted with the current key on write; decrypted on read."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect):
        if value is None or value == "" or value.startswith(PREFIX):
            return value
        return keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect):
        if value is None:
            return None
        return keyring().decrypt(value)
