// The session list's shortcuts: t tool, o order, r time range, l layout. Each loads this page's
// address with that one parameter moved on to its next value (back to page 1), so the page
// itself stays plain HTML that works without this file.
"use strict";

(function () {
  const form = document.querySelector("[data-list-filters]");
  if (!form || !window.opensession) return;
  const defaults = { tab: "list", tool: "", sort: "recent", range: "all" };

  function open(name, value) {
    const url = new URL(window.location.href);
    if (value === defaults[name]) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
    url.searchParams.delete("page");
    window.location.assign(url.toString());
  }

  // The next option of a filter after the one the page was rendered with (not whatever the
  // reader picked in the form without applying it).
  function cycle(name) {
    const options = Array.from(form.elements.namedItem(name).options);
    const current = options.findIndex(function (option) { return option.defaultSelected; });
    open(name, options[(current + 1) % options.length].value);
  }

  const shortcuts = window.opensession.shortcuts;
  shortcuts.set("t", function () { cycle("tool"); });
  shortcuts.set("o", function () { cycle("sort"); });
  shortcuts.set("r", function () { cycle("range"); });
  shortcuts.set("l", function () {
    open("tab", form.elements.namedItem("tab").value === "agents" ? "list" : "agents");
  });

  const legend = document.querySelector("[data-shortcut-legend]");
  if (legend) legend.hidden = false;
})();
