// The player of a video's page: the HLS stream (adaptive, with a quality choice) from the moment the
// video is playable, its timeline (timeline.js, with storyboard previews from storyboard.js), the
// MP4 renditions where HLS can't play, and a captions choice (the video's WebVTT as <track>s, off
// unless a track is marked default or forced). Loaded by video.js, with its parts, when it first needs it;
// hls.js (vendor/hls.min.js) is loaded only where the browser plays HLS through MediaSource.
// Everything shown is set with textContent: titles are hostile.
"use strict";

const ConveyorPlayer = (() => {
  const HERE = document.currentScript ? document.currentScript.src : window.location.href;
  const HLS_SCRIPT = new URL("vendor/hls.min.js", HERE).href;
  const MP4_MAX_HEIGHT = 720; // the MP4 fallback starts with the largest rendition up to this

  // hls.js, once, where MediaSource exists (Safari's ManagedMediaSource too); null where it can't run
  async function loadHls() {
    if (!(window.MediaSource || window.ManagedMediaSource)) return null;
    try {
      const Hls = await Conveyor.loadScript(HLS_SCRIPT).then(() => window.Hls);
      return Hls && Hls.isSupported() ? Hls : null;
    } catch (e) {
      return null;
    }
  }

  // The renditions' MP4 to play where HLS can't: the largest up to 720p, else the smallest
  function firstRendition(renditions) {
    const fits = renditions.filter((r) => r.height <= MP4_MAX_HEIGHT);
    return fits.length ? fits[fits.length - 1] : renditions[0];
  }

  // Builds the player in `box` for `video` (the video JSON); returns { update(video), destroy() }.
  function create(box, video) {
    const { element } = Conveyor;
    const media = document.createElement("video");
    media.controls = true;
    media.preload = "metadata";
    media.playsInline = true;
    if (video.poster_url) media.poster = video.poster_url;

    const frame = element("div", "player-frame");
    frame.append(media);

    const timeline = ConveyorTimeline.create(media, video);

    const controls = element("div", "player-controls");
    // each choice is a <label> around its <select>: its visible word is its name
    const choice = element("label", "quality-choice");
    choice.hidden = true;
    const quality = document.createElement("select");
    quality.setAttribute("aria-label", "Quality");
    quality.className = "quality";
    choice.append(element("span", "quality-label", "Quality"), quality);
    const captionChoice = element("label", "captions-choice");
    captionChoice.hidden = true;
    const captionSelect = document.createElement("select");
    captionSelect.setAttribute("aria-label", "Captions");
    captionSelect.className = "captions";
    captionChoice.append(element("span", "captions-label", "Captions"), captionSelect);
    const note = element("p", "player-note");
    note.hidden = true;
    note.setAttribute("role", "status");
    controls.append(choice, captionChoice, note);

    box.append(frame, timeline.node, controls);

    let mode = null; // "hls", "native" or "mp4", once playing
    let hls = null;
    let hlsFailed = false;
    let latest = video;

    const say = (message) => {
      note.textContent = message || "";
      note.hidden = !message;
    };

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

    // --- the captions choice: each caption with a URL as a <track> of the <video>, whichever engine
    // plays (the browser's own HLS shows the master playlist's subtitles in its own menu instead)
    const tracks = new Map(); // caption id -> its <track>
    let chosenCaption = null; // what the viewer chose ("off" or an id); null: the captions' own default
    const captionName = (c) => {
      const label = c.label || c.language || "Subtitles";
      return c.language && label !== c.language ? `${label} (${c.language})` : label;
    };
    const showCaption = () => {
      for (const [id, track] of tracks) track.track.mode = id === captionSelect.value ? "showing" : "disabled";
    };
    const syncCaptions = (captions) => {
      if (mode !== "hls" && mode !== "mp4") return;
      const usable = (captions || []).filter((c) => c.url);
      const ids = new Set(usable.map((c) => String(c.id)));
      for (const [id, track] of tracks) {
        if (!ids.has(id)) {
          track.remove();
          tracks.delete(id);
        }
      }
      for (const c of usable) {
        const id = String(c.id);
        if (tracks.has(id)) continue; // loaded already: a fresher URL would fetch the same cues
        const track = document.createElement("track");
        track.kind = "subtitles";
        track.label = captionName(c);
        if (c.language) track.srclang = c.language;
        track.src = c.url;
        media.append(track);
        track.track.mode = "disabled";
        tracks.set(id, track);
      }
      const preset = usable.find((c) => c.default || c.forced);
      let value = chosenCaption || (preset ? String(preset.id) : "off");
      if (!ids.has(value)) value = "off";
      captionSelect.replaceChildren(new Option("Off", "off", value === "off", value === "off"));
      for (const c of usable) {
        const id = String(c.id);
        captionSelect.append(new Option(captionName(c), id, id === value, id === value));
      }
      captionChoice.hidden = usable.length === 0;
      showCaption();
    };
    captionSelect.addEventListener("change", () => {
      chosenCaption = captionSelect.value;
      showCaption();
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
        enableWebVTT: false, // the captions are <track>s of the page's own (syncCaptions): none twice
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
      syncCaptions(latest.captions);
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
      syncCaptions(latest.captions);
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

    const update = (next) => {
      latest = next;
      if (next.poster_url && !media.poster) media.poster = next.poster_url;
      timeline.update(next);
      syncCaptions(next.captions);
      if (!mode && !pending && next.renditions && next.renditions.length) choose(); // at ready, where HLS can't play
      timeline.loadPreviews(next.storyboard_url);
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
    timeline.loadPreviews(video.storyboard_url);
    return { update, destroy };
  }

  // parseStoryboard: the storyboard's reader, as the player has always offered it
  return { create, parseStoryboard: ConveyorStoryboard.parse };
})();
