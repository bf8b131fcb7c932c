// The player's seek timeline: a range that follows playback and seeks on click, drag and keys, with
// the storyboard's preview (storyboard.js) on hover. Loaded with the player (see video.js).
"use strict";

const ConveyorTimeline = (() => {
  // arrow keys step 5 s (the range's own step would be a hundredth of the video), with the preview
  const STEP_KEYS = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -30, PageUp: 30 };

  // The timeline of `media` for `video` (the video JSON): { node, update(video), loadPreviews(url) }
  function create(media, video) {
    const { clock } = Conveyor;
    const node = Conveyor.element("div", "timeline");
    const seek = document.createElement("input");
    seek.type = "range";
    seek.className = "seek";
    seek.min = "0";
    seek.max = String(video.duration || 0);
    seek.step = "any";
    seek.value = "0";
    seek.setAttribute("aria-label", "Seek");
    const preview = ConveyorStoryboard.preview(node);
    node.append(preview.node, seek);

    let latest = video;
    let dragging = false;

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

    const pointerTime = (event) => {
      const rect = seek.getBoundingClientRect();
      const fraction = rect.width ? Math.min(Math.max((event.clientX - rect.left) / rect.width, 0), 1) : 0;
      return [fraction * Number(seek.max), fraction];
    };
    seek.addEventListener("pointermove", (event) => {
      if (!preview.has()) return;
      const [time, fraction] = pointerTime(event);
      preview.show(time, fraction);
    });
    seek.addEventListener("pointerleave", () => {
      if (!dragging) preview.hide();
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
      if (preview.has()) preview.show(time, max ? time / max : 0);
      media.currentTime = time;
    });
    seek.addEventListener("change", () => {
      dragging = false;
      media.currentTime = Number(seek.value);
    });
    seek.addEventListener("blur", preview.hide);
    seek.addEventListener("keydown", (event) => {
      const step = STEP_KEYS[event.key];
      if (step === undefined) return;
      event.preventDefault();
      const max = Number(seek.max);
      const time = Math.min(Math.max(media.currentTime + step, 0), max);
      seek.value = String(time);
      media.currentTime = time;
      if (preview.has()) preview.show(time, max ? time / max : 0);
    });

    // a newer state of the video: its length may have grown
    const update = (next) => {
      latest = next;
      syncLength();
    };

    return { node, update, loadPreviews: preview.load };
  }

  return { create };
})();
