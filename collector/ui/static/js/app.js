// Shared behaviour of every page: the CSRF header on htmx requests, local times, and
// reading JSON data blocks. Loaded with `defer`; no inline script anywhere (CSP).
"use strict";

(function () {
  const csrf = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  // every htmx request carries the session's CSRF token
  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });

  const units = [
    ["year", 365 * 86400e3], ["month", 30 * 86400e3], ["day", 86400e3],
    ["hour", 3600e3], ["minute", 60e3], ["second", 1e3],
  ];
  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const clock = {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hourCycle: "h23",
  };
  const thisYear = new Intl.DateTimeFormat(undefined, clock);
  const otherYear = new Intl.DateTimeFormat(undefined, { ...clock, year: "numeric" });
  const local = {
    format: (date) =>
      (date.getFullYear() === new Date().getFullYear() ? thisYear : otherYear).format(date),
  };

  function relativeText(date) {
    const delta = date.getTime() - Date.now();
    for (const [unit, ms] of units) {
      if (Math.abs(delta) >= ms || unit === "second") {
        return relative.format(Math.round(delta / ms), unit);
      }
    }
    return "";
  }

  // <time datetime="ISO"> shows local time, and the relative time on hover
  function localizeTimes(root) {
    root.querySelectorAll("time[datetime]").forEach((el) => {
      if (el.dataset.localized || !el.getAttribute("datetime")) return;
      const date = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) return;
      el.textContent = local.format(date);
      el.title = relativeText(date) + " · " + date.toISOString();
      el.dataset.localized = "1";
    });
  }

  // elements with data-width (a percentage) get that width: the CSP forbids inline styles
  function applyWidths(root) {
    root.querySelectorAll("[data-width]").forEach((el) => {
      if (el.dataset.widthApplied === el.dataset.width) return;
      el.dataset.widthApplied = el.dataset.width;
      el.style.width = el.dataset.width + "%";
      if (el.dataset.left !== undefined) el.style.marginLeft = el.dataset.left + "%";
    });
  }

  function enhance(root) {
    localizeTimes(root);
    applyWidths(root);
  }

  window.Spyglass = {
    csrf,
    enhance,
    // the parsed JSON of a data block: <template class="json-data" id=...> (or a
    // <script type="application/json"> in a full page); data, never code
    data(id, root) {
      const el = (root || document).querySelector("#" + CSS.escape(id));
      if (!el) return null;
      const text = el.content ? el.content.textContent : el.textContent;
      return JSON.parse(text);
    },
  };

  // fn(root) for the page once loaded, then for every piece of content htmx puts in it
  // (whatever the swap style, history restores included); root is the new element's
  // parent, so that fn's querySelectorAll also finds the element itself. Page modules set
  // themselves up through this, idempotently.
  function onContent(fn) {
    document.addEventListener("DOMContentLoaded", () => fn(document));
    document.addEventListener("htmx:load", (event) => {
      const elt = event.detail && event.detail.elt;
      if (elt) fn(elt.parentElement || elt);
    });
  }
  window.Spyglass.onContent = onContent;
  onContent(enhance);
})();
