"""The frame every page shares, at desktop and phone sizes: the header and its navigation fit, every
control can be reached and touched, and axe-core finds nothing serious."""

from __future__ import annotations

import pytest

from tests.browser.checks import assert_page_ok

pytestmark = pytest.mark.browser


def test_the_login_page_fits_and_is_accessible(visitor, size):
    guest = visitor(size=size)
    guest.page.goto("/login")
    assert_page_ok(guest.page)
    assert guest.errors == [] and guest.missing == []


def test_the_navigation_fits_and_reaches_every_page(visitor, size):
    root = visitor("root", size=size)  # an admin: the most links
    page = root.page
    nav = page.get_by_role("navigation", name="Main")
    links = [name.strip() for name in nav.get_by_role("link").all_inner_texts()]
    assert links[:2] == ["My videos", "Upload"] and "Queues" in links and links[-1].startswith("Account")
    for link in nav.get_by_role("link").all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], link.inner_text()
    assert nav.get_by_role("link", name="My videos").get_attribute("aria-current") == "page"
    assert_page_ok(page)

    # by keyboard: the first Tab offers a way past the header, which lands on the page's content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert root.errors == [] and root.missing == []


def test_the_review_page_fits_and_is_accessible(visitor, size):
    root = visitor("root", size=size)
    root.page.goto("/review")
    assert root.page.locator("h1").text_content() == "Rejected videos"
    assert_page_ok(root.page)
