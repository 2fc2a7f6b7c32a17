"""Passwords, signed session and bearer tokens, CSRF tokens and the login limiter.

Nothing here touches the database. A session cookie and a bearer token are the same signed
statement ("user U, issued at T, nonce N, kind K"), HMAC-SHA256 under the server's secret, so a
restart with the same secret (``$PROMOGUARD_SECRET``) keeps people logged in and a new secret logs
everyone out. A valid signature is necessary, not sufficient: the case database's
``user_sessions`` keeps a row per issued nonce (under :func:`session_key`), which logging out, a
password change or disabling the user revokes, and every request checks it. The CSRF token of a form is an HMAC of the session's nonce, so it
cannot be forged without the secret and is worthless in another session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
#: A hash to verify against when the user does not exist, so that a wrong user name costs the same
#: time as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _HASHER.hash("promoguard-no-such-user")

SESSION_SECONDS = 12 * 3600
TOKEN_SECONDS = 3600


def hash_password(password: str) -> str:
    """An argon2id hash of the password (salted; parameters inside the hash string)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; a missing or malformed hash is simply a mismatch."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def session_key(nonce: str) -> str:
    """The key of a session's row: the SHA-256 of its nonce (the database never holds the nonce)."""
    return hashlib.sha256(nonce.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Claims:
    user_id: str
    kind: str  # "session" or "bearer"
    issued_at: int
    nonce: str


class Signer:
    """Signs and checks session cookies, bearer tokens and CSRF tokens with one secret."""

    def __init__(self, secret: str | bytes | None = None, clock: Callable[[], float] = time.time):
        if secret is None:
            secret = os.environ.get("PROMOGUARD_SECRET") or secrets.token_hex(32)
        self._key = secret.encode() if isinstance(secret, str) else secret
        self._clock = clock

    def _mac(self, message: str) -> str:
        return _b64(hmac.new(self._key, message.encode(), hashlib.sha256).digest())

    def issue(self, user_id: str, kind: str) -> str:
        body = ".".join(
            [kind, _b64(user_id.encode()), str(int(self._clock())), secrets.token_urlsafe(12)]
        )
        return f"{body}.{self._mac(body)}"

    def check(self, token: str | None, kind: str) -> Claims | None:
        """The claims of a valid, unexpired token of this kind, else None."""
        if not token or token.count(".") != 4:
            return None
        body, _, mac = token.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        got_kind, user_b64, issued, nonce = body.split(".")
        if got_kind != kind or not issued.isdigit():
            return None
        lifetime = SESSION_SECONDS if kind == "session" else TOKEN_SECONDS
        if self._clock() - int(issued) > lifetime:
            return None
        try:
            user_id = base64.urlsafe_b64decode(user_b64 + "=" * (-len(user_b64) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return Claims(user_id=user_id, kind=kind, issued_at=int(issued), nonce=nonce)

    def csrf(self, nonce: str) -> str:
        """The CSRF token bound to one session (or one anonymous browser) nonce."""
        return self._mac(f"csrf.{nonce}")

    def csrf_ok(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce and token) and hmac.compare_digest(self.csrf(nonce), token)


class LoginLimiter:
    """Refuses logins after too many failures: per user name (lockout) and per client address.

    ``max_failures`` failed attempts for one user name within ``window`` seconds lock that name for
    ``lockout`` seconds, even with the right password; an address gets ``4 * max_failures`` failures
    across names in the same window (password spraying). Kept in memory: one server process.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 900,
        lockout: float = 900,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, username: str, address: str) -> float:
        """Seconds the attempt must wait (0 when it may proceed)."""
        now = self._clock()
        with self._lock:
            until = max(
                self._locked_until.get(f"u:{username.lower()}", 0.0),
                self._locked_until.get(f"a:{address}", 0.0),
            )
            return max(0.0, until - now)

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key, limit in (
                (f"u:{username.lower()}", self.max_failures),
                (f"a:{address}", 4 * self.max_failures),
            ):
                q = self._recent(key, now)
                q.append(now)
                if len(q) >= limit:
                    self._locked_until[key] = now + self.lockout
                    q.clear()

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{username.lower()}", None)
