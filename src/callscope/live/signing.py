"""Who may post events for a tenant: an HMAC of the body with the tenant's secret.

Secrets never sit in callscope.toml: they come from the TOML file `live.webhook_secrets_file`
names (`tenant = "secret"`), or from `$CALLSCOPE_WEBHOOK_SECRET` for the configured tenant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
import tomllib

from callscope.errors import ConfigError
from callscope.settings import Settings

SECRET_ENV = "CALLSCOPE_WEBHOOK_SECRET"
HEADER = "X-Callscope-Signature"  # "sha256=<hex HMAC-SHA256 of the raw body>"


def load_secrets(settings: Settings) -> dict[str, str]:
    secrets: dict[str, str] = {}
    path = settings.live.webhook_secrets_file
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"live.webhook_secrets_file {path}: {exc}") from exc
        secrets.update({str(k): str(v) for k, v in data.items()})
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        secrets.setdefault(settings.tenant, from_env)
    return secrets


class Secrets:
    """Webhook secrets by tenant, re-read every `ttl_s` rather than per request (a changed
    file counts within seconds, without a restart)."""

    def __init__(self, settings: Settings, ttl_s: float = 10.0) -> None:
        self.settings = settings
        self.ttl_s = ttl_s
        self._read: tuple[float, dict[str, str]] | None = None

    def __call__(self) -> dict[str, str]:
        if self._read is None or time.monotonic() - self._read[0] > self.ttl_s:
            self._read = (time.monotonic(), load_secrets(self.settings))
        return self._read[1]


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts on `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(sign(secret, body), header.strip())


def zadarma_signature(secret: str, text: str) -> str:
    """Zadarma's `Signature` header: base64 of the hex HMAC-SHA1 (PHP hash_hmac) of the
    notification's signature string."""
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def mango_sign(api_key: str, json_text: str, salt: str) -> str:
    """Mango Office VPBX `sign`: sha256 of api key + json + salt, hex."""
    return hashlib.sha256((api_key + json_text + salt).encode()).hexdigest()
