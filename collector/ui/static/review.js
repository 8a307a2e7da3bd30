// The review mode's keyboard shortcuts: j / → next, k / ← previous, s skip, Ctrl+Enter (or
// Cmd+Enter) submit. Letters and arrows are left alone while typing in a field or moving
// through the span tree.
"use strict";

(function () {
  function typing(target) {
    return target instanceof Element &&
      (target.closest("input, textarea, select, [contenteditable], [role=tree]") !== null);
  }

  function follow(id) {
    const link = document.getElementById(id);
    if (link instanceof HTMLAnchorElement) link.click();
  }

  document.addEventListener("keydown", (event) => {
    const form = document.getElementById("review-form");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      const submit = document.getElementById("review-submit");
      if (form instanceof HTMLFormElement && submit) {
        event.preventDefault();
        form.requestSubmit(submit);
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "j" || event.key === "ArrowRight") {
      follow("review-next");
    } else if (event.key === "k" || event.key === "ArrowLeft") {
      follow("review-prev");
    } else if (event.key === "s") {
      const skip = document.getElementById("skip-form");
      if (skip instanceof HTMLFormElement) {
        event.preventDefault();
        skip.requestSubmit();
      }
    }
  });
})();
