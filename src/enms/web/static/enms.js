/* enms dashboard: the small shared toolkit every page script uses (no framework).
 *
 *   enms.api(method, url, body)  -> Promise of the JSON reply; rejects (4xx/5xx) with an
 *                                   Error: message = the API's error.message (show it),
 *                                   .status, .code, .details, .body (the whole reply).
 *   enms.getJSON(url)            -> enms.api("GET", url)
 *   enms.toast(message, kind)    kind: "info" | "ok" | "error"; returns the element
 *   enms.confirm({title, text, confirmLabel, note})
 *                                -> Promise of null (cancelled) or {note: string}
 *   enms.busy(button, promiseFn) spinner + disabled while the request is in flight only
 *   enms.poll(fn, ms)            calls fn every ms (no overlap, paused while the tab is
 *                                hidden); returns {stop()}
 *   enms.plot(el, traces, layout) plotly with the house layout (colour-blind palette)
 *   enms.colors                  Okabe–Ito palette by role
 *   enms.fmt.num(x, digits) / fmt.pct(x) / fmt.time(iso) / fmt.date(iso) / fmt.ago(iso, nowIso)
 *   enms.esc(text)               HTML-escape for innerHTML templates
 *   enms.qs(params)              query string from an object, skipping empty values
 * Live parts update by fetching JSON; no page ever reloads itself.
 */
