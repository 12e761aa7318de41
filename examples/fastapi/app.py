"""A FastAPI service whose routes are protected by Gatehouse access tokens.

It trusts nothing but the issuer's URL: the signing keys come from the JWKS that the
issuer's RFC 8414 metadata names, so key rotation needs no change here. Run it with
Debian's packages (python3-fastapi, python3-uvicorn, python3-jwt):

    GATEHOUSE_ISSUER=http://127.0.0.1:8000 /usr/bin/python3 -m uvicorn app:app --port 8001

Settings (environment):
    GATEHOUSE_ISSUER    the issuer, exactly as Gatehouse's metadata and tokens spell it
                        (default http://127.0.0.1:8000)
    GATEHOUSE_AUDIENCE  the `aud` tokens must carry (default "gatehouse")
    GATEHOUSE_LEEWAY    clock tolerance in seconds for exp/iat (default 5, as Gatehouse's)
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from typing import Any, Callable
from urllib.parse import urlsplit

import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from jwt import PyJWK, PyJWKClient
from jwt.exceptions import ExpiredSignatureError, PyJWKClientError

ISSUER = os.environ.get("GATEHOUSE_ISSUER", "http://127.0.0.1:8000")
AUDIENCE = os.environ.get("GATEHOUSE_AUDIENCE", "gatehouse")
LEEWAY = int(os.environ.get("GATEHOUSE_LEEWAY", "5"))

# Gatehouse's asymmetric algorithms. HS256 is absent on purpose: a resource server holds no
# shared secret, and accepting it would let a public key serve as an HMAC secret (RFC 8725 3.1).
ALLOWED_ALGORITHMS = ("EdDSA", "ES256", "RS256")
# RFC 9068 2.1 / RFC 8725 3.11: only a token typed as an access token is one.
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
HTTP_TIMEOUT_SECONDS = 5
# A token with an unknown `kid` makes us re-read the JWKS (that is how a rotated key is
# found), but at most once per this many seconds: otherwise every forged token with a random
# kid would cost a request to Gatehouse (PyJWT 2.6's PyJWKClient refetches on every miss).
# Only such re-reads count, not the first or the periodic ones, so the first token signed by
# a new key is accepted at once unless unknown kids were seen in the last few seconds.
JWKS_REFRESH_COOLDOWN_SECONDS = 10


def metadata_url(issuer: str) -> str:
    """RFC 8414 3: the well-known path goes between the host and the issuer's own path."""
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{parts.path.rstrip('/')}"


def fetch_json(url: str) -> Any:
    # A timeout, so that a Gatehouse that hangs cannot hang every request here with it.
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:
        return json.load(response)


class _JWKClient(PyJWKClient):
    """PyJWT 2.6's client, with a timeout on the fetch (its own urlopen has none)."""

    def fetch_data(self) -> Any:
        try:
            data = fetch_json(self.uri)
        except (OSError, ValueError) as error:
            raise PyJWKClientError(f"cannot read the JWKS: {error}") from error
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)
        return data


def key_algorithm(key: PyJWK) -> str | None:
    """The one algorithm a key may verify: its `alg`, else what its type implies."""
    data: dict[str, Any] = key._jwk_data  # PyJWT 2.6 keeps the JWK here and has no accessor
    if isinstance(data.get("alg"), str):
        return data["alg"]
    kty, crv = data.get("kty"), data.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        return "EdDSA"
    if kty == "EC" and crv == "P-256":
        return "ES256"
    if kty == "RSA":
        return "RS256"
    return None


