// A video's storyboard: its WebVTT read into cues (a span of time and the box of its picture in a
// sprite sheet), and the preview over the timeline that shows the picture of a moment. Loaded with the
// player (see video.js). Sheets are only http(s) URLs; the time shown is set with textContent.
"use strict";

const ConveyorStoryboard = (() => {
  // "00:01:02.500" or "01:02.500" -> seconds
  function cueTime(text) {
    const match = /^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$/.exec(text.trim());
    if (!match) return NaN;
    const [, h, m, s, ms] = match;
    return Number(h || 0) * 3600 + Number(m) * 60 + Number(s) + Number((ms || "0").padEnd(3, "0")) / 1000;
  }

  // A storyboard's WebVTT: cues of `start --> end` and `sheet.jpg#xywh=x,y,w,h`, the sheet's URI
  // relative to the VTT's own URL (or absolute). Cues that don't say where their picture is are skipped.
  function parse(text, vttUrl) {
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

  // the last cue (of cues sorted by start) that starts at or before `time`
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

  // The preview in `timeline` (the element it is placed across): { node, load(url), has(), show(time,
  // fraction), hide() }. load() reads the storyboard once (the first URL it is given); until it has
  // cues, has() is false and the timeline seeks without previews.
  function preview(timeline) {
    const { element, clock } = Conveyor;
    const node = element("div", "preview");
    node.hidden = true;
    node.setAttribute("aria-hidden", "true");
    const picture = element("div", "preview-picture");
    const at = element("span", "preview-time");
    node.append(picture, at);

    let cues = [];
    let loadedFrom = null;

    const load = async (url) => {
      if (!url || loadedFrom) return;
      loadedFrom = url;
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) return;
        cues = parse(await response.text(), response.url || url);
        timeline.classList.toggle("has-previews", cues.length > 0);
      } catch (e) {
        cues = []; // no previews; the timeline still seeks
      }
    };

    // the picture of `time`, at `fraction` of the timeline's width
    const show = (time, fraction) => {
      const cue = cueAt(cues, time);
      if (!cue || time > cue.end + 0.001) {
        node.hidden = true;
        return;
      }
      picture.style.backgroundImage = `url(${JSON.stringify(cue.sheet)})`;
      picture.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      picture.style.width = `${cue.w}px`;
      picture.style.height = `${cue.h}px`;
      at.textContent = clock(time);
      node.hidden = false;
      // centred over the pointer, kept inside the timeline
      const width = timeline.clientWidth;
      const left = Math.min(Math.max(fraction * width - cue.w / 2, 0), Math.max(width - cue.w, 0));
      node.style.left = `${left}px`;
    };

    const hide = () => {
      node.hidden = true;
    };

    return { node, load, has: () => cues.length > 0, show, hide };
  }

  return { parse, cueAt, preview };
})();
