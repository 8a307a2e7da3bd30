// JSON values of the trace view as people read them: a collapsible tree (objects and arrays
// as <details>), a Raw/Pretty toggle and a Copy button. Values come from inert
// <template class="json-data"> blocks (htmx removes <script> elements from swapped
// fragments, JSON ones included) and are inserted with textContent only.
// Also checks, before sending, that a form's JSON field (data-json-field) parses.
"use strict";

(function () {
  const OPEN_DEPTH = 2; // levels shown open at first
  const MAX_CHILDREN = 500; // longer arrays/objects show the first ones and a note

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scalar(value) {
    if (value === null) return el("span", "jv-null", "null");
    if (typeof value === "string") return el("span", "jv-string", JSON.stringify(value));
    if (typeof value === "number") return el("span", "jv-number", String(value));
    if (typeof value === "boolean") return el("span", "jv-bool", String(value));
    return el("span", "jv-other", String(value));
  }

  function tree(value, depth) {
    if (value === null || typeof value !== "object") return scalar(value);
    const isArray = Array.isArray(value);
    const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
    if (!entries.length) return el("span", "jv-empty", isArray ? "[]" : "{}");
    const details = el("details", "jv-node");
    details.open = depth < OPEN_DEPTH;
    details.appendChild(el("summary", "jv-summary",
      isArray ? "[" + entries.length + " items]" : "{" + entries.length + " keys}"));
    const list = el("ul", "jv-children");
    for (const [key, child] of entries.slice(0, MAX_CHILDREN)) {
      const item = el("li", "jv-entry");
      item.appendChild(el("span", isArray ? "jv-index" : "jv-key", isArray ? String(key) : key));
      item.appendChild(document.createTextNode(": "));
      item.appendChild(tree(child, depth + 1));
      list.appendChild(item);
    }
    if (entries.length > MAX_CHILDREN) {
      list.appendChild(el("li", "muted", "… " + (entries.length - MAX_CHILDREN) + " more (see Raw)"));
    }
    details.appendChild(list);
    return details;
  }

  function enhance(root) {
    (root || document).querySelectorAll(".json-view[data-json-id]").forEach((view) => {
      if (view.dataset.ready) return;
      view.dataset.ready = "1";
      const block = view.querySelector("template.json-data");
      const value = block ? JSON.parse(block.content.textContent) : null;
      const body = view.querySelector(".json-body");
      const pretty = el("div", "jv-tree");
      pretty.appendChild(tree(value, 0));
      const raw = el("pre", "jv-raw", JSON.stringify(value, null, 2));
      raw.hidden = true;
      body.replaceChildren(pretty, raw);
      const toggle = view.querySelector(".json-toggle");
      toggle.addEventListener("click", () => {
        const showRaw = raw.hidden;
        raw.hidden = !showRaw;
        pretty.hidden = showRaw;
        toggle.textContent = showRaw ? "Pretty" : "Raw";
        toggle.setAttribute("aria-pressed", String(showRaw));
      });
      const copy = view.querySelector(".json-copy");
      copy.addEventListener("click", () => {
        const text = JSON.stringify(value, null, 2);
        const done = (label) => {
          copy.textContent = label;
          setTimeout(() => { copy.textContent = "Copy"; }, 1500);
        };
        if (navigator.clipboard) navigator.clipboard.writeText(text).then(() => done("Copied"), () => done("Copy failed"));
        else done("Copy failed");
      });
    });
  }

  // a form with data-json-field="value": refuse to send text that is not JSON
  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt;
    if (!form || !form.dataset || !form.dataset.jsonField) return;
    const field = form.elements[form.dataset.jsonField];
    const error = form.querySelector("[data-error-for='" + form.dataset.jsonField + "']");
    try {
      JSON.parse(field.value);
      if (error) { error.hidden = true; error.textContent = ""; }
    } catch (exc) {
      event.preventDefault();
      if (error) {
        error.textContent = "The value is not valid JSON: " + exc.message;
        error.hidden = false;
      }
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  });

  window.SpyglassJson = { enhance };
  window.Spyglass.onContent(enhance);
})();
