// Dialogs filled by htmx: a <dialog> that content is swapped into opens as a modal; a
// [data-close-dialog] button, Escape (the browser's own) or a click on the backdrop closes
// it, and a closed dialog is emptied so that it never shows stale content.
"use strict";

(function () {
  function focusFirst(dialog) {
    const wanted = dialog.querySelector("[autofocus]");
    if (!wanted) return;
    const active = document.activeElement;
    // never take the focus from a field of the dialog the person is already typing in
    const typing = active && active !== wanted && dialog.contains(active) &&
      active.matches("input, textarea, select");
    if (!typing) wanted.focus();
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target instanceof HTMLDialogElement && !target.open && target.childElementCount > 0) {
      target.showModal();
    }
  });

  // content swapped inside an open dialog (a step of it): focus its first field
  document.addEventListener("htmx:afterSettle", (event) => {
    const elt = event.detail.elt;
    const dialog = elt instanceof Element ? elt.closest("dialog[open]") || document.querySelector("dialog[open]") : null;
    if (dialog) focusFirst(dialog);
  });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const closer = target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    // a click on the backdrop lands on the dialog element itself, outside its box
    if (target instanceof HTMLDialogElement && target.open) {
      const box = target.getBoundingClientRect();
      const inside = event.clientX >= box.left && event.clientX <= box.right &&
        event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) target.close();
    }
  });

  document.addEventListener("close", (event) => {
    const dialog = event.target;
    if (dialog instanceof HTMLDialogElement && dialog.id === "dialog") dialog.replaceChildren();
  }, true);
})();
