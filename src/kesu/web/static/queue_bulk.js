// The queue's bulk bar: select all on the page, the count selected, the fields an action takes.
(function () {
  "use strict";
  if (window.kesuQueueBulk) return;
  window.kesuQueueBulk = true;

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue input[name=number]"));
  }

  function refresh() {
    var all = boxes(), n = all.filter(function (b) { return b.checked; }).length;
    var label = document.getElementById("bulk-selected");
    if (label) label.textContent = label.getAttribute("data-template").replace("{n}", n);
    document.querySelectorAll("#bulk [data-needs-selection]").forEach(function (b) { b.disabled = n === 0; });
    var head = document.querySelector("#queue input.select-all");
    if (head) {
      head.checked = all.length > 0 && n === all.length;
      head.indeterminate = n > 0 && n < all.length;
    }
  }

  function fields() {
    var action = document.querySelector("#bulk select[name=action]");
    var chosen = action ? action.value : "";
    document.querySelectorAll("#bulk label[data-for]").forEach(function (l) {
      var wanted = l.getAttribute("data-for").split(" ");
      l.style.display = chosen && wanted.indexOf(chosen) < 0 ? "none" : "";
    });
  }

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("#queue input.select-all")) {
      boxes().forEach(function (b) { b.checked = t.checked; });
    }
    if (t.matches && t.matches("#bulk select[name=action]")) fields();
    refresh();
  });
  document.addEventListener("htmx:afterSwap", refresh);
  document.addEventListener("DOMContentLoaded", function () { refresh(); fields(); });
  if (document.readyState !== "loading") { refresh(); fields(); }
})();
