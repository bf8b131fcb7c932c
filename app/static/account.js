// The account page: copy a secret or token with one press. The page works without this script;
// the copy buttons stay hidden then (selecting the text copies it as well).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const STATUS_MS = 4000;

  if (navigator.clipboard) {
    document.querySelectorAll("button[data-copy]").forEach((button) => {
      const source = document.getElementById(button.dataset.copy);
      const status = button.parentElement.querySelector(".copy-status");
      let timer = null;
      const say = (text) => {
        status.textContent = text;
        clearTimeout(timer);
        timer = setTimeout(() => { status.textContent = ""; }, STATUS_MS);
      };
      button.hidden = false;
      button.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(source.textContent.trim());
          say("Copied");
        } catch (e) {
          say("Could not copy: select the text and copy it.");
        }
      });
    });
  }

});
