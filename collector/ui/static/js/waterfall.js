// The trace view's span tree and timeline (templates/_trace_body.html). The spans come as
// one JSON <template> block of rows [id, parent, name, type, startMs, durationMs, error].
// Only the rows of expanded subtrees that are scrolled into view are built (with
// textContent: span names are untrusted), so thousands of spans open fast. Selecting a row
// loads the span's detail with htmx. Keys: Up/Down move, Left collapses (or goes to the
// parent), Right expands (or goes to the first child), Home/End, Enter/Space toggle.
"use strict";

(function () {
  const BADGES = {
    LLM: "LLM", CHAT_MODEL: "CHAT", RETRIEVER: "RET", TOOL: "TOOL", CHAIN: "CHAIN",
    AGENT: "AGENT", EMBEDDING: "EMB", PARSER: "PARSE", RERANKER: "RANK", UNKNOWN: "SPAN",
  };
  const AUTO_COLLAPSE_SPANS = 300; // bigger traces open with deep levels collapsed
  const AUTO_COLLAPSE_DEPTH = 2;
  const LOAD_DELAY_MS = 120; // key repeat: load the detail once the selection rests
  const ROW_HEIGHT = 26; // px, as .wf-row in trace.css
  const OVERSCAN = 10; // rows built beyond each edge of the scrolled window

  function build(container) {
    const rowsEl = container.querySelector(".wf-rows");
    // a <template> carries the JSON: htmx drops every <script> of a swapped fragment
    const block = container.querySelector("template#" + CSS.escape(container.dataset.waterfall));
    const data = block ? JSON.parse(block.content.textContent) : null;
    if (!rowsEl || !data) return;
    const total = data.total_ms > 0 ? data.total_ms : 1;
    const nodes = new Map();
    const roots = [];
    for (const r of data.rows) {
      nodes.set(r[0], { id: r[0], parent: r[1], name: r[2], type: r[3], start: r[4],
        dur: r[5], error: r[6] === 1, children: [], depth: 0, el: null });
    }
    for (const node of nodes.values()) {
      const parent = node.parent ? nodes.get(node.parent) : null;
      if (parent) parent.children.push(node); else roots.push(node);
    }
    // depths, iteratively (deep traces must not overflow the stack)
    const stack = roots.map((n) => [n, 0]);
    while (stack.length) {
      const [node, depth] = stack.pop();
      node.depth = depth;
      for (const child of node.children) stack.push([child, depth + 1]);
    }
    const collapsed = new Set();
    if (nodes.size > AUTO_COLLAPSE_SPANS) {
      for (const node of nodes.values()) {
        if (node.depth >= AUTO_COLLAPSE_DEPTH && node.children.length) collapsed.add(node.id);
      }
    }
    const canvas = document.createElement("div");
    canvas.className = "wf-canvas";
    rowsEl.replaceChildren(canvas);
    const state = { container, rowsEl, canvas, nodes, roots, collapsed, total, visible: [],
      index: new Map(), selected: null, timer: 0, frame: 0, traceId: data.trace_id };
    container.waterfall = state;
    const first = roots[0];
    const initial = container.closest(".trace-view")?.querySelector(".span-card");
    render(state);
    select(state, initial ? nodes.get(initial.dataset.spanId) || first : first, false);
    performance.mark("spyglass:waterfall-ready"); // the tree is built and a row selected

    rowsEl.addEventListener("click", (event) => {
      const row = event.target.closest(".wf-row");
      if (!row) return;
      const node = nodes.get(row.dataset.spanId);
      if (event.target.closest(".wf-toggle")) toggle(state, node);
      else select(state, node, true);
      rowsEl.focus({ preventScroll: true });
    });
    rowsEl.addEventListener("keydown", (event) => onKey(state, event));
    rowsEl.addEventListener("scroll", () => {
      if (state.frame) return;
      state.frame = requestAnimationFrame(() => { state.frame = 0; paint(state); });
    });
  }

  function visibleNodes(state) {
    const out = [];
    const stack = state.roots.slice().reverse();
    while (stack.length) {
      const node = stack.pop();
      out.push(node);
      if (!state.collapsed.has(node.id)) {
        for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
      }
    }
    return out;
  }

  function makeRow(state, node) {
    const row = document.createElement("div");
    row.className = "wf-row" + (node.error ? " wf-error" : "");
    row.setAttribute("role", "treeitem");
    row.setAttribute("aria-level", String(node.depth + 1));
    row.dataset.spanId = node.id;
    const name = document.createElement("div");
    name.className = "wf-name";
    name.style.paddingLeft = (6 + node.depth * 14) + "px";
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.tabIndex = -1;
    toggle.className = "wf-toggle";
    if (!node.children.length) toggle.classList.add("wf-leaf");
    toggle.setAttribute("aria-label", "Collapse or expand");
    name.appendChild(toggle);
    const badge = document.createElement("span");
    const type = BADGES[node.type] ? node.type : "UNKNOWN";
    badge.className = "badge badge-" + type.toLowerCase();
    badge.textContent = BADGES[type];
    badge.title = node.type;
    name.appendChild(badge);
    if (node.error) {
      const mark = document.createElement("span");
      mark.className = "wf-error-mark";
      mark.textContent = "!";
      mark.title = "Error";
      name.appendChild(mark);
    }
    const label = document.createElement("span");
    label.className = "wf-label";
    label.textContent = node.name;
    label.title = node.name;
    name.appendChild(label);
    const dur = document.createElement("span");
    dur.className = "wf-dur";
    dur.textContent = formatMs(node.dur);
    name.appendChild(dur);
    const track = document.createElement("div");
    track.className = "wf-track";
    const bar = document.createElement("div");
    bar.className = "wf-bar";
    const left = Math.min(100, (node.start / state.total) * 100);
    bar.dataset.left = left.toFixed(3);
    bar.dataset.width = Math.max(0.2, Math.min(100 - left, (node.dur / state.total) * 100)).toFixed(3);
    bar.style.marginLeft = bar.dataset.left + "%";
    bar.style.width = bar.dataset.width + "%";
    track.appendChild(bar);
    row.appendChild(name);
    row.appendChild(track);
    node.el = row;
    return row;
  }

  function syncRow(state, node) {
    const row = node.el;
    if (node.children.length) row.setAttribute("aria-expanded", String(!state.collapsed.has(node.id)));
    row.setAttribute("aria-selected", String(state.selected === node));
  }

  // only the rows in (and near) the scrolled window exist: the canvas is as tall as all the
  // visible rows, padded above the first painted one
  function render(state) {
    state.visible = visibleNodes(state);
    state.index = new Map(state.visible.map((node, i) => [node, i]));
    state.canvas.style.height = state.visible.length * ROW_HEIGHT + "px";
    paint(state);
  }

  function paint(state) {
    const view = state.rowsEl;
    const height = view.clientHeight || ROW_HEIGHT * 30;
    const first = Math.max(0, Math.floor(view.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(state.visible.length, Math.ceil((view.scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
    const fragment = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const node = state.visible[i];
      if (!node.el) makeRow(state, node);
      syncRow(state, node);
      fragment.appendChild(node.el);
    }
    state.canvas.style.paddingTop = first * ROW_HEIGHT + "px";
    state.canvas.replaceChildren(fragment);
  }

  function reveal(state, node) {
    const i = state.index.get(node);
    if (i === undefined) return;
    const view = state.rowsEl;
    const top = i * ROW_HEIGHT;
    if (top < view.scrollTop) view.scrollTop = top;
    else if (top + ROW_HEIGHT > view.scrollTop + view.clientHeight) {
      view.scrollTop = top + ROW_HEIGHT - view.clientHeight;
    }
    paint(state);
  }

  function toggle(state, node, open) {
    if (!node || !node.children.length) return;
    const isOpen = !state.collapsed.has(node.id);
    const want = open === undefined ? !isOpen : open;
    if (want === isOpen) return;
    if (want) state.collapsed.delete(node.id); else state.collapsed.add(node.id);
    render(state);
  }

  function select(state, node, load) {
    if (!node) return;
    const previous = state.selected;
    state.selected = node;
    if (previous && previous.el) syncRow(state, previous);
    if (node.el) syncRow(state, node);
    reveal(state, node);
    state.container.dataset.selected = node.id;
    if (!load) return;
    clearTimeout(state.timer);
    state.timer = setTimeout(() => loadDetail(state, node), LOAD_DELAY_MS);
  }

  function loadDetail(state, node) {
    const target = state.container.closest(".trace-view")?.querySelector(".span-detail");
    if (!target || !window.htmx) return;
    const url = "/traces/" + encodeURIComponent(state.traceId) + "/spans/" + encodeURIComponent(node.id);
    window.htmx.ajax("GET", url, { target, swap: "innerHTML" });
  }

  function onKey(state, event) {
    const index = state.visible.indexOf(state.selected);
    const node = state.selected;
    let next = null;
    switch (event.key) {
      case "ArrowDown": next = state.visible[Math.min(index + 1, state.visible.length - 1)]; break;
      case "ArrowUp": next = state.visible[Math.max(index - 1, 0)]; break;
      case "Home": next = state.visible[0]; break;
      case "End": next = state.visible[state.visible.length - 1]; break;
      case "ArrowRight":
        if (node && node.children.length && state.collapsed.has(node.id)) toggle(state, node, true);
        else if (node && node.children.length) next = node.children[0];
        break;
      case "ArrowLeft":
        if (node && node.children.length && !state.collapsed.has(node.id)) toggle(state, node, false);
        else if (node && node.parent) next = state.nodes.get(node.parent) || null;
        break;
      case "Enter": case " ": if (node) toggle(state, node); break;
      default: return;
    }
    event.preventDefault();
    if (next && next !== node) select(state, next, true);
  }

  function formatMs(ms) {
    if (ms < 1) return ms.toFixed(2) + " ms";
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(2) + " s";
    return Math.floor(ms / 60000) + " m " + Math.round((ms % 60000) / 1000) + " s";
  }

  function init(root) {
    (root || document).querySelectorAll("[data-waterfall]").forEach((el) => {
      if (el.waterfall) return;
      build(el);
    });
    if (root && root.matches && root.matches("[data-waterfall]") && !root.waterfall) build(root);
  }

  window.SpyglassWaterfall = { init };
  window.Spyglass.onContent(init);
})();
