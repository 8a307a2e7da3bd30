// Evaluation runs list: the Compare button works with exactly two runs selected.
(function () {
  "use strict";
  function setUp() {
    var form = document.getElementById("compare-form");
    if (!form) return;
    var button = document.getElementById("compare-button");
    var hint = document.getElementById("compare-hint");
    function update() {
      var picked = form.querySelectorAll("input.run-pick:checked").length;
      button.disabled = picked !== 2;
      hint.textContent = picked === 2 ? "Compare the two selected runs." :
        "Select two runs to compare them (" + picked + " selected).";
    }
    form.addEventListener("change", update);
    update();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
