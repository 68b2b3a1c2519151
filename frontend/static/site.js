// Huchu event experience: the event from the URL, local dates, share cards, the big screen
// and the organiser's page. Runs after app.js (both deferred, in order).
(function () {
  "use strict";
  var meta = function (n) { var m = document.querySelector('meta[name="' + n + '"]'); return m ? m.content : ""; };
  var API = meta("huchu-api").replace(/\/$/, "");
  var LANG = meta("huchu-lang") || "ko";
  var body = document.body;
  var TEXT = JSON.parse(body.dataset.text || "{}");
  var params = new URLSearchParams(location.search);
  var EVENT = params.get("event") || "";
  var ADMIN_KEY = "huchu-admin";
  function api(path) { return /^https?:/.test(path) ? path : API + path; }
  function owner() { return localStorage.getItem("huchu-owner") || ""; }
  function say(text, kind) {
    var box = document.getElementById("messages");
    box.innerHTML = '<div class="' + (kind || "error") + '" role="' + (kind ? "status" : "alert") + '"><strong></strong></div>';
    box.querySelector("strong").textContent = text;
  }

  document.body.addEventListener("htmx:configRequest", function (e) {
    var ev = EVENT || "default";
    e.detail.path = e.detail.path.replace("{event}", encodeURIComponent(ev));
    if (EVENT && e.detail.verb === "get" && e.detail.parameters && !e.detail.parameters.event && e.detail.path.indexOf("event=") < 0) {
      e.detail.parameters.event = EVENT;
    }
  });
  // "Mine" with no owner token yet: nothing of mine exists, so ask for nothing.
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    var cfg = e.detail.requestConfig || {};
    var p = cfg.parameters || {};
    var mine = p.mine === "true" || /[?&]mine=true/.test(cfg.path || "");
    if (mine && !owner()) {
      e.preventDefault();
      e.detail.target.innerHTML = '<p class="empty"></p>';
      e.detail.target.querySelector("p").textContent = TEXT.mine_empty;
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (e) { decorate(e.detail.target); });
  // Polled averages: swap only when the version moved, so pictures are not fetched again.
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    var now = e.detail.target.querySelector("[data-version]");
    var next = /data-version="(\d+)"/.exec(e.detail.serverResponse || "");
    if (now && next && now.dataset.version === next[1] && e.detail.target.querySelector(".averages")) e.detail.shouldSwap = false;
  });
  document.body.addEventListener("click", function (e) {
    var share = e.target.closest && e.target.closest(".share-card");
    if (share) shareCard(share);
    var tab = e.target.closest && e.target.closest(".tabs button");
    if (tab) tab.parentNode.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-pressed", String(b === tab)); });
  });
  document.body.addEventListener("toggle", function (e) { if (e.target.matches && e.target.matches("details[data-src]")) openDetails(e.target); }, true);

  function decorate(root) {
    // Links keep the event; the other language keeps the whole address (id and event).
    root.querySelectorAll("a[data-keep-event]").forEach(function (a) {
      if (!EVENT || a.dataset.kept) return;
      var url = new URL(a.getAttribute("href"), location.href);
      url.searchParams.set("event", EVENT);
      a.setAttribute("href", url.pathname.split("/").pop() + url.search);
      a.dataset.kept = "1";
    });
    var lang = document.getElementById("lang-switch");
    if (lang && !lang.dataset.kept) { lang.href = lang.getAttribute("href") + location.search; lang.dataset.kept = "1"; }
    var fmt = new Intl.DateTimeFormat(LANG === "ko" ? "ko-KR" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
    root.querySelectorAll("time[data-local]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) t.textContent = fmt.format(d);
    });
    if (body.dataset.page === "screen") root.querySelectorAll("details.timeline").forEach(function (d) { d.open = true; openDetails(d); });
  }

  // Timelines and a face's original photo are fetched only when someone opens them.
  function openDetails(details) {
    var img = details.querySelector("img");
    if (details.open && img && !img.getAttribute("src")) img.src = details.dataset.src;
  }

  function shareCard(button) {
    var id = button.dataset.faceId;
    button.disabled = true;
    fetch(api("/api/faces/" + id + "/card.jpg?lang=" + LANG)).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.blob();
    }).then(function (blob) {
      var file = new File([blob], "huchu-" + id.slice(0, 8) + ".jpg", { type: "image/jpeg" });
      if (navigator.canShare && navigator.canShare({ files: [file] })) {
        return navigator.share({ files: [file], title: TEXT.title }).catch(function () {});
      }
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = file.name;
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }).catch(function () { say((JSON.parse(body.dataset.messages || "{}")).unavailable || ""); })
      .then(function () { button.disabled = false; });
  }

  function showEventName() {
    var el = document.getElementById("event-name");
    if (!EVENT || !el || body.dataset.page === "screen") return;
    el.textContent = "\u00a0";  // hold the line now, so the name arriving moves nothing
    el.style.visibility = "hidden";
    el.hidden = false;
    fetch(api("/api/events/" + encodeURIComponent(EVENT))).then(function (r) {
      if (r.status === 404) { say((JSON.parse(body.dataset.messages || "{}")).not_found || ""); return null; }
      return r.ok ? r.json() : null;
    }).then(function (ev) {
      if (!ev) return;
      el.textContent = ev.name;
      el.style.visibility = "";
      if (!ev.open && body.dataset.page === "index") say(TEXT.event_closed);
    });
  }

  var pages = {
    screen: function () {
      document.getElementById("screen-qr").src = api("/api/events/" + encodeURIComponent(EVENT || "default") + "/qr.svg");
    },
    admin: function () {
      var tokenForm = document.getElementById("token-form");
      var tools = document.getElementById("admin-tools");
      localStorage.removeItem(ADMIN_KEY);  // where earlier versions kept it, for good
      var token = function () { return sessionStorage.getItem(ADMIN_KEY) || ""; };
      var show = function () { tokenForm.hidden = !!token(); tools.hidden = !token(); };
      show();
      tokenForm.addEventListener("submit", function (e) {
        e.preventDefault();
        sessionStorage.setItem(ADMIN_KEY, document.getElementById("admin-token").value.trim());
        document.getElementById("admin-token").value = "";
        show();
      });
      document.getElementById("forget-token").addEventListener("click", function () { sessionStorage.removeItem(ADMIN_KEY); show(); });
      var call = function (method, path, json) {
        return fetch(api(path), {
          method: method,
          headers: Object.assign({ Authorization: "Bearer " + token() }, json ? { "Content-Type": "application/json" } : {}),
          body: json ? JSON.stringify(json) : undefined,
        }).then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); }).then(function (res) {
          if (res[0] >= 400) {
            var box = document.getElementById("messages");
            say((JSON.parse(body.dataset.messages || "{}"))[res[1].error.code] || res[1].error.code);
            box.firstChild.dataset.code = res[1].error.code;
            throw new Error(res[1].error.code);
          }
          return res[1];
        });
      };
      var slug = document.getElementById("event-slug");
      if (EVENT) slug.value = EVENT;
      var local = function (v) { return v ? new Date(v).toISOString() : null; };
      document.getElementById("event-form").addEventListener("submit", function (e) {
        e.preventDefault();
        call("PUT", "/api/events/" + encodeURIComponent(slug.value), {
          name: document.getElementById("event-title").value,
          starts_at: local(document.getElementById("event-starts").value),
          ends_at: local(document.getElementById("event-ends").value),
          open: document.getElementById("event-open").checked,
        }).then(function (ev) { say(TEXT.saved, "notice"); poster(ev); });
      });
      document.getElementById("recompute-button").addEventListener("click", function () {
        call("POST", "/api/averages/recompute?event=" + encodeURIComponent(slug.value || "default")).then(function () { say(TEXT.saved, "notice"); });
      });
      document.getElementById("print-poster").addEventListener("click", function () { window.print(); });
      function poster(ev) {
        document.getElementById("poster-name").textContent = ev.name;
        document.getElementById("poster-qr").src = api("/api/events/" + ev.event + "/qr.svg");
        var link = new URL("index.html" + (ev.event === "default" ? "" : "?event=" + ev.event), location.href);
        document.getElementById("poster-link").textContent = link.href;
        document.getElementById("poster").hidden = false;
      }
    },
  };

  document.addEventListener("DOMContentLoaded", function () {
    decorate(document);
    showEventName();
    if (pages[body.dataset.page]) pages[body.dataset.page]();
  });
})();
