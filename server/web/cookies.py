"""The session cookie of the supervisor's pages and the form tokens that go with it.

The cookie holds the same signed access token (JWT) a password login gets from the API, so
disabling a user or changing a role takes effect at once (every request reloads the user). It is
HttpOnly (no script reads it), SameSite=Strict (no other site's form or link carries it) and
Secure when the page was served over https. On top of SameSite, every POST form carries a token
derived from the session (HMAC with the signing key), and the login form a double-submit token
of its own, since there is no session yet to derive it from.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SESSION_COOKIE = "recaudo_session"
LOGIN_COOKIE = "recaudo_login"
COOKIE_PATH = "/supervisor"


def csrf_token(session_token: str, signing_key: str) -> str:
    message = f"csrf|{session_token}".encode()
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def csrf_matches(sent: str, session_token: str, signing_key: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent, csrf_token(session_token, signing_key))


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)
