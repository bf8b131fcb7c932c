// A video's page: its details and live progress, the player once the video is playable (player.js with
// its parts, loaded then), the downloads and links once it is ready; rename, cancel, convert again and
// delete. What a person typed (title, file name) is always set as text.
"use strict";

// the player's scripts, in the order they run: the storyboard's previews, the timeline, the player
const PLAYER_SCRIPTS = ["storyboard.js", "timeline.js", "player.js"]
  .map((name) => new URL(name, document.currentScript.src).href);

const ARMED_MS = 5000; // how long a button that asks for a second click waits for it
const DOUBLE_CLICK_MS = 400; // a second click sooner than this is a double click, not a confirmation
const COPIED_MS = 5000; // how long "Link copied" stays

// ffprobe's codec names as people know them; a name not here is shown as ffprobe gives it
const CODEC_NAMES = {
  h264: "H.264", hevc: "H.265 (HEVC)", av1: "AV1", vp8: "VP8", vp9: "VP9", mpeg4: "MPEG-4 Part 2",
  mpeg2video: "MPEG-2", mpeg1video: "MPEG-1", h263: "H.263", prores: "ProRes", mjpeg: "Motion JPEG",
  theora: "Theora", vc1: "VC-1", wmv1: "WMV 7", wmv2: "WMV 8", wmv3: "WMV 9", dnxhd: "DNxHD", ffv1: "FFV1",
  aac: "AAC", mp3: "MP3", mp2: "MP2", opus: "Opus", vorbis: "Vorbis", flac: "FLAC", alac: "ALAC",
  ac3: "Dolby Digital (AC-3)", eac3: "Dolby Digital Plus (E-AC-3)", truehd: "Dolby TrueHD", dts: "DTS",
  amr_nb: "AMR", amr_wb: "AMR-WB", wmav1: "WMA", wmav2: "WMA", wmapro: "WMA Pro",
};

function codecName(name) {
  if (CODEC_NAMES[name]) return CODEC_NAMES[name];
  if (/^pcm_/.test(name)) return "PCM";
  return name;
}

// {"video": "h264", "audio": "aac"} -> "H.264 video, AAC audio"; "" before the probe has read them
function codecsText(codecs) {
  if (!codecs || !(codecs.video || codecs.audio)) return "";
  const parts = [];
  if (codecs.video) parts.push(`${codecName(codecs.video)} video`);
  parts.push(codecs.audio ? `${codecName(codecs.audio)} audio` : "no audio");
  return parts.join(", ");
}

// What the stage says while there is nothing to play, by state
const STAGE_MESSAGES = {
  queued: "Waiting for a worker. The player appears here as soon as the first seconds are converted.",
  processing: "Converting. The player appears here as soon as the first seconds are converted.",
  failed: "This video could not be converted.",
  rejected: "This video was refused: it can't be played.",
  cancelled: "The conversion was cancelled: there is nothing to play.",
  ready: "There is nothing to play.",
};

// A button that acts on its second click: the first one arms it (its text says what the next click
// does, `announce` says it to screen readers); unconfirmed after ARMED_MS, or on Escape, it is as before.
function confirmTwice(button, armedText, announce, run) {
  const normal = button.textContent;
  let armedAt = 0;
  let timer = null;
  const disarm = () => {
    clearTimeout(timer);
    armedAt = 0;
    button.classList.remove("armed");
    button.textContent = normal;
  };
  button.addEventListener("click", async () => {
    if (!armedAt) {
      armedAt = Date.now();
      button.classList.add("armed");
      button.textContent = armedText;
      announce(`Press “${armedText}” again to confirm.`);
      timer = setTimeout(disarm, ARMED_MS);
      return;
    }
    if (Date.now() - armedAt < DOUBLE_CLICK_MS) return;
    disarm();
    button.disabled = true;
    try {
      await run();
    } finally {
      button.disabled = false;
    }
  });
  button.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && armedAt) disarm();
  });
  return disarm;
}