class GatehouseKeys:
    """The issuer's public keys: discovered once, cached five minutes, re-read on an unknown kid."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self._lock = threading.Lock()
        self._client: PyJWKClient | None = None
        self._last_refresh = float("-inf")

    def _jwks_client(self) -> PyJWKClient:
        with self._lock:
            if self._client is None:
                metadata = fetch_json(metadata_url(self.issuer))
                if not isinstance(metadata, dict):
                    raise PyJWKClientError("the metadata is not a JSON object")
                # RFC 8414 3.3: metadata that names another issuer must not be used.
                if metadata.get("issuer") != self.issuer:
                    raise PyJWKClientError(
                        f"the metadata's issuer {metadata.get('issuer')!r} is not {self.issuer!r}"
                    )
                jwks_uri = metadata.get("jwks_uri")
                if not isinstance(jwks_uri, str) or urlsplit(jwks_uri).scheme not in ("http", "https"):
                    raise PyJWKClientError("the metadata has no usable jwks_uri")
                # Not cache_keys=True: in PyJWT 2.6 that memoizes kid -> key for the life of
                # the process, so a key Gatehouse withdrew from its JWKS would stay trusted.
                # The key set cache (lifespan) drops it within five minutes instead.
                self._client = _JWKClient(jwks_uri, cache_jwk_set=True, lifespan=300)
            return self._client

    def key_for(self, kid: str) -> PyJWK | None:
        client = self._jwks_client()
        key = client.match_kid(client.get_signing_keys(), kid)
        if key is None:
            with self._lock:
                refresh = time.monotonic() - self._last_refresh >= JWKS_REFRESH_COOLDOWN_SECONDS
                if refresh:
                    self._last_refresh = time.monotonic()
            if refresh:
                key = client.match_kid(client.get_signing_keys(refresh=True), kid)
        return key


keys = GatehouseKeys(ISSUER)
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=f"{ISSUER.rstrip('/')}/token")


def unauthorized(detail: str, description: str | None = None) -> HTTPException:
    challenge = "Bearer"
    if description is not None:
        # RFC 6750 3: say why, so a client knows to refresh rather than to log in again.
        challenge = f'Bearer error="invalid_token", error_description="{description}"'
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": challenge},
    )


def verify(token: str) -> dict[str, Any]:
    """The token's claims, or an HTTPException: 401 for any bad token, 503 if Gatehouse is down."""
    invalid = unauthorized("Could not validate credentials")
    try:
        header = jwt.get_unverified_header(token)
    except Exception:
        raise invalid
    alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
    # Decided before any key lookup: alg "none", HS256 and kid-less tokens never reach the JWKS.
    if alg not in ALLOWED_ALGORITHMS or not isinstance(kid, str) or len(kid) > 200:
        raise invalid
    if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
        raise invalid
    try:
        key = keys.key_for(kid)
    except Exception:
        # Discovery or the JWKS failed (unreachable, not JSON, no usable key): the issuer's
        # fault, not the client's, so not a 401 that would send the user to log in again.
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Cannot reach the token issuer")
    # RFC 8725 3.1: the key decides the algorithm, never the token's header alone.
    if key is None or key_algorithm(key) != alg:
        raise invalid
    try:
        return jwt.decode(
            token,
            key.key,
            algorithms=[alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except ExpiredSignatureError:
        raise unauthorized("Token has expired", "The access token expired")
    except Exception:
        # Any other failure, including claims of the wrong type that PyJWT 2.6 trips over
        # with a TypeError, is a bad token: 401, never a 500.
        raise invalid


def get_current_user(token: str = Depends(oauth2_scheme)) -> dict[str, Any]:
    claims = verify(token)
    scope = claims.get("scope", "")
    return {"sub": claims["sub"], "scope": scope if isinstance(scope, str) else ""}


def requires_role(role: str) -> Callable[..., dict[str, Any]]:
    """A dependency that admits users whose token carries `role` as a scope (Gatehouse grants
    the `admin` scope only to admins, and drops it at once when one is demoted)."""

    def dependency(user: dict[str, Any] = Depends(get_current_user)) -> dict[str, Any]:
        if role not in user["scope"].split():
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Not enough permissions")
        return user

    return dependency


app = FastAPI(title="Gatehouse-protected example API")


@app.get("/public")
def public() -> dict[str, str]:
    return {"message": "anyone may read this"}


@app.get("/me")
def me(user: dict[str, Any] = Depends(get_current_user)) -> dict[str, Any]:
    return user


@app.get("/admin")
def admin(user: dict[str, Any] = Depends(requires_role("admin"))) -> dict[str, Any]:
    return {"message": "hello, admin", "sub": user["sub"]}
