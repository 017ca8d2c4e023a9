(function () {
  "use strict";
  var active = {};
  var buttons = document.querySelectorAll(".filters button[data-status]");
  var section = document.getElementById("section-filter");
  function apply() {
    var wanted = section ? section.value : "";
    document.querySelectorAll(".rule").forEach(function (rule) {
      var show = active[rule.dataset.status] !== false && (!wanted || rule.dataset.section === wanted);
      rule.classList.toggle("hidden", !show);
    });
    document.querySelectorAll("section.group").forEach(function (group) {
      group.classList.toggle("hidden", !group.querySelector(".rule:not(.hidden)"));
    });
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      var on = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", on ? "true" : "false");
      active[button.dataset.status] = on;
      apply();
    });
  });
  if (section) { section.addEventListener("change", apply); }
  var expand = document.getElementById("expand-all");
  if (expand) {
    expand.addEventListener("click", function () {
      var open = expand.getAttribute("aria-pressed") !== "true";
      expand.setAttribute("aria-pressed", open ? "true" : "false");
      document.querySelectorAll("details.evidence").forEach(function (d) { d.open = open; });
    });
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.evidence").forEach(function (d) { d.open = true; });
  });
})();
