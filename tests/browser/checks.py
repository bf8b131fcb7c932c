"""What every page must pass in a browser, at every size: nothing scrolls sideways, every control is
big enough to touch on a phone, and axe-core (the engine browsers' own audits use) finds no
accessibility violation of serious or critical impact (missing labels, contrast under WCAG AA...)."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
}
SERIOUS = frozenset({"serious", "critical"})
MIN_TOUCH_PX = 24  # WCAG 2.2's target size (minimum), 2.5.8

_axe = Axe()

# the page's width against the window's, and the elements that stick out past its right edge
_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [...document.querySelectorAll("body *")]
    .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > width + 1)
    .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (typeof el.className === "string" && el.className ? "." + el.className.split(" ").join(".") : ""));
  return { scroll: document.documentElement.scrollWidth, width, out: out.slice(0, 10) };
}"""

# visible controls smaller than the target size: what a thumb misses
_SMALL_TARGETS = """(min) => [
    ...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, summary, textarea")]
  .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
  .filter((el) => !el.closest("p, li, dd, td") || el.matches("button, input, select, .button"))
  .map((el) => [el, el.getBoundingClientRect()])
  .filter(([el, box]) => box.width > 0 && (box.width < min || box.height < min))
  .map(([el, box]) => [el.tagName.toLowerCase(), (el.textContent || el.name || el.type || "").trim().slice(0, 30),
    `${Math.round(box.width)}x${Math.round(box.height)}`].join(" "))"""


def assert_accessible(page) -> None:
    """axe-core on the page as it is now: every violation of serious or critical impact fails."""
    violations = _axe.run(page).response["violations"]
    serious = [v for v in violations if v.get("impact") in SERIOUS]
    assert not serious, f"{page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in serious
    )


def assert_fits(page) -> None:
    """Nothing wider than the window: the page never scrolls sideways."""
    found = page.evaluate(_OVERFLOW)
    wide, width = found["scroll"], found["width"]
    assert wide <= width, f"{page.url}: {wide} px wide in a window of {width}: {found['out']}"


def assert_touchable(page) -> None:
    """Every control outside running text is at least MIN_TOUCH_PX on each side."""
    small = page.evaluate(_SMALL_TARGETS, MIN_TOUCH_PX)
    assert not small, f"{page.url}: too small to touch: {small}"


def assert_page_ok(page) -> None:
    """All of the above: what each browser test checks of each page it visits, at its size."""
    assert_fits(page)
    assert_touchable(page)
    assert_accessible(page)
