// Hearth gateway UI: progressive enhancement only. Every page works without this file;
// it adds the live password strength meter.
"use strict";

(function () {
  function strengthMeter(input) {
    var box = document.getElementById(input.dataset.strength);
    if (!box) { return; }
    var meter = box.querySelector("meter");
    var text = box.querySelector("span");
    var timer = null;
    var seq = 0;

    function show(verdict) {
      meter.value = verdict.score;
      var label = text.dataset["s" + verdict.score] || "";
      if (!verdict.acceptable && verdict.problem && text.dataset[verdict.problem]) {
        label = text.dataset[verdict.problem];
      }
      text.textContent = label;
      box.dataset.acceptable = verdict.acceptable ? "yes" : "no";
    }

    function check() {
      var value = input.value;
      if (value === "") { box.hidden = true; return; }
      var mine = ++seq;
      fetch("/api/v1/password/check", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ password: value })
      }).then(function (res) {
        return res.ok ? res.json() : null;
      }).then(function (verdict) {
        if (verdict && mine === seq) { box.hidden = false; show(verdict); }
      }).catch(function () { box.hidden = true; });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 250);
    });
  }

  function confirmMatch(form) {
    var a = form.querySelector("#new-password");
    var b = form.querySelector("#confirm-password");
    if (!a || !b) { return; }
    function sync() { b.setCustomValidity(b.value !== "" && a.value !== b.value ? b.dataset.mismatch || " " : ""); }
    a.addEventListener("input", sync);
    b.addEventListener("input", sync);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var inputs = document.querySelectorAll("input[data-strength]");
    for (var i = 0; i < inputs.length; i++) { strengthMeter(inputs[i]); }
    var forms = document.querySelectorAll("form");
    for (var j = 0; j < forms.length; j++) { confirmMatch(forms[j]); }
  });
})();
