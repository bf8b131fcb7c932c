// "My videos": each unfinished video's state and progress, live.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("li.video[data-video-id]").forEach((row) => {
    if (Conveyor.FINAL.has(row.dataset.state)) return;
    Conveyor.watch(row.dataset.videoId, (video) => render(row, video), () => row.remove());
  });
});

function render(row, video) {
  row.dataset.state = video.state;
  const state = row.querySelector('[data-role="state"]');
  state.textContent = video.state;
  state.className = `state state-${video.state}`;
  row.querySelector('[data-role="progress"]').value = video.status;
  row.querySelector('[data-role="percent"]').textContent = Conveyor.percent(video.status);
  const error = row.querySelector('[data-role="error"]');
  error.textContent = video.error || "";
  error.hidden = !video.error;
  const thumb = row.querySelector(".thumb");
  if (video.poster_url && !thumb.querySelector("img")) {
    const img = document.createElement("img");
    img.alt = "";
    img.src = video.poster_url;
    thumb.append(img);
  }
}
