// The player of a video's page: the HLS stream (adaptive, with a quality choice) from the moment the
// video is playable, a timeline with storyboard previews, and the MP4 renditions where HLS can't play.
// Loaded by video.js when it first needs it; hls.js (vendor/hls.min.js) is loaded only where the
// browser plays HLS through MediaSource. Everything shown is set with textContent: titles are hostile.
"use strict";

const ConveyorPlayer = (() => {
  const HERE = document.currentScript ? document.currentScript.src : window.location.href;
  const HLS_SCRIPT = new URL("vendor/hls.min.js", HERE).href;
  const MP4_MAX_HEIGHT = 720; // the MP4 fallback starts with the largest rendition up to this

  let hlsLoading = null;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.async = false;
      script.onload = () => resolve();
      script.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.append(script);
    });
  }

  // hls.js, once, where MediaSource exists (Safari's ManagedMediaSource too); null where it can't run
  async function loadHls() {
    if (!(window.MediaSource || window.ManagedMediaSource)) return null;
    if (!hlsLoading) hlsLoading = loadScript(HLS_SCRIPT).then(() => window.Hls);
    try {
      const Hls = await hlsLoading;
      return Hls && Hls.isSupported() ? Hls : null;
    } catch (e) {
      return null;
    }
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clock(seconds) {
    const total = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  // "00:01:02.500" or "01:02.500" -> seconds
  function cueTime(text) {
    const match = /^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$/.exec(text.trim());
    if (!match) return NaN;
    const [, h, m, s, ms] = match;
    return Number(h || 0) * 3600 + Number(m) * 60 + Number(s) + Number((ms || "0").padEnd(3, "0")) / 1000;
  }

  // A storyboard's WebVTT: cues of `start --> end` and `sheet.jpg#xywh=x,y,w,h`, the sheet's URI
  // relative to the VTT's own URL (or absolute). Cues that don't say where their picture is are skipped.
  function parseStoryboard(text, vttUrl) {
    const cues = [];
    const blocks = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n").split(/\n{2,}/);
    for (const block of blocks) {
      const lines = block.split("\n").map((line) => line.trim()).filter(Boolean);
      const at = lines.findIndex((line) => line.includes("-->"));
      if (at < 0 || at + 1 >= lines.length) continue;
      const [from, to] = lines[at].split("-->");
      const start = cueTime(from);
      const end = cueTime(to.trim().split(/\s+/)[0]);
      const ref = lines[at + 1];
      const hash = ref.lastIndexOf("#xywh=");
      if (Number.isNaN(start) || Number.isNaN(end) || hash < 0) continue;
      const box = ref.slice(hash + 6).split(",").map(Number);
      if (box.length !== 4 || box.some((n) => !Number.isFinite(n) || n < 0)) continue;
      let sheet;
      try {
        sheet = new URL(ref.slice(0, hash), vttUrl);
      } catch (e) {
        continue;
      }
      if (sheet.protocol !== "https:" && sheet.protocol !== "http:") continue;
      const [x, y, w, h] = box;
      cues.push({ start, end, sheet: sheet.href, x, y, w, h });
    }
    return cues.sort((a, b) => a.start - b.start);
  }

  function cueAt(cues, time) {
    let low = 0;
    let high = cues.length - 1;
    let found = null;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (cues[mid].start <= time) {
        found = cues[mid];
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  // The renditions' MP4 to play where HLS can't: the largest up to 720p, else the smallest
  function firstRendition(renditions) {
    const fits = renditions.filter((r) => r.height <= MP4_MAX_HEIGHT);
    return fits.length ? fits[fits.length - 1] : renditions[0];
  }

  // Builds the player in `box` for `video` (the video JSON); returns { update(video), destroy() }.
  function create(box, video) {
    const media = document.createElement("video");
    media.controls = true;
    media.preload = "metadata";
    media.playsInline = true;
    if (video.poster_url) media.poster = video.poster_url;

    const frame = element("div", "player-frame");
    frame.append(media);

    const timeline = element("div", "timeline");
    const seek = document.createElement("input");
    seek.type = "range";
    seek.className = "seek";
    seek.min = "0";
    seek.max = String(video.duration || 0);
    seek.step = "any";
    seek.value = "0";
    seek.setAttribute("aria-label", "Seek");
    const preview = element("div", "preview");
    preview.hidden = true;
    preview.setAttribute("aria-hidden", "true");
    const picture = element("div", "preview-picture");
    const previewTime = element("span", "preview-time");
    preview.append(picture, previewTime);
    timeline.append(preview, seek);

    const controls = element("div", "player-controls");
    const choice = element("span", "quality-choice");
    choice.hidden = true;
    const quality = document.createElement("select");
    quality.setAttribute("aria-label", "Quality");
    quality.className = "quality";
    choice.append(element("span", "quality-label", "Quality"), quality);
    const note = element("p", "player-note");
    note.hidden = true;
    note.setAttribute("role", "status");
    controls.append(choice, note);

    box.append(frame, timeline, controls);

    let mode = null; // "hls", "native" or "mp4", once playing
    let hls = null;
    let hlsFailed = false;
    let latest = video;
    let cues = [];
    let storyboardFor = null;
    let dragging = false;

    const say = (message) => {
      note.textContent = message || "";
      note.hidden = !message;
    };

    // --- the timeline: follows playback, seeks on click, drag and keys; previews on hover
    // what can be watched: while processing, what the stream has so far; at ready, the whole video
    // (the player may not have read the final playlists yet)
    const length = () => {
      const loaded = Number.isFinite(media.duration) ? media.duration : 0;
      const whole = latest.state === "ready" ? latest.duration || 0 : 0;
      return Math.max(loaded, whole) || latest.duration || 0;
    };
    const syncLength = () => {
      seek.max = String(length());
    };
    const syncPosition = () => {
      if (dragging) return;
      seek.value = String(media.currentTime);
      seek.setAttribute("aria-valuetext", `${clock(media.currentTime)} of ${clock(length())}`);
    };
    media.addEventListener("durationchange", syncLength);
    media.addEventListener("loadedmetadata", syncLength);
    media.addEventListener("timeupdate", syncPosition);
    media.addEventListener("seeked", syncPosition);

    const showPreview = (time, fraction) => {
      const cue = cueAt(cues, time);
      if (!cue || time > cue.end + 0.001) {
        preview.hidden = true;
        return;
      }
      picture.style.backgroundImage = `url(${JSON.stringify(cue.sheet)})`;
      picture.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      picture.style.width = `${cue.w}px`;
      picture.style.height = `${cue.h}px`;
      previewTime.textContent = clock(time);
      preview.hidden = false;
      // centred over the pointer, kept inside the timeline
      const width = timeline.clientWidth;
      const left = Math.min(Math.max(fraction * width - cue.w / 2, 0), Math.max(width - cue.w, 0));
      preview.style.left = `${left}px`;
    };
    const hidePreview = () => {
      preview.hidden = true;
    };
    const pointerTime = (event) => {
      const rect = seek.getBoundingClientRect();
      const fraction = rect.width ? Math.min(Math.max((event.clientX - rect.left) / rect.width, 0), 1) : 0;
      return [fraction * Number(seek.max), fraction];
    };
    seek.addEventListener("pointermove", (event) => {
      if (!cues.length) return;
      const [time, fraction] = pointerTime(event);
      showPreview(time, fraction);
    });
    seek.addEventListener("pointerleave", () => {
      if (!dragging) hidePreview();
    });
    seek.addEventListener("pointerdown", () => {
      dragging = true;
    });
    const endDrag = () => {
      dragging = false;
    };
    seek.addEventListener("pointerup", endDrag);
    seek.addEventListener("pointercancel", endDrag);
    seek.addEventListener("input", () => {
      const time = Number(seek.value);
      const max = Number(seek.max);
      if (cues.length) showPreview(time, max ? time / max : 0);
      media.currentTime = time;
    });
    seek.addEventListener("change", () => {
      dragging = false;
      media.currentTime = Number(seek.value);
    });
    seek.addEventListener("blur", hidePreview);
    // arrow keys step 5 s (the range's own step would be a hundredth of the video), with the preview
    const STEP_KEYS = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -30, PageUp: 30 };
    seek.addEventListener("keydown", (event) => {
      const step = STEP_KEYS[event.key];
      if (step === undefined) return;
      event.preventDefault();
      const max = Number(seek.max);
      const time = Math.min(Math.max(media.currentTime + step, 0), max);
      seek.value = String(time);
      media.currentTime = time;
      if (cues.length) showPreview(time, max ? time / max : 0);
    });

    // --- the quality choice
    const fillLevels = () => {
      quality.replaceChildren(new Option("Auto", "-1", true, true));
      const order = hls.levels.map((level, index) => ({ level, index }));
      order.sort((a, b) => b.level.height - a.level.height);
      for (const { level, index } of order) {
        quality.append(new Option(`${level.height}p`, String(index)));
      }
      choice.hidden = hls.levels.length < 2;
    };
    const showAutoLevel = (index) => {
      const level = hls && hls.levels[index];
      if (!quality.options.length) return;
      quality.options[0].textContent = hls.autoLevelEnabled && level ? `Auto (${level.height}p)` : "Auto";
    };
    quality.addEventListener("change", () => {
      if (mode === "hls") {
        hls.currentLevel = Number(quality.value); // -1: adaptive again
        if (quality.value === "-1") quality.options[0].textContent = "Auto";
      } else if (mode === "mp4") {
        const at = media.currentTime;
        const playing = !media.paused;
        media.src = quality.value;
        media.addEventListener("loadedmetadata", () => {
          media.currentTime = at;
          if (playing) media.play().catch(() => {});
        }, { once: true });
      }
    });

    // --- what plays: hls.js, the browser's own HLS, or the MP4s
    const startHls = (Hls, url) => {
      mode = "hls";
      let mediaRecoveries = 0;
      let networkRetries = 0;
      hls = new Hls({
        enableWorker: false, // no blob: worker, so the page's policy needs no worker-src
        startPosition: 0, // a stream still growing starts at its beginning, not at its live edge
        liveDurationInfinity: false,
      });
      hls.on(Hls.Events.MANIFEST_PARSED, fillLevels);
      hls.on(Hls.Events.LEVEL_SWITCHED, (event, data) => showAutoLevel(data.level));
      hls.on(Hls.Events.ERROR, (event, data) => {
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
          mediaRecoveries += 1;
          hls.recoverMediaError();
        } else if (data.type === Hls.ErrorTypes.NETWORK_ERROR && networkRetries < 5) {
          networkRetries += 1;
          say("The stream stopped loading; trying again…");
          setTimeout(() => {
            if (hls) hls.startLoad();
          }, 3000);
        } else {
          hls.destroy();
          hls = null;
          hlsFailed = true; // not tried again: the MP4s take over at ready
          mode = null;
          choice.hidden = true;
          if (latest.renditions && latest.renditions.length) startMp4(latest.renditions);
          else say("The stream can't be played here: the video plays here once it is ready.");
        }
      });
      hls.on(Hls.Events.FRAG_LOADED, () => {
        networkRetries = 0;
        say("");
      });
      hls.attachMedia(media);
      hls.loadSource(url);
    };

    const startNative = (url) => {
      mode = "native"; // the browser adapts by itself and offers no choice of rung
      media.src = url;
    };

    const startMp4 = (renditions) => {
      mode = "mp4";
      const first = firstRendition(renditions);
      media.src = first.url;
      quality.replaceChildren(...renditions.map((r) => new Option(r.name, r.url, false, r === first)));
      choice.hidden = renditions.length < 2;
      say("");
    };

    // the first way this browser can play, of what the video has now; none yet: wait for `ready`
    let pending = false;
    const choose = async () => {
      pending = true;
      try {
        if (latest.playback_url && !hlsFailed) {
          const Hls = await loadHls();
          if (Hls) return startHls(Hls, latest.playback_url);
          if (media.canPlayType("application/vnd.apple.mpegurl")) return startNative(latest.playback_url);
        }
        if (latest.renditions && latest.renditions.length) return startMp4(latest.renditions);
        say("This browser can't play the stream: the video plays here once it is ready.");
        return null;
      } finally {
        pending = false;
      }
    };

    const loadStoryboard = async (url) => {
      storyboardFor = url;
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) return;
        cues = parseStoryboard(await response.text(), response.url || url);
        timeline.classList.toggle("has-previews", cues.length > 0);
      } catch (e) {
        cues = []; // no previews; the timeline still seeks
      }
    };

    const update = (next) => {
      latest = next;
      if (next.poster_url && !media.poster) media.poster = next.poster_url;
      syncLength();
      if (!mode && !pending && next.renditions && next.renditions.length) choose(); // at ready, where HLS can't play
      if (next.storyboard_url && !storyboardFor) loadStoryboard(next.storyboard_url);
    };

    // the stream was taken back (rejected, cancelled): nothing of it stays on the page
    const destroy = () => {
      if (hls) hls.destroy();
      hls = null;
      mode = "gone";
      media.removeAttribute("src");
      media.load();
      box.replaceChildren();
    };

    choose();
    if (video.storyboard_url) loadStoryboard(video.storyboard_url);
    return { update, destroy };
  }

  return { create, parseStoryboard };
})();
