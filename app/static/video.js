// A video's page: live progress, then the player and the downloads; cancel and delete.
"use strict";

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
    if (video.state === "ready" && !part("player").firstChild) showPlayer(video);
  };

  const showPlayer = (video) => {
    const renditions = video.renditions;
    if (!renditions.length) return;
    const player = document.createElement("video");
    player.controls = true;
    player.preload = "metadata";
    player.playsInline = true;
    if (video.poster_url) player.poster = video.poster_url;
    // the largest rendition up to 720p plays first; the others are a choice away
    const fits = renditions.filter((r) => r.height <= 720);
    const first = fits.length ? fits[fits.length - 1] : renditions[0];
    player.src = first.url;
    part("player").append(player);

    if (renditions.length > 1) {
      const choice = document.createElement("select");
      choice.setAttribute("aria-label", "Quality");
      renditions.forEach((r) => choice.append(new Option(r.name, r.url, false, r === first)));
      choice.addEventListener("change", () => {
        const at = player.currentTime;
        const playing = !player.paused;
        player.src = choice.value;
        player.addEventListener("loadedmetadata", () => {
          player.currentTime = at;
          if (playing) player.play();
        }, { once: true });
      });
      part("player").append(choice);
    }

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
