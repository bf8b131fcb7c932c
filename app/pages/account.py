"""Logging in and out (a session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS, naming a
session kept on the server: app/domain/sessions.py), and the account page: where notifications go
(e-mail, default callback URL), a new webhook secret, a new API token, a new password (which ends
the user's other sessions). Every form works without a script: post, then a 303 to the page with a
flash, or the page again (400) with the errors beside their fields."""

from __future__ import annotations

from flask import current_app, flash, g, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from app import ratelimit
from app.domain import accounts, sessions
from app.domain.models import User, new_webhook_secret
from app.errors import in_words
from app.extensions import db
from app.pages.blueprint import blueprint
from app.pages.forms import PASSWORD_RULES, ChangePasswordForm, LoginForm, NotificationsForm
from app.pages.security import SESSION_KEY, safe_next

# checked when no such user exists, so that a wrong name takes as long as a wrong password
_NOBODY = generate_password_hash("no one has this password")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.args.get("next")) or url_for("pages.videos")
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        # counted before the password is checked: simultaneous guesses can't outrun the limit
        attempt = ratelimit.LoginAttempt(username, ratelimit.trusted_device(username))
        if not attempt.allowed():
            wait = attempt.retry_after()
            flash(f"Too many failed logins. Try again in {in_words(wait)}.", "error")
            return render_template("login.html", form=form), 429, {"Retry-After": str(wait)}
        user = db.session.scalar(db.select(User).filter_by(username=username))
        if user is not None and user.check_password(form.password.data):
            attempt.succeeded()
            _fresh_session()  # nothing from before the login carries over
            login_user(user)
            session[SESSION_KEY] = sessions.start(user, request.remote_addr)
            response = redirect(target)
            ratelimit.remember_device(response, user.username)
            return response
        if user is None:
            check_password_hash(_NOBODY, form.password.data)
        flash("Wrong username or password.", "error")
        return render_template("login.html", form=form), 401
    return render_template("login.html", form=form), 400 if form.errors else 200


@blueprint.post("/logout")
def logout():
    # a POST with the CSRF token (checked by CSRFProtect), so another site cannot log anyone out;
    # the session ends on the server too: a copy of its cookie is worth nothing from now on
    sessions.end(session.get(SESSION_KEY))
    logout_user()
    _fresh_session()
    flash("You are logged out.", "info")
    return redirect(url_for("pages.login"))


def _fresh_session() -> None:
    session.clear()
    g.pop("csrf_token", None)  # the CSRF token this request cached belonged to the old session


@blueprint.get("/account")
@login_required
def account():
    return _account_page()


@blueprint.post("/account/notifications")
@login_required
def save_notifications():
    form = NotificationsForm()
    if not form.validate_on_submit():
        return _account_page(notifications=form), 400
    user = current_user._get_current_object()
    user.email = form.checked["email"]
    user.callback_url = form.checked["callback_url"]
    db.session.commit()
    flash("Notifications saved.", "info")
    return redirect(url_for("pages.account", _anchor="main"), 303)


@blueprint.post("/account/webhook-secret")
@login_required
def rotate_webhook_secret():
    # the page asked first (its confirm step); CSRFProtect has checked the form's token
    user = current_user._get_current_object()
    user.webhook_secret = new_webhook_secret()
    db.session.commit()
    flash("New webhook secret made: callbacks are signed with it from now on.", "info")
    return redirect(url_for("pages.account", _anchor="main"), 303)


@blueprint.post("/account/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _account_page(password=form), 400
    user = current_user._get_current_object()
    # a session left open somewhere must not become a way to guess the password: the login's limit
    attempt = ratelimit.LoginAttempt(user.username, ratelimit.trusted_device(user.username))
    if not attempt.allowed():
        wait = attempt.retry_after()
        form.current_password.errors.append(f"Too many wrong passwords. Try again in {in_words(wait)}.")
        return _account_page(password=form), 429, {"Retry-After": str(wait)}
    if not user.check_password(form.current_password.data):
        form.current_password.errors.append("That is not your current password.")
        return _account_page(password=form), 400
    attempt.succeeded()
    accounts.set_password(user, form.new_password.data, keep_session=session.get(SESSION_KEY))
    flash("Password changed. You are logged out everywhere else.", "info")
    return redirect(url_for("pages.account", _anchor="main"), 303)


@blueprint.post("/account/token")
@login_required
def rotate_token():
    # CSRFProtect has checked the form's token. The new token goes into this page only: a flash
    # or the session would put it in the cookie, which is signed but readable.
    token = accounts.rotate_token(current_user._get_current_object())
    response = make_response(_account_page(new_token=token))
    response.headers["Cache-Control"] = "no-store"
    return response


def _account_page(
    password: ChangePasswordForm | None = None,
    notifications: NotificationsForm | None = None,
    new_token: str | None = None,
) -> str:
    """The page, with the form that was posted as it came back (errors and all), the others fresh."""
    user = current_user
    if notifications is None:
        saved = {"email": user.email or "", "callback_url": user.callback_url or ""}
        notifications = NotificationsForm(formdata=None, data=saved)
    return render_template(
        "account.html",
        form=password or ChangePasswordForm(formdata=None),
        notifications=notifications,
        new_token=new_token,
        password_rules=PASSWORD_RULES,
        sends_mail=bool(current_app.config.get("MAIL_URL")),
    )
