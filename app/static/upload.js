// The upload page: pick or drop a file and send it with a progress bar. With S3 storage the file
// goes straight to the bucket (a presigned form from POST /api/uploads), then POST /api/videos
// names it; otherwise it is posted to POST /api/videos. Neither has a time limit.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  const chosen = document.getElementById("chosen");
  const button = document.getElementById("upload-button");
  const bar = document.getElementById("upload-progress");
  const label = document.getElementById("upload-percent");
  const problem = document.getElementById("upload-error");
  const maxBytes = Number(form.dataset.maxBytes);

  const fail = (message) => {
    problem.textContent = message;
    problem.hidden = false;
    button.disabled = false;
  };

  const showChosen = () => {
    const file = input.files[0];
    chosen.textContent = file ? `${file.name} (${(file.size / 1048576).toFixed(1)} MB)` : "";
    problem.hidden = true;
  };

  ["dragenter", "dragover"].forEach((type) => drop.addEventListener(type, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => drop.addEventListener(type, (event) => {
    event.preventDefault();
    drop.classList.remove("over");
  }));
  drop.addEventListener("drop", (event) => {
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      showChosen();
    }
  });
  input.addEventListener("change", showChosen);

  // POST a form with XMLHttpRequest, which (unlike fetch) reports upload progress
  const send = (url, data, headers) => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    Object.entries(headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
    xhr.upload.addEventListener("progress", (progress) => {
      if (!progress.lengthComputable) return;
      bar.value = progress.loaded / progress.total;
      label.textContent = Conveyor.percent(bar.value);
    });
    xhr.addEventListener("load", () => resolve(xhr));
    xhr.addEventListener("error", () => reject(new Error("The upload was interrupted; check the connection and try again.")));
    xhr.send(data);
  });

  const parse = (text) => {
    try {
      return JSON.parse(text);
    } catch (e) {
      return {};  // not JSON: a proxy's error page
    }
  };

  const throughTheApp = async (file) => {
    const data = new FormData(form);
    const xhr = await send("/api/videos", data, { "Accept": "application/json", "X-CSRFToken": Conveyor.csrfToken() });
    const body = parse(xhr.responseText);
    if (xhr.status !== 202 || !body.id) throw new Error(body.error || `The upload failed (${xhr.status}).`);
    return body;
  };

  const throughTheBucket = async (file) => {
    const ticket = await Conveyor.api("POST", "/api/uploads");
    if (!ticket.ok) throw new Error(await Conveyor.errorOf(ticket));
    const target = await ticket.json();
    const data = new FormData();
    Object.entries(target.fields).forEach(([name, value]) => data.append(name, value));
    data.append("file", file);  // the bucket wants the file last
    const xhr = await send(target.url, data, {});
    if (xhr.status >= 300) throw new Error(`The storage refused the upload (${xhr.status}).`);
    const title = form.elements.title.value;
    const normalize_loudness = form.elements.normalize_loudness.checked;
    const created = await Conveyor.api("POST", "/api/videos", {
      upload_key: target.upload_key, title, filename: file.name, normalize_loudness,
    });
    const body = await created.json().catch(() => ({}));
    if (created.status !== 202 || !body.id) throw new Error(body.error || `The upload failed (${created.status}).`);
    return body;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return fail("Choose a video first.");
    if (file.size > maxBytes) return fail(`This file is larger than the limit of ${form.dataset.maxMb} MB.`);
    button.disabled = true;
    problem.hidden = true;
    bar.hidden = false;
    bar.value = 0;
    label.textContent = "0%";
    try {
      const video = await (form.dataset.direct === "yes" ? throughTheBucket(file) : throughTheApp(file));
      label.textContent = "Uploaded";
      window.location.assign(`/videos/${encodeURIComponent(video.id)}`);
    } catch (error) {
      fail(error.message);
    }
  });
});
