// Huchu page logic: owner token, API origin, in-browser downscale, progress, errors.
(function () {
  "use strict";
  var meta = function (n) { var m = document.querySelector('meta[name="' + n + '"]'); return m ? m.content : ""; };
  var API = meta("huchu-api").replace(/\/$/, "");
  var LANG = meta("huchu-lang") || "ko";
  var body = document.body;
  var MESSAGES = JSON.parse(body.dataset.messages || "{}");
  var TEXT = JSON.parse(body.dataset.text || "{}");
  var OWNER_KEY = "huchu-owner";

  var EVENT = new URLSearchParams(location.search).get("event") || "";
  function owner() { return localStorage.getItem(OWNER_KEY) || ""; }
  function api(path) { return /^https?:/.test(path) ? path : API + path; }

  function showError(code, message, human) {
    var box = document.getElementById("messages");
    var text = human || MESSAGES[code] || MESSAGES.internal || code;
    box.innerHTML = '<div class="error" role="alert" data-code="' + code + '"><strong></strong><small></small></div>';
    box.querySelector("strong").textContent = text;
    // Details are for English readers only: the server writes them in English.
    box.querySelector("small").textContent = LANG === "en" ? message || "" : "";
  }
  function clearError() { document.getElementById("messages").innerHTML = ""; }

  // Deferred scripts run in order before DOMContentLoaded: htmx is loaded, and
  // these hooks are in place before htmx fires any "load" trigger.
  (function () {
    // htmx 2 refuses other origins unless told otherwise; the site and API may differ.
    htmx.config.selfRequestsOnly = false;
    htmx.config.withCredentials = false;
    // The pages' policy allows no inline style: htmx's own indicator <style> would be refused.
    htmx.config.includeIndicatorStyles = false;
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[45]..", swap: true, error: true },
    ];
    document.body.addEventListener("htmx:configRequest", function (e) {
      e.detail.path = api(e.detail.path);
      e.detail.headers["X-Huchu-Lang"] = LANG;
      if (owner()) e.detail.headers["X-Huchu-Owner"] = owner();
    });
    document.body.addEventListener("htmx:sendError", function () { showError("unavailable", ""); });
  })();
  document.addEventListener("DOMContentLoaded", function () {
    init[body.dataset.page] && init[body.dataset.page]();
  });

  // Photos leave the phone as JPEG, at most 1600 px on the longer side.
  function downscale(file, maxSide) {
    return new Promise(function (resolve) {
      if (!file.type || file.type.indexOf("image/") !== 0) return resolve(file);
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, maxSide / Math.max(img.naturalWidth, img.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(img.naturalWidth * scale);
        canvas.height = Math.round(img.naturalHeight * scale);
        var g = canvas.getContext("2d");
        g.fillStyle = "#fff";  // JPEG has no alpha: transparent corners become white, not black
        g.fillRect(0, 0, canvas.width, canvas.height);
        g.drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", 0.9);
      };
      img.onerror = function () { URL.revokeObjectURL(url); resolve(file); };  // let the server say why
      img.src = url;
    });
  }

  function request(method, url, payload, headers, progress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      if (progress) xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) progress.value = Math.round(90 * ev.loaded / ev.total); };
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = function () { reject(xhr); };
      xhr.send(payload);
    });
  }
  function apiHeaders() {
    var h = { "HX-Request": "true", "X-Huchu-Lang": LANG };
    if (owner()) h["X-Huchu-Owner"] = owner();
    return h;
  }
  function formData(fields) {
    var data = new FormData();
    Object.keys(fields).forEach(function (k) { data.append(k, fields[k]); });
    return data;
  }

  // Direct-to-bucket upload, used whenever the API offers it: a presigned PUT of the photo
  // to a staging key, then processing. Resolves with the final answer, or null when the API
  // has no /api/uploads (the multipart POST is used then).
  function direct(blob, fields, progress) {
    var h = apiHeaders();
    h["Content-Type"] = "application/json";
    var start = JSON.stringify({ event: fields.event || "default", content_type: blob.type || "image/jpeg", size: blob.size });
    return request("POST", api("/api/uploads"), start, h).then(function (xhr) {
      if (xhr.status === 404 || xhr.status === 405) return null;
      if (xhr.status !== 201) return xhr;  // too large, not an image, rate limited: say why
      var ticket = JSON.parse(xhr.responseText);
      var url = ticket.url.charAt(0) === "/" ? api(ticket.url) : ticket.url;
      return request("PUT", url, blob, ticket.headers, progress).then(function (put) {
        if (put.status < 200 || put.status >= 300) return Promise.reject(put);
        return request("POST", api("/api/uploads/" + ticket.upload_id + "/process"), formData(fields), apiHeaders());
      });
    });
  }

  function postForm(form) {
    var busy = false;
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (busy) return;  // a double tap sends one photo
      clearError();
      var target = document.querySelector(form.dataset.target);
      target.innerHTML = "";  // an old result never sits under a new file
      var consent = form.querySelector('[name="consent"]');
      if (consent && !consent.checked) return showError("bad_request", "", TEXT.need_consent);
      var input = form.querySelector('input[type="file"]');
      var file = input.files[0];
      if (!file) return showError("bad_request", "");
      var progress = form.querySelector("progress");
      var button = form.querySelector('button[type="submit"]');
      busy = true; button.disabled = true;
      downscale(file, 1600).then(function (blob) {
        var fields = {};
        if (consent) fields.consent = "true";
        var title = form.querySelector('[name="title"]');
        if (title && title.value) fields.title = title.value;
        if (EVENT && !form.dataset.noEvent) fields.event = EVENT;
        progress.hidden = false; progress.value = 0; button.disabled = true;
        var viaBucket = form.dataset.direct === "true" ? direct(blob, fields, progress) : Promise.resolve(null);
        return viaBucket.then(function (xhr) {
          if (xhr) return xhr;
          var data = formData(fields);
          data.append("file", blob, (file.name || "photo").replace(/\.[^.]+$/, "") + (blob === file ? "" : ".jpg"));
          return request("POST", api(form.dataset.endpoint), data, apiHeaders(), progress);
        }).then(function (xhr) {
          progress.value = 100; progress.hidden = true; button.disabled = false; busy = false;
          var token = xhr.getResponseHeader("X-Huchu-Owner-Token");
          if (token) localStorage.setItem(OWNER_KEY, token);
          if (xhr.status >= 200 && xhr.status < 300) {
            target.innerHTML = xhr.responseText;
            htmx.process(target);
            form.reset();  // the next photo starts clean: no old title, no old file
            target.scrollIntoView({ behavior: "smooth", block: "start" });
          } else {
            document.getElementById("messages").innerHTML = xhr.responseText;
          }
        }, function () { progress.hidden = true; button.disabled = false; busy = false; showError("unavailable", ""); });
      });
    });
  }

  var CY_SHEET = "__________cytoscape_stylesheet";
  function drawGraph(graph) {
    var el = document.getElementById("graph");
    if (!window.cytoscape || !el) return;
    var elements = graph.nodes.map(function (n) {
      return { data: { id: n.id, image: n.portrait_url || "", gender: n.gender || "" } };
    }).concat(graph.edges.map(function (e) {
      return { data: { id: e.source + "-" + e.target, source: e.source, target: e.target, score: e.score } };
    }));
    var lo = graph.min_score, span = Math.max(1e-6, 1 - lo);
    // cytoscape adds an inline <style> unless an element with this id exists, and the pages'
    // policy refuses inline styles: its one rule is in huchu.css instead.
    if (!document.getElementById(CY_SHEET)) {
      var mark = document.createElement("meta");
      mark.id = CY_SHEET;
      document.head.appendChild(mark);
    }
    var cy = cytoscape({
      container: el, elements: elements, layout: { name: "cose", animate: false },
      style: [
        { selector: "node", style: { width: 44, height: 56, shape: "round-rectangle", "background-image": "data(image)",
          "background-fit": "cover", "border-width": 3, "border-color": "#28c850" } },
        { selector: 'node[gender = "female"]', style: { "border-color": "#ff69b4" } },
        { selector: "edge", style: { width: function (e) { return 1 + 7 * (e.data("score") - lo) / span; }, "line-color": "#999", opacity: 0.7 } },
      ],
    });
    cy.on("tap", "node", function (e) { location.href = "face.html?id=" + e.target.id() + (EVENT ? "&event=" + encodeURIComponent(EVENT) : ""); });
    el.dataset.drawn = String(graph.nodes.length);
  }

  // Six degrees of look-alike: thumbnails of the event's faces; a tap shows the chain.
  function pickOther(id) {
    fetch(api("/api/faces/" + id)).then(function (r) { return r.json(); }).then(function (face) {
      var event = (face.photo && face.photo.event) || "default";
      return fetch(api("/api/faces?limit=24&event=" + encodeURIComponent(event)));
    }).then(function (r) { return r.json(); }).then(function (page) {
      var box = document.getElementById("pick");
      if (!box) return;
      page.items.forEach(function (f) {
        if (f.face_id === id) return;
        var b = document.createElement("button");
        b.type = "button";
        b.dataset.faceId = f.face_id;
        b.setAttribute("aria-label", TEXT.chain || "chain");
        b.innerHTML = '<img alt="" width="45" height="60">';
        b.querySelector("img").src = f.portrait_url || "";
        b.addEventListener("click", function () {
          clearError();
          htmx.ajax("GET", "/api/faces/" + id + "/path/" + f.face_id, { source: "#path", target: "#path" });
        });
        box.appendChild(b);
      });
    });
  }

  var init = {
    index: function () { postForm(document.getElementById("upload-form")); },
    lookalike: function () { postForm(document.getElementById("lookalike-form")); },
    face: function () {
      var id = new URLSearchParams(location.search).get("id");
      var more = document.getElementById("face-more");
      var missing = function () { more.hidden = true; showError("not_found", "", TEXT.no_face_id); };
      if (!id) return missing();
      // One request: the face's fragment, or a 404 that says the face is gone.
      var headers = { "HX-Request": "true", "X-Huchu-Lang": LANG };
      fetch(api("/api/faces/" + encodeURIComponent(id)), { headers: headers }).then(function (r) {
        if (!r.ok) return missing();
        return r.text().then(function (html) {
          var detail = document.getElementById("face-detail");
          detail.innerHTML = html;
          htmx.process(detail);
          htmx.trigger(document.body, "htmx:afterSwap", { target: detail });
          // Watch for the graph only once the look-alikes above it are in place.
          // One source element per request: htmx keeps only the last request queued on one.
          htmx.ajax("GET", "/api/faces/" + id + "/similar?limit=12", { source: "#similar", target: "#similar" })
            .then(function () { lazyGraph(id); });
          htmx.ajax("GET", "/api/faces/" + id + "/family?limit=12", { source: "#family", target: "#family" });
          pickOther(id);
        });
      }, function () { showError("unavailable", ""); });
    },
  };

  // cytoscape (the largest script) loads only when the graph scrolls into view.
  function lazyGraph(id) {
    var el = document.getElementById("graph");
    var start = function () {
      var s = document.createElement("script");
      s.src = body.dataset.cytoscape;
      s.onload = function () {
        fetch(api("/api/faces/" + id + "/graph")).then(function (r) { return r.ok ? r.json() : null; })
          .then(function (g) { if (g && g.nodes) drawGraph(g); });
      };
      document.head.appendChild(s);
    };
    if (!("IntersectionObserver" in window)) return start();
    var seen = new IntersectionObserver(function (entries) {
      if (entries.some(function (x) { return x.isIntersecting; })) { seen.disconnect(); start(); }
    });
    seen.observe(el);
  }
})();
