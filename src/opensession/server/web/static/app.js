// opensession web: theme toggle, account menu, copy buttons, upload drag-and-drop, and the
// keyboard shortcuts pages declare. Pages work without this file; it only adds conveniences.
"use strict";

(function () {
  const root = document.documentElement;

  function showTheme(button) {
    const next = root.dataset.theme === "light" ? "dark" : "light";
    button.setAttribute("aria-label", "Switch to the " + next + " theme");
    button.title = "Switch to the " + next + " theme";
  }

  function toggleTheme(event) {
    const next = root.dataset.theme === "light" ? "dark" : "light";
    root.dataset.theme = next;
    try { localStorage.setItem("os-theme", next); } catch (e) { /* private mode */ }
    showTheme(event.currentTarget);
  }

  function typing(event) {
    const target = event.target;
    return target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  // The account menu: a <details> disclosure. Escape and a click or focus outside close it;
  // the arrow keys move between its items.
  function accountMenu(menu) {
    const summary = menu.querySelector("summary");
    const items = function () { return Array.from(menu.querySelectorAll(".menu a, .menu button")); };
    function close(refocus) {
      if (!menu.open) return;
      menu.open = false;
      if (refocus) summary.focus();
    }
    document.addEventListener("click", function (event) {
      if (!menu.contains(event.target)) close(false);
    });
    menu.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !menu.contains(event.relatedTarget)) close(false);
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(true); return; }
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      event.preventDefault();
      if (!menu.open) menu.open = true;
      const list = items();
      const at = list.indexOf(document.activeElement);
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = at === -1 ? (step === 1 ? 0 : list.length - 1) : (at + step + list.length) % list.length;
      list[next].focus();
    });
  }

  // Copy buttons name the element whose text they copy; they stay hidden without JS, where
  // the text itself is selectable.
  function copyButton(button) {
    const source = document.getElementById(button.dataset.copy);
    const status = document.querySelector(".copy-status");
    if (!source) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      const text = source.textContent.trim();
      const done = function () { if (status) status.textContent = "Copied to the clipboard."; };
      const fallback = function () {
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        const copied = document.execCommand && document.execCommand("copy");
        if (status) status.textContent = copied ? "Copied to the clipboard." : "Selected: press Ctrl+C to copy.";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
    });
  }

  // The upload form: drop a file on the zone to choose it, and too large a file is refused
  // before it is sent.
  function uploadForm(form) {
    const zone = form.querySelector("[data-dropzone]");
    const input = form.querySelector("input[type=file]");
    const error = form.querySelector("[data-file-error]");
    const limit = Number(form.dataset.maxBytes);
    function check() {
      const file = input.files && input.files[0];
      const tooLarge = Boolean(file && limit && file.size > limit);
      error.hidden = !tooLarge;
      error.textContent = tooLarge
        ? file.name + " is larger than the " + form.dataset.maxText + " this server takes; choose a smaller session file."
        : "";
      input.setAttribute("aria-invalid", tooLarge ? "true" : "false");
      return !tooLarge;
    }
    zone.querySelector(".drop-hint").hidden = false;
    input.addEventListener("change", check);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragover");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.remove("dragover");
      });
    });
    zone.addEventListener("drop", function (event) {
      const files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      const chosen = new DataTransfer();
      chosen.items.add(files[0]);
      input.files = chosen.files;
      check();
    });
    form.addEventListener("submit", function (event) {
      if (!check()) { event.preventDefault(); input.focus(); }
    });
  }

  // Pages register their shortcuts here: key -> function(event).
  const shortcuts = new Map();
  window.opensession = { shortcuts };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      showTheme(button);
      button.addEventListener("click", toggleTheme);
    });
    document.querySelectorAll("[data-account-menu]").forEach(accountMenu);
    document.querySelectorAll("button[data-copy]").forEach(copyButton);
    document.querySelectorAll("[data-upload-form]").forEach(uploadForm);
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    const action = shortcuts.get(event.key);
    if (action) { event.preventDefault(); action(event); }
  });
})();