(function () {
  "use strict";

  var colors = {
    // Okabe–Ito: distinguishable with the common colour-vision deficiencies.
    blue: "#0072B2", orange: "#E69F00", green: "#009E73", vermillion: "#D55E00",
    sky: "#56B4E9", purple: "#CC79A7", yellow: "#F0E442", black: "#000000", grey: "#7f7f7f",
    actual: "#000000", expected: "#0072B2", forecast: "#E69F00", anomaly: "#D55E00",
    band: "rgba(230,159,0,0.18)", drift: "#D55E00", version: "#7f7f7f",
    seq: ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"],
  };

  // The API's one error format: {"error": {"code", "message", "details"}}; validation
  // errors list their problems in details.problems (location + problem).
  function detailOf(body, status) {
    var e = body && typeof body === "object" ? body.error : null;
    if (e && typeof e.message === "string") {
      var problems = e.details && Array.isArray(e.details.problems) ? e.details.problems : [];
      if (problems.length > 1) {
        return "invalid request: " + problems.map(function (p) {
          return (p.location ? p.location + ": " : "") + p.problem;
        }).join("; ");
      }
      return e.message;
    }
    if (typeof body === "string" && body && body.length < 300) return body;
    return "HTTP " + status;
  }

  function api(method, url, body) {
    var init = { method: method, headers: { "accept": "application/json" } };
    var csrf = document.querySelector('meta[name="csrf-token"]');
    if (csrf && method !== "GET") init.headers["x-csrf-token"] = csrf.getAttribute("content");
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      var ct = res.headers.get("content-type") || "";
      var parsed = ct.indexOf("json") >= 0 ? res.json() : res.text();
      return parsed.then(function (data) {
        if (!res.ok) {
          var err = new Error(detailOf(data, res.status));
          err.status = res.status;
          err.body = data;
          err.code = data && data.error ? data.error.code : undefined;
          err.details = data && data.error ? data.error.details || {} : {};
          throw err;
        }
        return data;
      });
    });
  }

  function toast(message, kind) {
    var box = document.getElementById("toasts");
    var el = document.createElement("div");
    el.className = "toast toast-" + (kind || "info");
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    el.innerHTML = '<span class="toast-icon" aria-hidden="true">' +
      (kind === "error" ? "!" : kind === "ok" ? "✓" : "i") + "</span>";
    var text = document.createElement("span");
    text.textContent = message;
    el.appendChild(text);
    var close = document.createElement("button");
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { el.remove(); });
    el.appendChild(close);
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, kind === "error" ? 12000 : 6000);
    return el;
  }

  function confirmDialog(opts) {
    var dlg = document.getElementById("confirm-dialog");
    document.getElementById("confirm-title").textContent = opts.title || "Are you sure?";
    document.getElementById("confirm-text").textContent = opts.text || "";
    document.getElementById("confirm-ok").textContent = opts.confirmLabel || "Confirm";
    var noteLabel = document.getElementById("confirm-note-label");
    var note = document.getElementById("confirm-note");
    noteLabel.hidden = !opts.note;
    note.value = "";
    note.required = opts.note === "required";
    return new Promise(function (resolve) {
      function done() {
        dlg.removeEventListener("close", done);
        resolve(dlg.returnValue === "ok" ? { note: note.value.trim() } : null);
      }
      dlg.addEventListener("close", done);
      dlg.returnValue = "";
      dlg.showModal();
      (opts.note ? note : document.getElementById("confirm-ok")).focus();
    });
  }

  function busy(button, fn) {
    if (button.disabled) return Promise.resolve();
    button.disabled = true;
    button.classList.add("busy");
    button.setAttribute("aria-busy", "true");
    return Promise.resolve().then(fn).finally(function () {
      button.disabled = false;
      button.classList.remove("busy");
      button.removeAttribute("aria-busy");
    });
  }

  function poll(fn, ms) {
    var timer = null, stopped = false;
    function tick() {
      if (stopped) return;
      if (document.hidden) { timer = setTimeout(tick, ms); return; }
      Promise.resolve().then(fn).catch(function (e) {
        if (window.console) console.warn("enms poll:", e && e.message);
      }).finally(function () {
        if (!stopped) timer = setTimeout(tick, ms);
      });
    }
    timer = setTimeout(tick, ms);
    return { stop: function () { stopped = true; clearTimeout(timer); } };
  }

  function plot(el, traces, layout, config) {
    if (typeof el === "string") el = document.getElementById(el);
    var base = {
      margin: { l: 56, r: 16, t: 28, b: 40 },
      font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#1d2430" },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#ffffff",
      colorway: colors.seq, hovermode: "x unified",
      legend: { orientation: "h", y: -0.18 },
      xaxis: { gridcolor: "#eef1f4" }, yaxis: { gridcolor: "#eef1f4", zeroline: false },
    };
    var merged = Object.assign({}, base, layout || {});
    var cfg = Object.assign({ displaylogo: false, responsive: true }, config || {});
    return window.Plotly.react(el, traces, merged, cfg);
  }

  function esc(text) {
    return String(text === null || text === undefined ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  var fmt = {
    num: function (x, digits) {
      if (x === null || x === undefined || !isFinite(x)) return "—";
      return Number(x).toLocaleString("en", { maximumSignificantDigits: digits || 3 });
    },
    pct: function (x) {
      return x === null || x === undefined || !isFinite(x) ? "—" : Number(x).toFixed(1) + " %";
    },
    time: function (iso) {
      if (!iso) return "—";
      var d = new Date(iso);
      return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    },
    date: function (iso) { return iso ? new Date(iso).toISOString().slice(0, 10) : "—"; },
    // Age of `iso` at `nowIso` (the server's "now" from the page data; default: the
    // browser's clock). A time after it (another clock's stamp) has no age: "".
    ago: function (iso, nowIso) {
      if (!iso) return "—";
      var ref = nowIso ? new Date(nowIso).getTime() : Date.now();
      var s = (ref - new Date(iso).getTime()) / 1000;
      if (s < 0) return "";
      if (s < 5) return "just now";
      if (s < 90) return Math.round(s) + " s ago";
      if (s < 5400) return Math.round(s / 60) + " min ago";
      if (s < 129600) return Math.round(s / 3600) + " h ago";
      return Math.round(s / 86400) + " d ago";
    },
  };

  function qs(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v !== null && v !== undefined && v !== "") parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v));
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  // The Visualizations menu closes on a click elsewhere and on Escape.
  document.addEventListener("click", function (ev) {
    document.querySelectorAll(".topbar details[open]").forEach(function (d) {
      if (!d.contains(ev.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    document.querySelectorAll(".topbar details[open]").forEach(function (d) {
      d.removeAttribute("open");
      d.querySelector("summary").focus();
    });
  });

  window.enms = {
    api: api, getJSON: function (url) { return api("GET", url); }, toast: toast,
    confirm: confirmDialog, busy: busy, poll: poll, plot: plot, colors: colors, esc: esc,
    fmt: fmt, qs: qs,
  };
})();
