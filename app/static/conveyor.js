// Shared by the pages: the CSRF header for API calls, live updates of a video, loading a script when
// a page first needs it, and small helpers for what the pages build.
"use strict";

const Conveyor = (() => {
  const FINAL = new Set(["ready", "failed", "rejected", "cancelled"]);
  // A browser opens at most 6 connections to a host; keep some free for the page itself.
  const MAX_STREAMS = 4;
  const POLL_MS = 3000;
  let streams = 0;
  const scripts = new Map(); // src -> the promise of its loading

  function csrfToken() {
    return document.querySelector('meta[name="csrf-token"]').content;
  }

  // fetch() on the API with this session; a call that changes something needs the CSRF header
  function api(method, path, json) {
    const headers = { "Accept": "application/json", "X-CSRFToken": csrfToken() };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method,
      credentials: "same-origin",
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
    });
  }

  async function errorOf(response) {
    try {
      return (await response.json()).error || response.statusText;
    } catch (e) {
      return `The server answered ${response.status}.`;
    }
  }

  function percent(fraction) {
    return `${Math.floor((fraction || 0) * 100)}%`;
  }

  // 75 -> "1:15", 3725 -> "1:02:05"
  function clock(seconds) {
    const total = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  // 1234567 -> "1.2 MB": bytes in the unit a person reads (powers of 1024, as file managers show)
  function size(bytes) {
    if (!bytes) return "";
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit === 0 ? `${value} ${value === 1 ? "byte" : "bytes"}` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
  }

  // "2026-12-01T10:00:00Z" -> "3 min ago", "yesterday", or the date, in the reader's own language
  function when(iso) {
    if (!iso) return "";
    const moment = new Date(iso);
    const seconds = (moment.getTime() - Date.now()) / 1000;
    const say = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    const steps = [[60, "second"], [3600, "minute"], [86400, "hour"], [7 * 86400, "day"]];
    let step = 1;
    for (const [limit, unit] of steps) {
      if (Math.abs(seconds) < limit) return say.format(Math.round(seconds / step), unit);
      step = limit;
    }
    return moment.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
  }

  // A new element with its class and text; the text is set as text (what is shown may be hostile)
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Loads the script at `src` (a URL of this site: the policy is script-src 'self') once; resolves
  // once it has run. Scripts loaded together run in the order they were asked for.
  function loadScript(src) {
    if (!scripts.has(src)) {
      scripts.set(src, new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = src;
        script.async = false;
        script.onload = () => resolve();
        script.onerror = () => reject(new Error(`could not load ${src}`));
        document.head.append(script);
      }));
    }
    return scripts.get(src);
  }

  // Calls onChange(video) on every change until a final state. Streams the changes while a slot
  // is free; when a stream breaks or none is free, polls, and streams again later.
  function watch(id, onChange, onGone) {
    const path = `/api/videos/${encodeURIComponent(id)}`;
    let done = false;
    let failures = 0;
    let retryAt = 0;

    const deliver = (video) => {
      if (FINAL.has(video.state)) done = true;
      onChange(video);
    };

    const stream = () => {
      streams += 1;
      const source = new EventSource(`${path}/events`);
      let open = true;
      const end = () => {
        if (open) {
          open = false;
          source.close();
          streams -= 1;
        }
      };
      source.onmessage = (event) => {
        failures = 0;
        deliver(JSON.parse(event.data));
        if (done) end();
      };
      source.onerror = () => {
        end();
        if (done) return;
        failures += 1;
        retryAt = Date.now() + Math.min(30000, 1000 * 2 ** failures);
        setTimeout(poll, 1000);
      };
    };

    const poll = async () => {
      if (done) return;
      try {
        const response = await fetch(path, { credentials: "same-origin", headers: { "Accept": "application/json" } });
        if (response.status === 404 || response.status === 401) {
          done = true;
          if (onGone) onGone();
          return;
        }
        if (response.ok) deliver(await response.json());
      } catch (e) {
        // offline for a moment: the next poll tries again
      }
      if (done) return;
      if (streams < MAX_STREAMS && Date.now() >= retryAt) stream();
      else setTimeout(poll, POLL_MS);
    };

    if (streams < MAX_STREAMS) stream();
    else setTimeout(poll, POLL_MS);
  }

  return { FINAL, api, clock, csrfToken, element, errorOf, loadScript, percent, size, watch, when };
})();
