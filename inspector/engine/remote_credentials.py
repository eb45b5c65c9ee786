"""Credentials written into a server URL (``http://user:password@host/v1``): taken out of the
URL by :func:`split_credentials` before anything else sees it, and sent only in the
``Authorization`` header; :func:`redact_url` makes any URL, even a malformed one, safe to show.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from inspector.engine.errors import InvalidParameterError, RemoteServerError


@dataclass(frozen=True)
class Credentials:
    """User-info taken from a URL: ``user:password`` (HTTP Basic) or a lone token (bearer)."""

    user: str | None = field(repr=False)
    secret: str = field(repr=False)

    @property
    def bearer(self) -> bool:
        return self.user is None

    def authorization(self) -> str:
        if self.user is None:
            return f"Bearer {self.secret}"
        pair = f"{self.user}:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


_USER_INFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?.*@", re.DOTALL)


def redact_url(url: str) -> str:
    """``url`` with anything before its last ``@`` (after the scheme) shown as ``***``: safe
    to print even when the URL is malformed."""
    match = _USER_INFO.match(url.strip())
    if match is None:
        return url.strip()
    return (match.group(1) or "") + "***@" + url.strip()[match.end() :]


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """The URL without its user-info, and the credentials the user-info carried.

    ``http://user:pw@host/v1`` gives HTTP Basic credentials; ``http://TOKEN@host/v1`` and
    ``http://:TOKEN@host/v1`` a bearer token (used as the API key). Percent-escapes in the
    user-info are decoded. Raises :class:`RemoteServerError` (naming the URL redacted) for
    anything that is not a plain http(s) URL.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        _ = parts.port  # a malformed port raises here, with the text in the message
    except ValueError:
        raise RemoteServerError(f"not a valid http(s) URL: {redact_url(text)!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteServerError(f"not an http(s) URL: {redact_url(text)!r}")
    user_info, at, host = parts.netloc.rpartition("@")
    if any("@" in piece for piece in (parts.path, parts.query, parts.fragment)):
        raise RemoteServerError(
            f"cannot read the URL {redact_url(text)!r}: percent-encode '/', '?', '#' and '@' "
            "inside its user name or password (as %2F, %3F, %23, %40)"
        )
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    if not at or not user_info:
        return clean, None
    user, colon, secret = user_info.partition(":")
    if not colon:
        return clean, Credentials(None, unquote(user))
    if not user:
        return clean, Credentials(None, unquote(secret))
    return clean, Credentials(unquote(user), unquote(secret))


def strip_credentials(url: str) -> str:
    """``url`` fit to save or show: without its user-info (redacted if it is malformed)."""
    try:
        return split_credentials(url)[0]
    except RemoteServerError:
        return redact_url(url)


def authorization(credentials: Credentials | None, api_key: str | None) -> str | None:
    """The ``Authorization`` header for an API key and/or URL credentials (None: none).

    Both may be given only when they say the same (a URL token equal to the key)."""
    if credentials is None:
        return f"Bearer {api_key}" if api_key else None
    if api_key and not (credentials.bearer and credentials.secret == api_key):
        raise InvalidParameterError(
            "the server URL carries credentials (user:password@ or token@) and an API key "
            "was given too ($INSPECTOR_API_KEY or --api-key); give only one of them"
        )
    return credentials.authorization()
