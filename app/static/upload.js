// The upload page: choose or drop several videos, see at once which will be refused (too large, empty,
// not a kind the service reads), then send the others, two at a time, each with its own progress bar,
// then watch each one convert. With S3 storage a file goes straight to the bucket (a presigned form from
// POST /api/uploads), then POST /api/videos names it; otherwise it is posted to POST /api/videos.
// Neither has a time limit. Every name shown is set as text: file names may be hostile.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  const list = document.getElementById("upload-list");
  const button = document.getElementById("upload-button");
  const problem = document.getElementById("upload-error");
  const summary = document.getElementById("upload-summary");
  const maxBytes = Number(form.dataset.maxBytes);
  const extensions = new Set(form.dataset.extensions.split(" "));
  const mediaTypes = new Set(form.dataset.types.split(" "));
  const SENDING_AT_ONCE = 2; // a phone's uplink is shared: two keep it busy without starving either
  const { element } = Conveyor;

  // A bar from 0 to 1, named for screen readers by `label`
  const progressBar = (role, label) => {
    const bar = element("progress");
    bar.max = 1;
    bar.value = 0;
    bar.dataset.role = role;
    bar.setAttribute("aria-label", label);
    return bar;
  };

  const items = []; // one per file in the list, in the order chosen
  const queue = []; // items waiting for a free sending slot
  let sending = 0;
  let counter = 0;

  // Why the server would refuse this file, or null: the same limits, checked before sending anything.
  const refusal = (file) => {
    if (file.size === 0) return "Refused: this file is empty.";
    if (file.size > maxBytes) {
      return `Refused: larger than the limit of ${form.dataset.maxMb} MB.`;
    }
    const dot = file.name.lastIndexOf(".");
    const extension = dot > 0 ? file.name.slice(dot + 1).toLowerCase() : "";
    if (!extensions.has(extension) && !mediaTypes.has(file.type)) {
      return `Refused: not a kind of video Conveyor reads. Upload ${form.dataset.kinds}.`;
    }
    return null;
  };

  const key = () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  const stem = (name) => {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(0, dot) : name;
  };

  // One row of the list: the file's name, size, title, what will happen to it, and its progress.
  const rowFor = (item) => {
    const { file } = item;
    const row = element("li", "upload-item");
    row.dataset.file = String(item.number);
    const top = element("div", "item-top");
    const name = element("span", "item-name", file.name);
    name.id = `file-${item.number}-name`;
    const size = element("span", "item-size", Conveyor.size(file.size) || "0 bytes");
    const remove = element("button", "secondary item-remove", "Remove");
    remove.type = "button";
    remove.setAttribute("aria-label", `Remove ${file.name}`);
    remove.addEventListener("click", () => removeItem(item));
    top.append(name, size, remove);

    const title = element("label", "item-title");
    const titleInput = element("input");
    titleInput.type = "text";
    titleInput.name = "title";
    titleInput.maxLength = 200;
    titleInput.placeholder = stem(file.name);
    titleInput.setAttribute("aria-describedby", name.id);
    title.append(element("span", "field-name", "Title"), titleInput);

    const message = element("p", "item-message");
    message.dataset.role = "message";

    const upload = element("div", "item-bar");
    upload.hidden = true;
    const uploadBar = progressBar("upload-progress", `Upload of ${file.name}`);
    const uploadPercent = element("span", "percent", "0%");
    uploadPercent.dataset.role = "upload-percent";
    upload.append(element("span", "bar-name", "Sent"), uploadBar, uploadPercent);

    const conversion = element("div", "item-bar");
    conversion.hidden = true;
    const state = element("span", "state state-queued", "queued");
    state.dataset.role = "state";
    const conversionBar = progressBar("conversion-progress", `Conversion of ${file.name}`);
    const conversionPercent = element("span", "percent", "0%");
    conversion.append(state, conversionBar, conversionPercent);

    const actions = element("div", "item-actions");
    const open = element("a", "button secondary", "Open video page");
    open.hidden = true;
    open.setAttribute("aria-label", `Open video page: ${file.name}`);
    const retry = element("button", "item-retry", "Try again");
    retry.type = "button";
    retry.hidden = true;
    retry.setAttribute("aria-label", `Try again: ${file.name}`);
    retry.addEventListener("click", () => {
      retry.hidden = true;
      enqueue(item);
      pump();
    });
    actions.append(open, retry);

    row.append(top, message, title, upload, conversion, actions);
    Object.assign(item, {
      row, remove, titleInput, title, message, upload, uploadBar, uploadPercent,
      conversion, state, conversionBar, conversionPercent, open, retry,
    });
    return row;
  };

  const say = (item, text, kind) => {
    item.message.textContent = text;
    item.message.className = `item-message${kind ? ` ${kind}` : ""}`;
  };

  const setState = (item, state) => {
    item.phase = state;
    item.row.dataset.state = state;
    const editable = state === "ready" || state === "failed";
    item.remove.hidden = !(editable || state === "refused");
    item.title.hidden = state === "refused";
    item.titleInput.readOnly = !editable; // still readable (a disabled field is greyed out)
    updateSummary();
  };

  const addFiles = (files) => {
    problem.hidden = true;
    for (const file of files) {
      const known = items.some((other) => other.file.name === file.name && other.file.size === file.size
        && other.file.lastModified === file.lastModified && other.phase !== "uploaded");
      if (known) continue; // chosen twice: once is enough
      counter += 1;
      const item = { file, number: counter, key: key() };
      list.append(rowFor(item));
      items.push(item);
      const refused = refusal(file);
      if (refused) {
        say(item, refused, "error");
        setState(item, "refused");
      } else {
        say(item, "Ready to send");
        setState(item, "ready");
      }
    }
    list.hidden = items.length === 0;
  };

  const removeItem = (item) => {
    const at = items.indexOf(item);
    if (at >= 0) items.splice(at, 1);
    item.row.remove();
    list.hidden = items.length === 0;
    updateSummary();
    button.focus(); // the removed button took the focus with it
  };

  const count = (state) => items.filter((item) => item.phase === state).length;

  const updateSummary = () => {
    const parts = [];
    const ready = count("ready");
    const refused = count("refused");
    const busy = count("waiting") + count("sending");
    const sent = count("uploaded");
    const failed = count("failed");
    if (ready) parts.push(`${ready} ready to send`);
    if (busy) parts.push(`${busy} sending`);
    if (sent) parts.push(`${sent} sent`);
    if (failed) parts.push(`${failed} not sent`);
    if (refused) parts.push(`${refused} refused`);
    summary.textContent = parts.join(", ");
    button.textContent = ready > 1 ? `Upload ${ready} videos` : "Upload";
  };

  // POST a form with XMLHttpRequest, which (unlike fetch) reports upload progress
  const send = (url, data, headers, onProgress) => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    Object.entries(headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
    xhr.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) onProgress(progress.loaded / progress.total);
    });
    xhr.upload.addEventListener("load", () => onProgress(1));
    xhr.addEventListener("load", () => resolve(xhr));
    const interrupted = () => reject(Object.assign(
      new Error("The upload was interrupted: check the connection, then try again."), { retry: true },
    ));
    xhr.addEventListener("error", interrupted);
    xhr.addEventListener("abort", interrupted);
    xhr.send(data);
  });

  const parse = (text) => {
    try {
      return JSON.parse(text);
    } catch (e) {
      return {}; // not JSON: a proxy's error page
    }
  };

  // The server's refusal as an error; a retry can help only when the refusal was not about the file.
  const refused = (status, body) => Object.assign(
    new Error(body.error || `The upload failed (the server answered ${status}).`),
    { retry: status >= 500 || status === 429 || status === 408 },
  );

  const created = (status, body) => (status === 202 || status === 200) && body.id; // 200: a retry that had landed

  const throughTheApp = async (item, options, onProgress) => {
    const data = new FormData();
    data.append("title", options.title);
    data.append("normalize_loudness", options.normalizeLoudness ? "true" : "false");
    data.append("file", item.file);
    const xhr = await send("/api/videos", data, {
      "Accept": "application/json", "X-CSRFToken": Conveyor.csrfToken(), "Idempotency-Key": item.key,
    }, onProgress);
    const body = parse(xhr.responseText);
    if (!created(xhr.status, body)) throw refused(xhr.status, body);
    return body;
  };

  const throughTheBucket = async (item, options, onProgress) => {
    const ticket = await Conveyor.api("POST", "/api/uploads");
    if (!ticket.ok) throw refused(ticket.status, { error: await Conveyor.errorOf(ticket) });
    const target = await ticket.json();
    const data = new FormData();
    Object.entries(target.fields).forEach(([name, value]) => data.append(name, value));
    data.append("file", item.file); // the bucket wants the file last
    const xhr = await send(target.url, data, {}, onProgress);
    if (xhr.status >= 300) throw refused(xhr.status, { error: `The storage refused the upload (${xhr.status}).` });
    const response = await fetch("/api/videos", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json", "Content-Type": "application/json",
        "X-CSRFToken": Conveyor.csrfToken(), "Idempotency-Key": item.key,
      },
      body: JSON.stringify({
        upload_key: target.upload_key, title: options.title, filename: item.file.name,
        normalize_loudness: options.normalizeLoudness,
      }),
    });
    const body = await response.json().catch(() => ({}));
    if (!created(response.status, body)) throw refused(response.status, body);
    return body;
  };

  const showUploadProgress = (item, fraction) => {
    item.uploadBar.value = fraction;
    item.uploadPercent.textContent = Conveyor.percent(fraction);
  };

  const watchConversion = (item, video) => {
    item.open.href = `/videos/${encodeURIComponent(video.id)}`;
    item.open.hidden = false;
    item.conversion.hidden = false;
    Conveyor.watch(video.id, (now) => {
      item.state.textContent = now.state;
      item.state.className = `state state-${now.state}`;
      item.conversionBar.value = now.status || 0;
      item.conversionPercent.textContent = Conveyor.percent(now.status);
      if (now.state === "ready") say(item, "Converted: ready to watch", "done");
      else if (now.state === "failed" || now.state === "rejected") say(item, now.error || `Conversion ${now.state}.`, "error");
      else if (now.state === "cancelled") say(item, "The conversion was cancelled.");
    }, () => say(item, "This video was deleted."));
  };

  const sendOne = async (item) => {
    setState(item, "sending");
    say(item, "Sending…");
    item.upload.hidden = false;
    showUploadProgress(item, 0);
    const options = { title: item.titleInput.value, normalizeLoudness: form.elements.normalize_loudness.checked };
    const way = form.dataset.direct === "yes" ? throughTheBucket : throughTheApp;
    try {
      const video = await way(item, options, (fraction) => showUploadProgress(item, fraction));
      showUploadProgress(item, 1);
      item.titleInput.value = video.title; // the title it got (the file's name when left empty)
      setState(item, "uploaded");
      say(item, "Uploaded: converting");
      if (items.length === 1) {
        window.location.assign(`/videos/${encodeURIComponent(video.id)}`); // one file: go and watch it
        return;
      }
      watchConversion(item, video);
    } catch (error) {
      setState(item, "failed");
      say(item, error.message || "The upload failed.", "error");
      item.upload.hidden = true;
      item.retry.hidden = !error.retry;
    }
  };

  const enqueue = (item) => {
    setState(item, "waiting");
    say(item, "Waiting to send");
    queue.push(item);
  };

  // Start waiting items while a sending slot is free; each finished one starts the next.
  const pump = () => {
    while (sending < SENDING_AT_ONCE && queue.length) {
      const item = queue.shift();
      sending += 1;
      sendOne(item).finally(() => {
        sending -= 1;
        pump();
      });
    }
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
    if (event.dataTransfer && event.dataTransfer.files.length) addFiles(event.dataTransfer.files);
  });
  // a file dropped beside the zone would make the browser leave the page to show it
  ["dragover", "drop"].forEach((type) => document.addEventListener(type, (event) => event.preventDefault()));
  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = ""; // the same file may be chosen again after it is removed
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const ready = items.filter((item) => item.phase === "ready");
    if (!ready.length) {
      problem.textContent = items.length ? "No file here can be sent: choose another video." : "Choose a video first.";
      problem.hidden = false;
      return;
    }
    problem.hidden = true;
    ready.forEach(enqueue);
    pump();
  });

  // Leaving the page ends the uploads still under way (not the conversions)
  window.addEventListener("beforeunload", (event) => {
    if (items.some((item) => item.phase === "waiting" || item.phase === "sending")) {
      event.preventDefault();
      event.returnValue = ""; // what older browsers need to ask
    }
  });
});
