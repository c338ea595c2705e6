// Session detail: in-page search (/ to focus, n/p next/previous match) and event filters (1-5).
// The page reads without this file: the timeline is server-rendered, and the search form also
// works as a plain GET (?q=) that names the pages holding matches.
"use strict";

(function () {
  const FILTERS_KEY = "os-session-hidden";
  const MAX_MATCHES = 5000;

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function loadHidden() {
    try { return JSON.parse(sessionStorage.getItem(FILTERS_KEY) || "[]"); } catch (e) { return []; }
  }

  function saveHidden(hidden) {
    try { sessionStorage.setItem(FILTERS_KEY, JSON.stringify(Array.from(hidden))); } catch (e) { /* private mode */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const timeline = document.getElementById("timeline");
    const form = document.querySelector("[data-search]");
    if (!timeline || !form || !window.opensession) return;
    const shortcuts = window.opensession.shortcuts;
    const input = form.querySelector("input[name=q]");
    const counter = form.querySelector("[data-search-count]");
    const keys = form.querySelector("[data-search-keys]");
    const page = Number(form.dataset.page || "1");
    const multiPage = Number(form.dataset.pages || "1") > 1;
    const serverQuery = (form.dataset.query || "").toLowerCase();
    const foundPages = (form.dataset.found || "").split(",").filter(Boolean).map(Number);
    const hidden = new Set(loadHidden());
    let matches = [];   // each match: the <mark> elements holding it, in document order
    let active = null;
    let typingTimer = 0;

    // --- filters: a category hidden is a class on the timeline; buttons show the state ---
    const bar = document.querySelector("[data-filters]");
    const buttons = Array.from(bar.querySelectorAll("[data-filter]"));
    function applyFilters() {
      buttons.forEach(function (button) {
        const category = button.dataset.filter;
        button.setAttribute("aria-pressed", String(!hidden.has(category)));
        timeline.classList.toggle("hide-" + category, hidden.has(category));
      });
      showCount();
    }
    function toggle(category) {
      if (hidden.has(category)) hidden.delete(category); else hidden.add(category);
      saveHidden(hidden);
      applyFilters();
    }
    buttons.forEach(function (button) {
      button.addEventListener("click", function () { toggle(button.dataset.filter); });
      shortcuts.set(button.getAttribute("aria-keyshortcuts"), function () { toggle(button.dataset.filter); });
    });
    bar.hidden = false;

    // --- search: the page's text is searched as one string, so a match may span the
    // highlighter's spans; each piece of it is wrapped in a <mark> ---
    function clearMarks() {
      const parents = new Set();
      matches.forEach(function (marks) {
        marks.forEach(function (mark) {
          const parent = mark.parentNode;
          if (!parent) return;
          parent.replaceChild(document.createTextNode(mark.textContent), mark);
          parents.add(parent);
        });
      });
      parents.forEach(function (parent) { parent.normalize(); });
      matches = [];
      active = null;
    }

    function textNodes() {
      const nodes = [];
      const starts = [];
      let length = 0;
      const walker = document.createTreeWalker(timeline, NodeFilter.SHOW_TEXT, {
        acceptNode: function (node) {
          const parent = node.parentElement;
          // Line numbers of diffs and the shell prompt are decoration, not content.
          return parent && ((parent.tagName === "I" && parent.parentElement.classList.contains("dl")) || parent.classList.contains("prompt"))
            ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
        },
      });
      const parts = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        nodes.push(node);
        starts.push(length);
        parts.push(node.nodeValue);
        length += node.nodeValue.length;
      }
      return { nodes: nodes, starts: starts, text: parts.join("") };
    }

    function nodeAt(starts, offset) {
      let low = 0;
      let high = starts.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (starts[middle] <= offset) low = middle; else high = middle - 1;
      }
      return low;
    }

    function highlight(query) {
      clearMarks();
      const needle = query.trim();
      if (!needle) return;
      const found = textNodes();
      const pattern = new RegExp(escapeRegExp(needle), "gi");
      const ranges = [];
      let hit;
      while ((hit = pattern.exec(found.text)) && ranges.length < MAX_MATCHES) {
        ranges.push([hit.index, hit.index + hit[0].length]);
      }
      // From the last match back, so that splitting a text node keeps earlier offsets valid.
      for (let r = ranges.length - 1; r >= 0; r--) {
        const start = ranges[r][0];
        const end = ranges[r][1];
        const marks = [];
        for (let n = nodeAt(found.starts, end - 1); n >= 0 && found.starts[n] + found.nodes[n].nodeValue.length > start; n--) {
          const node = found.nodes[n];
          const from = Math.max(start - found.starts[n], 0);
          const to = Math.min(end - found.starts[n], node.nodeValue.length);
          if (to <= from) continue;
          if (to < node.nodeValue.length) node.splitText(to);
          const piece = from > 0 ? node.splitText(from) : node;
          const mark = document.createElement("mark");
          mark.className = "hit";
          piece.parentNode.replaceChild(mark, piece);
          mark.appendChild(piece);
          marks.unshift(mark);
        }
        if (marks.length) matches.unshift(marks);
      }
    }

    function shown(marks) {
      const item = marks[0].closest("[data-cat]");
      return !item || !hidden.has(item.dataset.cat);
    }

    function showCount() {
      const visible = matches.filter(shown);
      const query = input.value.trim();
      keys.hidden = visible.length === 0;
      if (!query) { counter.textContent = ""; return; }
      const position = active && visible.includes(active) ? visible.indexOf(active) + 1 : 0;
      counter.textContent = position + "/" + visible.length;
    }

    function select(marks) {
      if (active) active.forEach(function (mark) { mark.classList.remove("current"); });
      active = marks;
      marks.forEach(function (mark) { mark.classList.add("current"); });
      for (let folded = marks[0].closest("details"); folded; folded = folded.parentElement.closest("details")) {
        folded.open = true;
      }
      marks[0].scrollIntoView({ block: "center" });
      showCount();
    }

    // The next page (step 1) or previous one (step -1) holding matches of the server's search,
    // when the query is the one the server searched: n and p go on there past this page's.
    function otherPage(step) {
      if (!multiPage || input.value.trim().toLowerCase() !== serverQuery) return null;
      const after = foundPages.filter(function (n) { return n > page; });
      const before = foundPages.filter(function (n) { return n < page; });
      const order = step > 0 ? after.concat(before) : before.reverse().concat(after.reverse());
      return order.length ? order[0] : null;
    }

    function goToPage(number, last) {
      const url = new URL(window.location.href);
      url.searchParams.set("page", String(number));
      url.searchParams.set("q", input.value.trim());
      url.hash = last ? "last-match" : "";
      window.location.href = url.toString();
    }

    function step(direction) {
      const visible = matches.filter(shown);
      const index = active ? visible.indexOf(active) : -1;
      const next = index < 0 ? (direction > 0 ? 0 : visible.length - 1) : index + direction;
      if (next < 0 || next >= visible.length) {
        const number = otherPage(direction);
        if (number !== null) { goToPage(number, direction < 0); return; }
        if (!visible.length) { showCount(); return; }
        select(visible[(next + visible.length) % visible.length]);
        return;
      }
      select(visible[next]);
    }

    function search() {
      highlight(input.value);
      const visible = matches.filter(shown);
      if (visible.length) select(visible[0]); else showCount();
    }

    input.addEventListener("input", function () {
      window.clearTimeout(typingTimer);
      typingTimer = window.setTimeout(search, 120);
    });
    input.addEventListener("keydown", function (event) {
      // Escape leaves the box, keeping the query and its matches for n and p (a search box
      // would clear itself).
      if (event.key === "Escape") { event.preventDefault(); input.blur(); return; }
      if (event.key !== "Enter") return;
      event.preventDefault();
      // A new query on a session of several pages asks the server, which searches them all.
      if (multiPage && input.value.trim() && input.value.trim().toLowerCase() !== serverQuery) {
        form.submit();
        return;
      }
      window.clearTimeout(typingTimer);
      if (!matches.length) search(); else step(event.shiftKey ? -1 : 1);
    });

    shortcuts.set("/", function () { input.focus(); input.select(); });
    shortcuts.set("n", function () { step(1); });
    shortcuts.set("p", function () { step(-1); });

    applyFilters();
    if (input.value.trim()) {
      highlight(input.value);
      const visible = matches.filter(shown);
      const jump = !window.location.hash || window.location.hash === "#last-match";
      if (visible.length && jump) {
        select(window.location.hash === "#last-match" ? visible[visible.length - 1] : visible[0]);
      } else {
        showCount();
      }
    }
  });
})();
