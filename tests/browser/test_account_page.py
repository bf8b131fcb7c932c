"""The account page in a browser, at desktop and phone sizes: a new password, a new API token, where
notifications go and a new webhook secret. Each test has a user of its own, so what it changes
(a password, a token) breaks no other test."""

from __future__ import annotations

import itertools

import pytest
import requests

from tests.browser.checks import assert_page_ok
from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser

_numbers = itertools.count(1)
NEW_PASSWORD = "a longer new password"


def fresh_user(stack, what: str, size: str) -> tuple[str, requests.Session]:
    """A new user's name, and an API session holding the token they were made with."""
    name = f"{what}-{size}-{next(_numbers)}"
    return name, stack.create_user(name)


def api_account(stack, token: str) -> requests.Response:
    return requests.get(f"{stack.url}/api/account", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def log_in(page, name: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")


def change_password(page, current: str, new: str, repeat: str) -> None:
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Repeat the new password").fill(repeat)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()


def error_of(page, field: str) -> str:
    """The error shown beside a field, which the field names as what describes it."""
    described = page.locator(f"#{field}").get_attribute("aria-describedby") or ""
    assert f"{field}-error" in described.split(), f"{field} is not described by its error"
    assert page.locator(f"#{field}").get_attribute("aria-invalid") == "true"
    return page.locator(f"#{field}-error").text_content().strip()


def in_view(page, selector: str) -> bool:
    """Whether the element is inside the window as the page opened: seen without scrolling."""
    box = "(e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }"
    return page.locator(selector).evaluate(box)


def test_change_the_password(stack, visitor, size):
    name, _ = fresh_user(stack, "pw", size)
    you = visitor(name, size=size)
    page = you.page
    page.goto("/account")
    assert page.locator("#username").text_content() == name
    rules = page.locator("#new_password-hint")
    assert rules.is_visible() and "At least 8 characters" in rules.text_content(), "the rules, before typing"
    assert page.locator("#current_password").get_attribute("autocomplete") == "current-password"
    assert page.locator("#new_password").get_attribute("autocomplete") == "new-password"
    assert_page_ok(page)

    change_password(page, "not my password", NEW_PASSWORD, NEW_PASSWORD)
    assert error_of(page, "current_password") == "That is not your current password."
    assert in_view(page, "#current_password-error"), "the page opens at the form that needs fixing"
    assert page.locator("#current_password").input_value() == "", "no password is sent back"
    assert_page_ok(page)

    change_password(page, PASSWORD, NEW_PASSWORD, "a longer new passwort")
    assert error_of(page, "repeat") == "The two new passwords differ."
    assert page.locator("#current_password-error").count() == 0

    change_password(page, PASSWORD, "short", "short")
    assert error_of(page, "new_password") == "The new password must be at least 8 characters."

    change_password(page, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert page.url.endswith("/account#main"), "the page opens at its flash"
    assert "Password changed." in page.locator(".flash").text_content()
    assert_page_ok(page)

    log_out(page)
    log_in(page, name, NEW_PASSWORD)
    page.wait_for_url("**/videos")
    log_out(page)
    log_in(page, name, PASSWORD)
    assert "Wrong username or password." in page.locator(".flash").text_content()
    assert you.errors == []


def test_rotate_the_api_token(stack, visitor, size):
    name, api = fresh_user(stack, "token", size)
    old = api.token
    assert api_account(stack, old).status_code == 200
    you = visitor(name, size=size)
    page = you.page
    page.goto("/account")
    assert page.locator("#new-token").count() == 0
    page.get_by_role("button", name="New API token").click()
    page.wait_for_selector("#new-token")

    warning = page.locator(".new-token").text_content()
    assert "shown this once" in warning and "old token has stopped working" in warning
    assert in_view(page, "#new-token"), "the page opens at the new token"
    new = page.locator("#new-token").text_content().strip()
    assert new and new != old
    assert_page_ok(page)

    assert api_account(stack, new).json()["username"] == name
    refused = api_account(stack, old)
    assert refused.status_code == 401

    page.goto("/account")
    assert page.locator("#new-token").count() == 0, "shown once"
    assert new not in page.content()
    assert api_account(stack, new).status_code == 200
    assert you.errors == []


def test_copy_the_new_token(stack, visitor):
    name, _ = fresh_user(stack, "copy", "desktop")
    you = visitor(name)
    you.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = you.page
    page.goto("/account")
    page.get_by_role("button", name="New API token").click()
    page.get_by_role("button", name="Copy token").click()
    status = page.locator("#token .copy-status")
    status.wait_for()
    assert status.text_content() == "Copied"
    assert page.evaluate("navigator.clipboard.readText()") == page.locator("#new-token").text_content().strip()


def test_set_the_notifications(stack, visitor, size):
    name, api = fresh_user(stack, "notify", size)
    you = visitor(name, size=size)
    page = you.page
    page.goto("/account")
    email, url = page.get_by_label("E-mail for notifications"), page.get_by_label("Default callback URL")
    assert email.get_attribute("autocomplete") == "email"
    assert "public address" in page.locator("#callback_url-hint").text_content(), "the rules, before typing"

    email.fill(f"{name}@example.com")
    url.fill("https://10.0.0.5/hook")
    page.get_by_role("button", name="Save notifications").click()
    page.wait_for_load_state()
    assert "10.0.0.5, which is not a public address" in error_of(page, "callback_url")
    assert page.get_by_label("Default callback URL").input_value() == "https://10.0.0.5/hook", "kept to correct"
    assert page.get_by_label("E-mail for notifications").input_value() == f"{name}@example.com"
    assert api_account(stack, api.token).json()["email"] is None, "nothing saved"
    assert_page_ok(page)

    page.get_by_label("Default callback URL").fill("https://hooks.example.com/conveyor")
    page.get_by_role("button", name="Save notifications").click()
    page.wait_for_url("**/account#main")
    assert "Notifications saved." in page.locator(".flash").text_content()
    page.reload()
    assert page.get_by_label("E-mail for notifications").input_value() == f"{name}@example.com"
    assert page.get_by_label("Default callback URL").input_value() == "https://hooks.example.com/conveyor"
    body = api_account(stack, api.token).json()
    assert body["email"] == f"{name}@example.com" and body["callback_url"] == "https://hooks.example.com/conveyor"

    page.get_by_label("Default callback URL").fill("")
    page.get_by_role("button", name="Save notifications").click()
    page.wait_for_url("**/account#main")
    assert api_account(stack, api.token).json()["callback_url"] is None, "an empty field clears it"
    assert you.errors == []


def test_rotate_the_webhook_secret(stack, visitor, size):
    name, api = fresh_user(stack, "secret", size)
    old = api_account(stack, api.token).json()["webhook_secret"]
    you = visitor(name, size=size)
    page = you.page
    page.goto("/account")
    assert page.locator("#webhook-secret").text_content() == old
    confirm = page.get_by_role("button", name="Yes, make a new secret")
    assert not confirm.is_visible(), "nothing to press by mistake before it asks"

    page.locator("#webhook-confirm summary").click()
    assert confirm.is_visible()
    assert "signed with the new one" in page.locator(".confirm-body").text_content()
    assert_page_ok(page)
    confirm.click()
    page.wait_for_url("**/account#main")
    assert "signed with it from now on" in page.locator(".flash").text_content()

    new = page.locator("#webhook-secret").text_content()
    assert new != old and new.startswith("whsec_")
    assert api_account(stack, api.token).json()["webhook_secret"] == new
    assert not page.get_by_role("button", name="Yes, make a new secret").is_visible(), "the question is closed"
    assert_page_ok(page)
    assert you.errors == []
