// The Traces page: the time-range picker, tidy search URLs, row selection with its counter,
// the Actions menu and the trace side panel. No inline script (CSP); data only via DOM.
"use strict";

(function () {
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  function searchForm() { return $("#trace-search"); }

  // -- time range ---------------------------------------------------------------------------
  function setTimezone() {
    const tz = $("#tz");
    if (tz) tz.value = String(-new Date().getTimezoneOffset());
  }

  function onRangeChange(event) {
    const select = event.target;
    if (!select.matches("#time-range")) return;
    const custom = $("#custom-range");
    if (custom) custom.hidden = select.value !== "custom";
    if (select.value !== "custom") searchForm().requestSubmit();
  }

  // the search form leaves out empty fields and the defaults, so that URLs stay short
  function tidyParameters(event) {
    if (event.detail.elt !== searchForm()) return;
    const params = event.detail.parameters;
    const custom = params.range === "custom";
    for (const key of Object.keys(params)) {
      const value = params[key];
      const unused = !custom && (key === "from" || key === "to" || key === "tz");
      if (value === "" || unused || (key === "range" && value === "all")) delete params[key];
    }
  }

  // -- selection ----------------------------------------------------------------------------
  function rowBoxes() { return $$("#trace-selection input.row-select"); }

  function updateSelection() {
    const boxes = rowBoxes();
    const checked = boxes.filter((box) => box.checked);
    boxes.forEach((box) => {
      const row = box.closest("tr");
      if (row) row.classList.toggle("selected", box.checked);
    });
    const all = $("#select-all");
    if (all) {
      all.checked = boxes.length > 0 && checked.length === boxes.length;
      all.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }
    const counter = $("#selection-count");
    if (counter) counter.textContent = checked.length + " selected";
    const add = $("#add-to-dataset");
    if (add) add.disabled = checked.length === 0;
  }

  function onSelectionChange(event) {
    const target = event.target;
    if (target.matches("#select-all")) {
      rowBoxes().forEach((box) => { box.checked = target.checked; });
      updateSelection();
    } else if (target.matches("input.row-select")) {
      updateSelection();
    }
  }

  // -- the Actions menu ---------------------------------------------------------------------
  function setMenu(open) {
    const menu = $("#actions-menu");
    const button = $("#actions");
    if (!menu || !button) return;
    menu.hidden = !open;
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function onClick(event) {
    const target = event.target;
    if (target.closest("#actions")) {
      setMenu($("#actions-menu").hidden);
      return;
    }
    if (!target.closest("#actions-menu")) setMenu(false);
    else if (target.closest("#add-to-dataset")) setMenu(false);

    if (target.closest(".panel-close")) { closePanel(); return; }

    // a click on a row (not its checkbox, link or any control) opens the trace beside
    const row = target.closest("tr.trace-row");
    if (!row || target.closest("a, input, button, label, select, textarea")) return;
    if (window.getSelection && String(window.getSelection()).length > 0) return; // copying text
    $$("tr.trace-row.open").forEach((r) => r.classList.remove("open"));
    row.classList.add("open");
    window.htmx.trigger(row, "open-panel");
  }

  // -- the side panel -----------------------------------------------------------------------
  function closePanel() {
    const panel = $("#trace-panel");
    if (!panel || panel.hidden) return false;
    panel.hidden = true;
    panel.replaceChildren();
    $$("tr.trace-row.open").forEach((r) => r.classList.remove("open"));
    return true;
  }

  function onKey(event) {
    if (event.key !== "Escape") return;
    const dialog = $("#dialog");
    if (dialog && dialog.open) return; // the dialog closes itself first
    setMenu(false);
    if (closePanel()) event.preventDefault();
  }

  function afterSwap(event) {
    const target = event.detail.target;
    if (target && target.id === "trace-panel") {
      const close = document.createElement("button");
      close.type = "button";
      close.className = "panel-close";
      close.setAttribute("aria-label", "Close the trace panel");
      close.textContent = "Close ✕";
      target.prepend(close);
      target.hidden = false;
      return;
    }
    if (target && target.id === "traces-results") {
      closePanel();
      updateSelection();
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!searchForm()) return;
    setTimezone();
    updateSelection();
    document.addEventListener("change", onRangeChange);
    document.addEventListener("change", onSelectionChange);
    document.addEventListener("click", onClick);
    document.addEventListener("keydown", onKey);
    document.addEventListener("htmx:configRequest", tidyParameters);
    document.addEventListener("htmx:afterSwap", afterSwap);
    // a page restored from htmx's history cache: recount what is checked
    document.addEventListener("htmx:historyRestore", () => { setTimezone(); updateSelection(); });
  });
})();
