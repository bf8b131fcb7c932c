// A video's page: live progress, the player once the video is playable (player.js with its parts,
// loaded then), the downloads once it is ready; cancel and delete.
"use strict";

// the player's scripts, in the order they run: the storyboard's previews, the timeline, the player
const PLAYER_SCRIPTS = ["storyboard.js", "timeline.js", "player.js"]
  .map((name) => new URL(name, document.currentScript.src).href);

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("video");
  const part = (role) => root.querySelector(`[data-role="${role}"]`);
  const cancel = root.querySelector('[data-action="cancel"]');
  const remove = root.querySelector('[data-action="delete"]');
  const initial = JSON.parse(document.getElementById("video-json").textContent);
  const path = `/api/videos/${encodeURIComponent(initial.id)}`;

  const render = (video) => {
    const state = part("state");
    state.textContent = video.state;
    state.className = `state state-${video.state}`;
    part("progress-box").hidden = Conveyor.FINAL.has(video.state);
    part("progress").value = video.status;
    part("percent").textContent = Conveyor.percent(video.status);
    part("error").textContent = video.error || "";
    part("error").hidden = !video.error;
    cancel.hidden = !["queued", "processing"].includes(video.state);
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
    if (video.state === "ready" && part("downloads").hidden) showDownloads(video.renditions);
  };

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

  const showDownloads = (renditions) => {
    if (!renditions.length) return;
    const list = part("download-list");
    renditions.forEach((r) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = r.url;
      link.download = `${r.name}.mp4`;
      link.textContent = `${r.name} (${r.width}×${r.height})`;
      item.append(link, ` ${(r.size / 1048576).toFixed(1)} MB`);
      list.append(item);
    });
    part("downloads").hidden = false;
  };

  const problem = (message) => {
    part("action-error").textContent = message;
    part("action-error").hidden = false;
  };

  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    const response = await Conveyor.api("POST", `${path}/cancel`);
    if (response.ok) render(await response.json());
    else problem(await Conveyor.errorOf(response));
    cancel.disabled = false;
  });

  // deleting asks twice, in the page rather than with a dialog
  remove.addEventListener("click", async () => {
    if (remove.dataset.armed !== "yes") {
      remove.dataset.armed = "yes";
      remove.textContent = "Delete for good?";
      setTimeout(() => {
        remove.dataset.armed = "";
        remove.textContent = "Delete";
      }, 5000);
      return;
    }
    remove.disabled = true;
    const response = await Conveyor.api("DELETE", path);
    if (response.ok) window.location.assign("/videos");
    else {
      problem(await Conveyor.errorOf(response));
      remove.disabled = false;
    }
  });

  render(initial);
  if (!Conveyor.FINAL.has(initial.state)) {
    Conveyor.watch(initial.id, render, () => window.location.assign("/videos"));
  }
});
