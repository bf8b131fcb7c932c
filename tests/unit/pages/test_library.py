"""My videos (/videos): a page at a time, search by title, and what each card shows."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from app.domain.models import Video
from app.extensions import db
from app.pages.library import PAGE_SIZE, clock, page_number, readable_time

XSS = "<img src=x onerror=alert(1)>"


def log_in(client, name: str = "alice"):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/login", data={"username": name, "password": "password1", "csrf_token": token})


def add_videos(user, count: int, title: str = "Clip {}", **fields) -> list[str]:
    """`count` videos, the last one the newest; their ids in that order."""
    start = datetime(2026, 3, 1, 12, 0, 0)
    made = [
        Video(
            user_id=user.id,
            title=title.format(n),
            filename=f"clip{n}.mp4",
            created_at=start + timedelta(minutes=n),
            **fields,
        )
        for n in range(count)
    ]
    db.session.add_all(made)
    db.session.commit()
    return [v.id for v in made]


def card_html(page: str, video_id: str = "") -> str:
    """The markup of the video's card on the page (the first card without an id)."""
    start = page.index(f'<li class="video" data-video-id="{video_id}')
    return page[start : page.index("</li>", start)]


def cards(page: str) -> list[str]:
    return re.findall(r'<li class="video" data-video-id="([^"]+)"', page)


@pytest.fixture
def alice(make_user):
    return make_user("alice")[0]


@pytest.fixture
def signed_in(client, alice):
    log_in(client)
    return client


def test_a_ready_card_shows_its_facts_and_no_progress_bar(signed_in, alice):
    [video_id] = add_videos(
        alice, 1, title="Holiday", state="ready", status=1.0, duration=75.4, width=1280, height=720, size=3_500_000
    )
    page = signed_in.get("/videos").get_data(as_text=True)
    card = card_html(page, video_id)
    assert f'href="/videos/{video_id}" data-role="title">Holiday</a>' in card
    assert '<dd data-role="duration">1:15</dd>' in card
    assert '<dd data-role="resolution">1280×720</dd>' in card
    assert '<dd data-role="size">3.3 MB</dd>' in card
    assert '<time data-role="uploaded" datetime="2026-03-01T12:00:00Z">1 Mar 2026, 12:00 UTC</time>' in card
    assert re.search(r'data-role="progress-box"\s+hidden', card), "a ready video has no progress bar"


def test_an_unfinished_card_shows_its_progress_and_only_known_facts(signed_in, alice):
    add_videos(alice, 1, state="processing", status=0.42)
    page = signed_in.get("/videos").get_data(as_text=True)
    card = card_html(page)
    assert re.search(r'data-role="progress-box"\s*>', card)
    assert 'value="0.42"' in card and ">42%<" in card
    assert re.search(r'data-fact="duration"\s+hidden', card) and re.search(r'data-fact="resolution"\s+hidden', card)


def test_a_failure_says_why_and_offers_convert_again_only_when_it_can(signed_in, alice):
    [lost] = add_videos(
        alice, 1, state="failed", error="The conversion failed after 3 attempts: worker lost", retryable=True
    )
    [damaged] = add_videos(alice, 1, state="failed", error="The file is incomplete or damaged.")
    page = signed_in.get("/videos").get_data(as_text=True)
    card = card_html(page, lost)
    assert 'title="The conversion failed after 3 attempts: worker lost"' in card
    assert ">The conversion failed after 3 attempts: worker lost</p>" in card
    assert re.search(r'<form class="card-actions" method="post" data-role="retry-box"\s+action=', card)
    assert f'action="/videos/{lost}/retry"' in card and 'name="csrf_token"' in card
    assert ">The file is incomplete or damaged.</p>" in card_html(page, damaged)
    assert re.search(r'data-role="retry-box" hidden', card_html(page, damaged)), "it would fail the same way"


