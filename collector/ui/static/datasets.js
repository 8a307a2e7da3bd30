// The dataset page: inline expectation editors, JSON checks before a form is sent, and
// record selection for "Delete selected". The server checks everything again.
(function () {
  "use strict";

  function jsonProblem(text, kind, label) {
    if (!text.trim()) {
      return kind === "object-required" ? label + ' is required: a JSON object, e.g. {"question": "..."}.' : "";
    }
    var value;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return label + " is not valid JSON: " + error.message + ".";
    }
    if (kind === "any") return "";
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return label + " must be a JSON object ({...}), not " + (Array.isArray(value) ? "list" : typeof value) + ".";
    }
    if (kind === "object-required" && Object.keys(value).length === 0) return label + " must not be empty.";
    return "";
  }

  function checkForm(event) {
    var form = event.currentTarget;
    var ok = true;
    form.querySelectorAll("textarea[data-json]").forEach(function (area) {
      var problem = jsonProblem(area.value, area.dataset.json, area.dataset.label || area.name);
      var slot = form.querySelector('[data-error-for="' + area.name + '"]');
      if (slot) {
        slot.textContent = problem;
        slot.hidden = !problem;
      }
      area.setAttribute("aria-invalid", problem ? "true" : "false");
      if (problem) ok = false;
    });
    if (!ok) event.preventDefault();
  }

  function updateSelection() {
    var boxes = document.querySelectorAll("input.select-record");
    var chosen = document.querySelectorAll("input.select-record:checked").length;
    var button = document.getElementById("delete-selected");
    if (button) {
      button.disabled = chosen === 0;
      button.textContent = chosen ? "Delete selected (" + chosen + ")" : "Delete selected";
    }
    var all = document.getElementById("select-all");
    if (all) all.checked = boxes.length > 0 && chosen === boxes.length;
  }

  function init() {
    document.querySelectorAll("form.json-form").forEach(function (form) {
      form.addEventListener("submit", checkForm);
    });
    document.querySelectorAll("button.edit-expectations").forEach(function (button) {
      button.addEventListener("click", function () {
        var row = document.getElementById(button.getAttribute("aria-controls"));
        if (!row) return;
        row.hidden = !row.hidden;
        if (!row.hidden) row.querySelector("textarea").focus();
      });
    });
    document.querySelectorAll("button.cancel-edit").forEach(function (button) {
      button.addEventListener("click", function () {
        var row = button.closest("tr.editor");
        if (row) row.hidden = true;
      });
    });
    document.querySelectorAll("input.select-record").forEach(function (box) {
      box.addEventListener("change", updateSelection);
    });
    var all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("input.select-record").forEach(function (box) {
          box.checked = all.checked;
        });
        updateSelection();
      });
    }
    updateSelection();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