document.addEventListener("DOMContentLoaded", () => {
  const { element } = Conveyor;
  const root = document.getElementById("video");
  const part = (role) => root.querySelector(`[data-role="${role}"]`);
  const action = (name) => root.querySelector(`[data-action="${name}"]`);
  const fact = (name) => root.querySelector(`[data-fact="${name}"]`);
  const initial = JSON.parse(document.getElementById("video-json").textContent);
  const path = `/api/videos/${encodeURIComponent(initial.id)}`;
  const announcer = element("p", "visually-hidden");
  announcer.setAttribute("role", "status");
  root.append(announcer);
  const announce = (message) => {
    announcer.textContent = "";
    setTimeout(() => { announcer.textContent = message; }, 50); // a change, so the same words are said again
  };
  let latest = initial;

  // --- the details
  const showFact = (name, text) => {
    const row = fact(name);
    row.querySelector("dd").textContent = text || "";
    row.hidden = !text;
  };
  const showUploaded = (iso) => {
    const row = fact("uploaded");
    const time = row.querySelector("time");
    row.hidden = !iso;
    if (!iso) return;
    time.dateTime = iso;
    time.title = new Date(iso).toLocaleString();
    time.textContent = Conveyor.when(iso);
  };
  setInterval(() => showUploaded(latest.created_at), 60000); // "3 minutes ago" stays true

  const showTitle = (title) => {
    part("title").textContent = title || "(untitled)";
    document.title = `${title || "Video"} · Conveyor`;
  };

  const render = (video) => {
    latest = video;
    const state = part("state");
    state.textContent = video.state;
    state.className = `state state-${video.state}`;
    part("progress-box").hidden = Conveyor.FINAL.has(video.state);
    part("progress").value = video.status;
    part("percent").textContent = Conveyor.percent(video.status);
    if (part("rename-form").hidden) showTitle(video.title);
    showFact("duration", video.duration ? Conveyor.clock(video.duration) : "");
    showFact("resolution", video.width && video.height ? `${video.width}×${video.height}` : "");
    showFact("size", Conveyor.size(video.size));
    showFact("codecs", codecsText(video.codecs));
    showUploaded(video.created_at);
    part("filename").textContent = video.filename || "";
    part("error").textContent = video.error || "";
    part("failure").hidden = !video.error;
    action("retry").hidden = !video.can_retry;
    action("cancel").hidden = !["queued", "processing"].includes(video.state);

    // the player is made once, when the video first can be watched (while processing, or at ready
    // from a server without a stream); later changes only update it. A stream taken back (rejected,
    // cancelled while playable) takes the player with it.
    const watchable = video.playable || (video.state === "ready" && video.renditions.length > 0);
    if (player && !watchable && Conveyor.FINAL.has(video.state)) {
      player.then((p) => p && p.destroy());
      player = null;
    } else if (player) {
      player.then((p) => p && p.update(video));
    } else if (watchable) {
      player = startPlayer(video);
    }
    part("stage-empty").hidden = Boolean(player);
    part("stage-empty").classList.toggle("over", Conveyor.FINAL.has(video.state)); // no player to wait for
    part("stage-message").textContent = STAGE_MESSAGES[video.state] || "";
    showLinks(video);
  };

  // --- the player
  let player = null;
  const startPlayer = async (video) => {
    try {
      if (typeof ConveyorPlayer === "undefined") {
        await Promise.all(PLAYER_SCRIPTS.map((src) => Conveyor.loadScript(src)));
      }
    } catch (e) {
      problem("The player could not be loaded; reload the page to try again.");
      return null;
    }
    return ConveyorPlayer.create(part("player"), video);
  };

  // --- downloads and links: each with a "Copy link"
  const copyStatus = part("copy-status");
  let copiedTimer = null;
  const sayCopied = (message) => {
    clearTimeout(copiedTimer);
    copyStatus.textContent = message;
    copiedTimer = setTimeout(() => { copyStatus.textContent = ""; }, COPIED_MS);
  };
  // the button itself says "Copied" for a moment: the status line may be out of sight on a phone
  const showCopied = (button) => {
    const words = button.firstChild;
    words.textContent = "Copied";
    setTimeout(() => { words.textContent = "Copy link"; }, COPIED_MS);
  };
  // to the clipboard; where the browser refuses, the link is selected in `field` for the person to copy
  const copy = async (button, url, what, field) => {
    try {
      await navigator.clipboard.writeText(url);
      sayCopied(`Copied the link to ${what}.`);
      showCopied(button);
      return;
    } catch (e) {
      // no clipboard here (a page not served over HTTPS) or refused: the field below
    }
    field.value = url;
    field.hidden = false;
    field.focus();
    field.select();
    let copied = false;
    try {
      copied = document.execCommand("copy"); // older browsers' way, from the selection
    } catch (e) {
      copied = false;
    }
    if (copied) showCopied(button);
    sayCopied(copied ? `Copied the link to ${what}.`
      : `The browser did not let the page copy: the link to ${what} is selected, copy it from there.`);
  };

  const downloadRow = (rendition) => {
    const item = element("li", "download");
    const about = element("div", "download-about");
    const details = [`${rendition.width}×${rendition.height}`, Conveyor.size(rendition.size)].filter(Boolean);
    about.append(element("span", "download-name", rendition.name), element("span", "download-meta", details.join(" · ")));
    const link = element("a", "button secondary", "Download");
    link.href = rendition.url;
    link.download = `${rendition.name}.mp4`;
    link.append(element("span", "visually-hidden", ` ${rendition.name}`));
    const copyButton = element("button", "secondary", "Copy link");
    copyButton.type = "button";
    copyButton.append(element("span", "visually-hidden", ` to ${rendition.name}`));
    const field = element("input", "link-field");
    field.type = "text";
    field.readOnly = true;
    field.hidden = true;
    field.setAttribute("aria-label", `Link to ${rendition.name}`);
    copyButton.addEventListener("click", () => copy(copyButton, rendition.url, rendition.name, field));
    const buttons = element("div", "button-row");
    buttons.append(link, copyButton);
    item.append(about, buttons, field);
    return item;
  };

  let listed = false;
  const showLinks = (video) => {
    if (video.state === "ready" && !listed && video.renditions.length) {
      part("download-list").replaceChildren(...video.renditions.map(downloadRow));
      listed = true;
    }
    const playback = part("playback");
    if (video.playback_url) part("playback-url").value = video.playback_url;
    playback.hidden = !video.playback_url;
    part("downloads").hidden = !listed && !video.playback_url;
  };
  const copyPlayback = action("copy-playback");
  copyPlayback.addEventListener("click", () => copy(copyPlayback, part("playback-url").value, "the stream", part("playback-url")));

  const problem = (message) => {
    part("action-error").textContent = message;
    part("action-error").hidden = !message;
  };

  // --- rename: the title becomes a field; Enter saves, Escape leaves it as it was
  const form = part("rename-form");
  const field = form.elements.title;
  const renameError = part("rename-error");
  const renameButton = action("rename");
  const showRenameError = (message) => {
    renameError.textContent = message || "";
    renameError.hidden = !message;
    if (message) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  };
  // while the field is open the heading stays, for screen readers only: the page keeps its h1
  const editing = (on) => {
    form.hidden = !on;
    part("title-row").classList.toggle("editing", on);
  };
  const stopRenaming = () => {
    editing(false);
    showRenameError("");
    showTitle(latest.title);
    renameButton.focus();
  };
  renameButton.addEventListener("click", () => {
    field.value = latest.title || "";
    showRenameError("");
    editing(true);
    field.focus();
    field.select();
  });
  action("rename-cancel").addEventListener("click", stopRenaming);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      stopRenaming();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const save = form.querySelector('button[type="submit"]');
    save.disabled = true;
    try {
      const response = await Conveyor.api("PATCH", path, { title: field.value });
      if (!response.ok) {
        showRenameError(await Conveyor.errorOf(response));
        field.focus();
        return;
      }
      latest = await response.json();
      stopRenaming();
      render(latest);
      announce("Title saved.");
    } catch (e) {
      showRenameError("The title could not be saved: the server did not answer. Try again.");
    } finally {
      save.disabled = false;
    }
  });

  // --- cancel, delete: each asks for a second click, in the page rather than with a dialog
  confirmTwice(action("cancel"), "Really cancel?", announce, async () => {
    const response = await Conveyor.api("POST", `${path}/cancel`);
    if (response.ok) {
      problem("");
      render(await response.json());
    } else {
      problem(await Conveyor.errorOf(response));
    }
  });
  confirmTwice(action("delete"), "Delete for good?", announce, async () => {
    const response = await Conveyor.api("DELETE", path);
    if (response.ok) window.location.assign("/videos");
    else problem(await Conveyor.errorOf(response));
  });

  // --- convert again, after a failure that was not the file's fault
  const watch = () => Conveyor.watch(initial.id, render, () => window.location.assign("/videos"));
  action("retry").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const response = await Conveyor.api("POST", `${path}/retry`);
      if (!response.ok) {
        problem(await Conveyor.errorOf(response));
        return;
      }
      problem("");
      render(await response.json());
      watch();
      announce("Queued to convert again.");
    } finally {
      button.disabled = false;
    }
  });

  render(initial);
  if (!Conveyor.FINAL.has(initial.state)) watch();
});
