// "My videos": each unfinished video's card follows it live; uploads made elsewhere (the API, the CLI,
// another tab) appear at the top of the first page; "Convert again" on a failure that allows it.
"use strict";

const NEWS_POLL_MS = 5000; // how often the first page asks for uploads made elsewhere, while it is seen
const NEWS_LIMIT = 10; // the newest few: what can have been uploaded since the last look
const UNFINISHED = new Set(["queued", "processing"]);

document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("videos");
  if (!list) return;
  list.querySelectorAll("li.video[data-video-id]").forEach((card) => {
    showWhen(card.querySelector('[data-role="uploaded"]'));
    if (!Conveyor.FINAL.has(card.dataset.state)) follow(card);
  });
  // "Convert again" is a form that works without this script; with it, the API is called and the card
  // follows the video live, with no reload
  list.addEventListener("submit", (event) => {
    const form = event.target.closest('form[data-role="retry-box"]');
    if (!form) return;
    event.preventDefault();
    convertAgain(form.closest("li.video"), form.querySelector('button[data-action="retry"]'));
  });
  // "3 minutes ago" goes stale while the page stays open
  setInterval(() => list.querySelectorAll('[data-role="uploaded"]').forEach(showWhen), 60000);
  if (list.dataset.liveNew === "true") watchForNewUploads(list);
});

function follow(card) {
  Conveyor.watch(card.dataset.videoId, (video) => render(card, video), () => card.remove());
}

// The card as the video is now. Everything from the video is set as text: titles are hostile.
function render(card, video) {
  card.dataset.state = video.state;
  const link = `/videos/${encodeURIComponent(video.id)}`;
  const title = card.querySelector('[data-role="title"]');
  title.textContent = video.title || "(untitled)";
  title.href = link;
  const thumb = card.querySelector('[data-role="thumb"]');
  thumb.href = link;
  if (video.poster_url && !thumb.querySelector("img")) {
    const img = document.createElement("img");
    img.alt = "";
    img.src = video.poster_url;
    thumb.append(img);
  }

  const state = card.querySelector('[data-role="state"]');
  state.textContent = video.state;
  state.className = `state state-${video.state}`;
  card.querySelector('[data-role="progress-box"]').hidden = !UNFINISHED.has(video.state);
  card.querySelector('[data-role="progress"]').value = video.status || 0;
  card.querySelector('[data-role="percent"]').textContent = Conveyor.percent(video.status);

  fact(card, "duration", video.duration ? Conveyor.clock(video.duration) : "");
  fact(card, "resolution", video.width && video.height ? `${video.width}×${video.height}` : "");
  fact(card, "size", Conveyor.size(video.size));
  const uploaded = card.querySelector('[data-role="uploaded"]');
  if (video.created_at && uploaded.dateTime !== video.created_at) {
    uploaded.dateTime = video.created_at;
    showWhen(uploaded);
  }

  const error = card.querySelector('[data-role="error"]');
  error.textContent = video.error || "";
  error.title = video.error || "";
  error.hidden = !video.error;
  const retry = card.querySelector('[data-role="retry-box"]');
  retry.action = `${link}/retry`;
  retry.hidden = !video.can_retry;
}

function fact(card, name, text) {
  card.querySelector(`[data-role="${name}"]`).textContent = text;
  card.querySelector(`[data-fact="${name}"]`).hidden = !text;
}

// "3 minutes ago", with the exact moment, in the reader's own time, as its title
function showWhen(time) {
  if (!time || !time.dateTime) return;
  time.textContent = Conveyor.when(time.dateTime);
  time.title = new Date(time.dateTime).toLocaleString();
}

async function convertAgain(card, button) {
  const error = card.querySelector('[data-role="error"]');
  button.disabled = true;
  try {
    const response = await Conveyor.api("POST", `/api/videos/${encodeURIComponent(card.dataset.videoId)}/retry`);
    if (!response.ok) {
      error.textContent = await Conveyor.errorOf(response);
      error.title = error.textContent;
      error.hidden = false;
      return;
    }
    render(card, await response.json());
    follow(card);
  } catch (e) {
    error.textContent = "Conveyor could not be reached. Try again in a moment.";
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

// Asks for the newest videos every few seconds while the tab is seen (and at once when it is seen
// again); any not on the page yet gets a card at the top, and is followed live.
function watchForNewUploads(list) {
  let timer = null;
  let asking = false;

  const look = async () => {
    clearTimeout(timer);
    if (document.visibilityState !== "visible") return;
    if (!asking) {
      asking = true;
      try {
        const response = await fetch(`/api/videos?limit=${NEWS_LIMIT}`, {
          credentials: "same-origin", headers: { "Accept": "application/json" },
        });
        if (response.ok) addNew(list, await response.json());
      } catch (e) {
        // offline for a moment: the next look tries again
      } finally {
        asking = false;
      }
    }
    timer = setTimeout(look, NEWS_POLL_MS);
  };

  document.addEventListener("visibilitychange", look);
  timer = setTimeout(look, NEWS_POLL_MS);
}

function addNew(list, { videos, total }) {
  const shown = new Set([...list.querySelectorAll("li.video")].map((card) => card.dataset.videoId));
  const fresh = videos.filter((video) => !shown.has(video.id));
  // newest first: the oldest of the new ones goes on top first, the newest ends up above it
  for (const video of [...fresh].reverse()) {
    const card = document.getElementById("video-card").content.firstElementChild.cloneNode(true);
    card.dataset.videoId = video.id;
    render(card, video);
    list.prepend(card);
    if (!Conveyor.FINAL.has(video.state)) follow(card);
  }
  if (!fresh.length) return;
  document.querySelector('[data-role="empty"]').hidden = true;
  const summary = document.querySelector('[data-role="summary"]');
  if (summary && typeof total === "number") summary.textContent = `1–${list.children.length} of ${total}`;
  const news = document.querySelector('[data-role="news"]');
  news.textContent = fresh.length === 1 ? `New video: ${fresh[0].title || "(untitled)"}` : `${fresh.length} new videos`;
}
