// The queue's keyboard: j/k move the highlighted row, Enter opens it, a accepts it,
// / goes to the search box, ? shows the list (Esc closes it). Nothing happens while
// typing in a field. Loaded by workbench/queue.html only; no framework, no build step.
(function () {
  "use strict";
  var help = document.getElementById("keys-help");
  if (!help) return;
  var current = null; // the highlighted complaint's number (kept across the 30 s refresh)

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue tr[data-number]"));
  }
  function currentRow() {
    if (!current) return null;
    return rows().filter(function (r) { return r.getAttribute("data-number") === current; })[0] || null;
  }
  function mark(row) {
    rows().forEach(function (r) { r.classList.remove("kb-current"); r.removeAttribute("aria-current"); });
    if (!row) { current = null; return; }
    row.classList.add("kb-current");
    row.setAttribute("aria-current", "true");
    current = row.getAttribute("data-number");
    row.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var list = rows();
    if (!list.length) return;
    var i = list.indexOf(currentRow());
    i = i < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(Math.max(i + step, 0), list.length - 1);
    mark(list[i]);
  }
  function typing(e) {
    var el = e.target;
    return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function flash(kind, text) {
    var area = document.getElementById("flash");
    if (!area) return;
    var box = document.createElement("div");
    box.className = "flash " + kind;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.textContent = text;
    area.innerHTML = "";
    area.appendChild(box);
  }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (err) { return ""; }
  }
  function refresh() {
    var queue = document.getElementById("queue");
    if (queue && window.htmx) {
      window.htmx.ajax("GET", queue.getAttribute("hx-get"), { target: "#queue", select: "#queue", swap: "outerHTML" });
    }
  }
  // The same action the complaint page posts (with the CSRF token); the server decides
  // whether it is allowed and says why not.
  function accept() {
    var row = currentRow();
    if (!row) { flash("error", help.getAttribute("data-none")); return; }
    var number = current, token = csrf(), body = new URLSearchParams();
    body.set("csrf_token", token);
    body.set("action", "accept");
    fetch("/complaints/" + encodeURIComponent(number) + "/act", {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRF-Token": token },
    }).then(function (r) {
      if (r.ok) {
        flash("ok", help.getAttribute("data-accepted").replace("{number}", number));
        refresh();
        return;
      }
      return r.text().then(function (html) {
        var area = document.getElementById("flash");
        if (area) area.innerHTML = html; // the server's own message (escaped by its template)
      });
    }).catch(function () { flash("error", help.getAttribute("data-failed")); });
  }
  var before = null; // where the focus was before the list opened
  function showHelp(on) {
    if (on) before = document.activeElement;
    help.hidden = !on;
    if (on) help.querySelector("[data-close]").focus();
    else if (before && before.focus && before !== document.body) before.focus();
    else if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (!help.hidden) {
      if (e.key === "Escape" || e.key === "?") { e.preventDefault(); showHelp(false); }
      return;
    }
    if (typing(e)) {
      if (e.key === "Escape" && e.target.blur) e.target.blur();
      return;
    }
    switch (e.key) {
      case "j": e.preventDefault(); move(1); break;
      case "k": e.preventDefault(); move(-1); break;
      case "Enter": {
        if (/^(A|BUTTON)$/.test(e.target.tagName)) break; // a focused link or button acts itself
        var row = currentRow(), link = row && row.querySelector("a[href]");
        if (link) { e.preventDefault(); window.location.href = link.getAttribute("href"); }
        break;
      }
      case "a": e.preventDefault(); accept(); break;
      case "/": {
        var q = document.getElementById("q");
        if (q) { e.preventDefault(); q.focus(); q.select(); }
        break;
      }
      case "?": e.preventDefault(); showHelp(true); break;
    }
  });
  help.addEventListener("click", function (e) {
    if (e.target === help || e.target.closest("[data-close]")) showHelp(false);
  });
  document.addEventListener("htmx:afterSwap", function () { if (current) mark(currentRow()); });
})();
