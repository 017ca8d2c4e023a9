(function () {
  "use strict";
  // one status at a time: "fail (23)" shows the failures, "all" everything; the pressed button is the one shown
  var status = "";
  var buttons = document.querySelectorAll(".filters button[data-status]");
  var section = document.getElementById("section-filter");
  var shown = document.getElementById("shown");
  function apply() {
    var wanted = section ? section.value : "";
    var rules = document.querySelectorAll(".rule");
    var count = 0;
    rules.forEach(function (rule) {
      var show = (!status || rule.dataset.status === status) && (!wanted || rule.dataset.section === wanted);
      rule.classList.toggle("hidden", !show);
      if (show) { count += 1; }
    });
    document.querySelectorAll("section.group").forEach(function (group) {
      group.classList.toggle("hidden", !group.querySelector(".rule:not(.hidden)"));
    });
    buttons.forEach(function (button) {
      button.setAttribute("aria-pressed", button.dataset.status === status ? "true" : "false");
    });
    if (shown) { shown.textContent = count + " of " + rules.length + " rules"; }
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      // pressing the shown status again goes back to all
      status = button.dataset.status === status ? "" : button.dataset.status;
      apply();
    });
  });
  if (section) { section.addEventListener("change", apply); }
  // a link to a rule the filters hide (Needs attention) shows everything again, so the jump lands on its card
  function reveal(id) {
    var target = id && document.getElementById(id);
    if (target && target.classList.contains("hidden")) {
      status = "";
      if (section) { section.value = ""; }
      apply();
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
    if (link) { reveal(decodeURIComponent(link.getAttribute("href").slice(1))); }
  });
  window.addEventListener("hashchange", function () { reveal(decodeURIComponent(location.hash.slice(1))); });
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
