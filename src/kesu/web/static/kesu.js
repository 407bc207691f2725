// kesu pages: countdowns to deadlines, Ctrl+Enter, the queue's remembered filters.
// No build step, no framework. (The queue's shortcuts: queue-keys.js.)
(function () {
  "use strict";
  var zh = (document.documentElement.lang || "zh").indexOf("zh") === 0;

  function span(ms) {
    var m = Math.floor(Math.abs(ms) / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60);
    m = m % 60;
    if (zh) return (d ? d + "天" : "") + (d || h ? h + "小时" : "") + (d ? "" : m + "分");
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d ? "" : m + "m");
  }

  // <span class="countdown" data-due="2026-11-30T10:00:00+00:00"> → "剩 1天2小时" coloured by urgency.
  function countdowns(root) {
    var now = Date.now();
    (root || document).querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now, cls;
      if (el.hasAttribute("data-met")) return;
      if (left < 0) {
        cls = "breached";
        el.textContent = (zh ? "超期 " : "overdue ") + span(left);
      } else {
        cls = left < 4 * 3600e3 ? "danger" : left < 24 * 3600e3 ? "warn" : "ok";
        el.textContent = (zh ? "剩 " : "") + span(left) + (zh ? "" : " left");
      }
      el.classList.remove("ok", "warn", "danger", "breached");
      el.classList.add(cls);
      el.title = new Date(due).toLocaleString(zh ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai" });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { countdowns(); });
  document.addEventListener("htmx:afterSwap", function (e) { countdowns(e.target); });
  setInterval(countdowns, 30000);

  // Ctrl+Enter submits the form being typed in (the hotline form is keyboard-first).
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var form = e.target.form || document.querySelector("form[data-hotkey-submit]");
    if (form) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  // A server error on an htmx request shows in the flash area, never silently.
  document.addEventListener("htmx:responseError", function (e) {
    var flash = document.getElementById("flash");
    if (flash && e.detail.xhr && e.detail.xhr.status >= 500) {
      flash.innerHTML = '<div class="flash error" role="alert">' +
        (zh ? "服务器出错，请稍后重试。" : "Server error, please retry.") + "</div>";
    }
  });
  // The queue keeps its filters: its address (view, filters, sort) is remembered for the
  // tab, and the links back to it (the nav's 工作台, a complaint's 返回队列) lead there.
  var QUEUE_KEY = "kesu.queue";
  function rememberQueue() {
    if (location.pathname === "/workbench") {
      try { sessionStorage.setItem(QUEUE_KEY, location.search); } catch (err) { /* private mode */ }
    }
  }
  function queueLinks() {
    var saved = null;
    try { saved = sessionStorage.getItem(QUEUE_KEY); } catch (err) { return; }
    if (!saved) return;
    document.querySelectorAll('a[href="/workbench"], a[data-queue-link]').forEach(function (a) {
      a.setAttribute("href", "/workbench" + saved);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { rememberQueue(); queueLinks(); });
  document.addEventListener("htmx:pushedIntoHistory", rememberQueue);
  window.addEventListener("popstate", rememberQueue);
  window.kesuCountdowns = countdowns;
})();