def csrf_of(client) -> str:
    page = client.get("/videos").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_convert_again_works_without_the_script_and_comes_back_to_the_same_list(signed_in, alice):
    [video_id] = add_videos(alice, 1, title="Lost", state="failed", error="worker lost", retryable=True)
    response = signed_in.post(
        f"/videos/{video_id}/retry", data={"csrf_token": csrf_of(signed_in), "q": "lo", "page": "2"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/videos?q=lo&page=2"
    assert db.session.get(Video, video_id).state == "queued"
    page = signed_in.get("/videos").get_data(as_text=True)
    assert "“Lost” is being converted again." in page
    assert re.search(r'data-role="progress-box"\s*>', card_html(page, video_id))


def test_convert_again_says_why_it_cannot(signed_in, alice):
    [video_id] = add_videos(alice, 1, state="failed", error="The file is incomplete or damaged.")
    response = signed_in.post(f"/videos/{video_id}/retry", data={"csrf_token": csrf_of(signed_in)})
    assert response.status_code == 303 and response.headers["Location"] == "/videos"
    assert db.session.get(Video, video_id).state == "failed"
    assert "would fail the same way" in signed_in.get("/videos").get_data(as_text=True)


def test_convert_again_needs_the_csrf_token_and_ones_own_video(signed_in, alice, make_user):
    [mine] = add_videos(alice, 1, state="failed", error="worker lost", retryable=True)
    [theirs] = add_videos(make_user("bob")[0], 1, state="failed", error="worker lost", retryable=True)
    assert signed_in.post(f"/videos/{mine}/retry").status_code == 400
    assert signed_in.post(f"/videos/{theirs}/retry", data={"csrf_token": csrf_of(signed_in)}).status_code == 404
    assert {v.state for v in db.session.scalars(db.select(Video))} == {"failed"}


def test_the_list_is_paged_newest_first(signed_in, alice):
    ids = add_videos(alice, PAGE_SIZE * 2 + 3)
    newest_first = ids[::-1]
    first = signed_in.get("/videos").get_data(as_text=True)
    assert cards(first) == newest_first[:PAGE_SIZE]
    assert f"1–{PAGE_SIZE} of {len(ids)}" in first
    assert "Page 1 of 3" in first and 'rel="next" href="/videos?page=2"' in first and 'rel="prev"' not in first

    second = signed_in.get("/videos?page=2").get_data(as_text=True)
    assert cards(second) == newest_first[PAGE_SIZE : PAGE_SIZE * 2]
    assert f"{PAGE_SIZE + 1}–{PAGE_SIZE * 2} of {len(ids)}" in second
    assert 'rel="prev" href="/videos"' in second and 'rel="next" href="/videos?page=3"' in second

    last = signed_in.get("/videos?page=3").get_data(as_text=True)
    assert cards(last) == newest_first[PAGE_SIZE * 2 :]
    assert "Page 3 of 3" in last and 'rel="next"' not in last


@pytest.mark.parametrize("raw", ["", "0", "-2", "two", "1.5", "9" * 5000, "%00"])
def test_a_page_number_that_is_not_one_is_the_first_page(signed_in, alice, raw):
    ids = add_videos(alice, PAGE_SIZE + 1)
    response = signed_in.get(f"/videos?page={raw}")
    assert response.status_code == 200
    assert cards(response.get_data(as_text=True)) == ids[::-1][:PAGE_SIZE]


def test_a_page_past_the_end_shows_the_last_page_and_says_so(signed_in, alice):
    ids = add_videos(alice, PAGE_SIZE + 2)
    for asked in ("3", "999999999999999999999"):
        response = signed_in.get(f"/videos?page={asked}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert cards(page) == ids[::-1][PAGE_SIZE:]
        assert "this is page 2, the last" in page


def test_one_page_needs_no_pager_and_an_empty_list_says_how_to_start(signed_in, alice):
    empty = signed_in.get("/videos?page=4").get_data(as_text=True)
    assert re.search(r'<p class="empty" data-role="empty"\s*>No videos yet', empty)
    assert 'aria-label="Pages"' not in empty and "There is no page" not in empty
    add_videos(alice, 3)
    page = signed_in.get("/videos").get_data(as_text=True)
    assert len(cards(page)) == 3 and 'aria-label="Pages"' not in page and "1–3 of 3" in page


def test_search_finds_titles_in_any_case_among_ones_own_videos_only(signed_in, alice, make_user):
    bob = make_user("bob")[0]
    add_videos(bob, 1, title="Birthday at the beach")
    [beach] = add_videos(alice, 1, title="Summer BEACH trip")
    add_videos(alice, 2, title="Mountains {}")
    page = signed_in.get("/videos?q=beach").get_data(as_text=True)
    assert cards(page) == [beach]
    assert 'name="q" value="beach"' in page and ">Clear</a>" in page
    assert "1–1 of 1 matching “beach”" in page


def test_search_pages_keep_the_query(signed_in, alice):
    add_videos(alice, PAGE_SIZE + 1, title="Take {}")
    page = signed_in.get("/videos?q=take").get_data(as_text=True)
    assert 'rel="next" href="/videos?q=take&amp;page=2"' in page
    second = signed_in.get("/videos?q=take&page=2").get_data(as_text=True)
    assert len(cards(second)) == 1 and 'rel="prev" href="/videos?q=take"' in second


def test_a_search_without_match_says_so_with_the_query_as_text(signed_in, alice):
    add_videos(alice, 2)
    response = signed_in.get("/videos", query_string={"q": XSS})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and cards(page) == []
    assert "No videos match “&lt;img src=x onerror=alert(1)&gt;”" in page
    assert XSS not in page
    assert re.search(r'data-role="empty"\s+hidden>No videos yet', page), "the first-upload text stays hidden"


def test_a_search_with_like_wildcards_matches_them_as_text(signed_in, alice):
    [percent] = add_videos(alice, 1, title="100% done")
    add_videos(alice, 1, title="1000 views")
    assert cards(signed_in.get("/videos?q=100%25").get_data(as_text=True)) == [percent]


def test_new_uploads_are_looked_for_on_the_first_page_of_the_whole_list_only(signed_in, alice):
    add_videos(alice, PAGE_SIZE + 1)
    assert 'data-live-new="true"' in signed_in.get("/videos").get_data(as_text=True)
    assert 'data-live-new="false"' in signed_in.get("/videos?page=2").get_data(as_text=True)
    assert 'data-live-new="false"' in signed_in.get("/videos?q=clip").get_data(as_text=True)


def test_page_numbers_and_clock_and_times_as_a_person_reads_them():
    assert [page_number(raw) for raw in (None, "", "3", " 4 ", "0", "-1", "x")] == [1, 1, 3, 4, 1, 1, 1]
    assert [clock(s) for s in (None, 0, 4.9, 75, 3725)] == ["", "", "0:04", "1:15", "1:02:05"]
    assert readable_time("2026-12-01T09:05:00Z") == "1 Dec 2026, 09:05 UTC" and readable_time(None) == ""
