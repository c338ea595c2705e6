// opensession web: theme toggle, account menu, and the keyboard shortcuts pages declare.
// Pages work without this file; it only adds keyboard-first conveniences.
"use strict";

(function () {
  const root = document.documentElement;

  function toggleTheme() {
    const next = root.dataset.theme === "light" ? "dark" : "light";
    root.dataset.theme = next;
    try { localStorage.setItem("os-theme", next); } catch (e) { /* private mode */ }
  }

  function typing(event) {
    const target = event.target;
    return target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  // Pages register their shortcuts here: key -> function(event).
  const shortcuts = new Map();
  window.opensession = { shortcuts };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.addEventListener("click", toggleTheme);
    });
    const menu = document.querySelector("[data-account-menu]");
    if (menu) {
      document.addEventListener("click", function (event) {
        if (!menu.contains(event.target)) menu.open = false;
      });
      menu.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { menu.open = false; menu.querySelector("summary").focus(); }
      });
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    const action = shortcuts.get(event.key);
    if (action) { event.preventDefault(); action(event); }
  });
})();
