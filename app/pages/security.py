"""Sessions, CSRF, the platform's proxy, HTTPS only (FORCE_HTTPS), and the headers every page carries."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, redirect, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from app.domain import sessions
from app.domain.models import User
from app.errors import error_response, session_holds_login, wants_json
from app.extensions import csrf, db, login_manager

# Pages run only scripts and styles of their own (no inline script: a title that smuggled in
# markup could not run). Posters and videos may come from the storage's own signed URLs on
# another host, so those two are open; they cannot run code. The player (hls.js) feeds the
# <video> through MediaSource, whose object URL is a blob: (which `*` does not cover); it runs
# without a worker, so no blob: scripts or workers are needed. A page that fetches from the
# bucket (direct uploads, a stream's segments on S3) adds its origin to connect-src.
PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src * data:",
        "media-src * blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    from app.api.blueprint import blueprint as api

    hops = app.config["PROXY_HOPS"]
    if hops > 0:
        # the platform's router ends TLS and says so in X-Forwarded-Proto: cookies, CSRF's
        # referrer check and absolute links need to know the request was HTTPS
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    if app.config["FORCE_HTTPS"]:
        # first of all: a form posted in clear gets the 403 below, not a CSRF or rate-limit error
        app.before_request_funcs.setdefault(None, []).insert(0, require_https)
    login_manager.init_app(app)
    login_manager.login_view = "pages.login"
    login_manager.login_message = "Log in to see this page."
    login_manager.user_loader(load_user)
    csrf.init_app(app)
    csrf.exempt(api)  # the API checks the token itself, and only for calls made with a session
    app.after_request(security_headers)


SESSION_KEY = "sid"  # in the signed cookie: the key of the user's session record


def load_user(user_id: str) -> User | None:
    """The session's user while its record on the server is live (not revoked, idle or too old)."""
    if not user_id.isdigit() or sessions.find(session.get(SESSION_KEY), user_id) is None:
        return None
    return db.session.get(User, int(user_id))


PLAIN_HTTP_ANSWERED = frozenset({"/healthz"})  # the platform's probes come over plain HTTP
REDIRECTED = frozenset({"GET", "HEAD"})


def require_https() -> Response | None:
    """Over plain HTTP, page reads go to the same URL on https://; everything else is refused.

    Not redirected: a POST, an API call or a download link over plain HTTP has already sent its
    password, token or signed link in clear. A 403 makes the client's owner see and fix that; a
    redirect would let it work on, leaking on every call.
    """
    if request.scheme == "https" or request.path in PLAIN_HTTP_ANSWERED:
        return None
    if request.method in REDIRECTED and not wants_json():
        return redirect(https_url(), 308)
    message = (
        f"Plain HTTP is refused: use https://{request.host} instead. Anything this request carried "
        "(a password, a token, a download link) has crossed the network unencrypted."
    )
    return error_response(403, message)


def https_url() -> str:
    """This request's URL on https://, with the host the client asked for, minus an explicit :80."""
    parts = urlsplit(request.url)
    host = parts.netloc.removesuffix(":80")
    return parts._replace(scheme="https", netloc=host).geturl()


def security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if current_app.config["FORCE_HTTPS"] and request.scheme == "https":
        # browsers then use https:// for this host by themselves, even for a typed http:// address
        response.headers.setdefault("Strict-Transport-Security", f"max-age={current_app.config['HSTS_SECONDS']}")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        # no one's videos from the back button after logout. The session's word, not current_user:
        # this runs after an error page too, and must not ask the database that just failed
        if request.blueprint == "pages" and session_holds_login():
            response.headers["Cache-Control"] = "no-store"
    return response


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site; never another site (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None  # browsers read `/\evil` and `/<tab>/evil` as another host
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def same_origin() -> bool:
    """Whether the browser says this request comes from a page of this site."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    if origin is None and request.referrer:
        parts = urlsplit(request.referrer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin is not None and origin == request.host_url.rstrip("/")
