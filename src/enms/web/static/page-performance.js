/* Model performance page: selectors (kept in the URL with replaceState, never a reload),
 * trend charts from /ui/api/performance/trend (version changes, drift markers, projection,
 * threshold drawn on them), the side panels and the job list from
 * /ui/api/performance/panel (polled: every 2 s while a job is pending or running, else
 * every 10 s), and "Trigger retraining" through the public trigger API with a confirmation,
 * inline feedback and toasts. */
(function () {
  "use strict";
  var E = window.enms;
  var dataEl = document.getElementById("page-data");
  var form = document.getElementById("selection");
  if (!dataEl || !form) return; // no machines: the page says what to do
  var page = JSON.parse(dataEl.textContent);
  var sel = Object.assign({}, page.selection);
  var FAST_MS = 2000, SLOW_MS = 10000;
  var lastPanelAt = 0, activeJobs = false, knownStatus = {}, loadSeq = 0;
  var machineName = {}, hasChampion = true, trendEmpty = false;
  page.machines.forEach(function (m) { machineName[m.id] = m.name; });
  var TYPE_LABEL = { baseline: "baseline", anomaly: "anomaly detector",
    forecast_arima: "ARIMA forecaster", forecast_prophet: "Prophet forecaster" };

  function $(id) { return document.getElementById(id); }
  // The API's errors are {"error": {"message"}}: show that message.
  function why(e) { return (e && e.message) || String(e); }
  function plotDate(t) { return new Date(t * 1000).toISOString().slice(0, 19).replace("T", " "); }
  function unitText(v, unit) { return unit === "%" ? E.fmt.num(v, 4) + " %" : E.fmt.num(v, 4); }

  // ---- charts ---------------------------------------------------------------------------
  function versionShapes(trend) {
    var shapes = [], notes = [];
    trend.version_changes.forEach(function (c) {
      shapes.push({ type: "line", xref: "x", yref: "paper", x0: plotDate(c.t), x1: plotDate(c.t), y0: 0, y1: 1,
        line: { color: E.colors.version, width: 1.5, dash: "dash" } });
      notes.push({ x: plotDate(c.t), y: 1, xref: "x", yref: "paper", yanchor: "bottom", showarrow: false,
        text: (c.action === "rollback" ? "↩ " : "") + "v" + c.to, font: { size: 11, color: "#444" } });
    });
    return { shapes: shapes, annotations: notes };
  }

  function seriesTraces(s, trend, main) {
    var x = s.t.map(plotDate);
    var traces = [];
    var merged = s.n.some(function (n) { return n > 1; });
    if (merged && main) {
      traces.push({ x: x, y: s.hi, type: "scatter", mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false });
      traces.push({ x: x, y: s.lo, type: "scatter", mode: "lines", line: { width: 0 }, fill: "tonexty",
        fillcolor: "rgba(0,114,178,0.15)", name: "bucket min–max", hoverinfo: "skip" });
    }
    traces.push({ x: x, y: s.v, type: "scatter", mode: s.v.length > 120 ? "lines" : "lines+markers",
      name: s.label + (merged ? " (bucket mean)" : ""), line: { color: E.colors.blue, width: 1.8 },
      marker: { size: 4 }, customdata: s.ver,
      hovertemplate: "%{y:.4g}" + (s.unit === "%" ? " %" : "") + " · v%{customdata}<extra></extra>" });
    var p = s.projection;
    if (p && main) {
      var last = x[x.length - 1], lastV = s.v[s.v.length - 1];
      traces.push({ x: [last, plotDate(p.at), plotDate(p.at), last], y: [lastV, p.high, p.low, lastV],
        type: "scatter", mode: "lines", fill: "toself", fillcolor: E.colors.band, line: { width: 0 },
        name: "projection range", hoverinfo: "skip" });
      traces.push({ x: [last, plotDate(p.at)], y: [lastV, p.value], type: "scatter", mode: "lines",
        line: { color: E.colors.forecast, dash: "dash", width: 2 }, name: "projection",
        hovertemplate: "projected %{y:.4g}<extra></extra>" });
    }
    if (trend.drift.t.length) {
      traces.push({ x: trend.drift.t.map(plotDate), y: trend.drift.t.map(function () { return 1; }),
        yaxis: "y2", type: "scatter", mode: "markers", name: "drift found",
        marker: { symbol: "x-thin-open", size: 9, color: E.colors.drift, line: { width: 2, color: E.colors.drift } },
        text: trend.drift.summary.map(function (i, k) {
          return trend.drift_summaries[i] + " (v" + trend.drift.version[k] + ")";
        }), hovertemplate: "drift: %{text}<extra></extra>", showlegend: main });
    }
    return traces;
  }

  var NON_NEGATIVE = { rmse: 1, mae: 1, mape: 1, cv_rmse: 1, precision: 1, recall: 1, f1: 1 };

  // The y range the data and the threshold need (a projection's band is clipped to it, so a
  // long extrapolation cannot squash the measured series).
  function yRange(s, th, main) {
    var lo = Math.min.apply(null, s.lo), hi = Math.max.apply(null, s.hi);
    if (th && typeof th.value === "number") { lo = Math.min(lo, th.value); hi = Math.max(hi, th.value); }
    if (main && s.projection) {
      var pv = NON_NEGATIVE[s.metric] ? Math.max(0, s.projection.value) : s.projection.value;
      lo = Math.min(lo, pv); hi = Math.max(hi, pv);
    }
    var pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
    lo -= pad; hi += pad;
    if (NON_NEGATIVE[s.metric] && lo < 0) lo = Math.min(0, s.lo.length ? Math.min.apply(null, s.lo) : 0);
    return [lo, hi];
  }

  function drawChart(el, s, trend, main) {
    var marks = versionShapes(trend);
    var th = s.projection && s.projection.threshold;
    if (th && typeof th.value === "number") {
      marks.shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: th.value, y1: th.value,
        line: { color: E.colors.vermillion, width: 1.5, dash: "dot" } });
      marks.annotations.push({ xref: "paper", x: 0, y: th.value, yref: "y", xanchor: "left", yanchor: "bottom",
        showarrow: false, text: "threshold " + E.fmt.num(th.value, 3), font: { size: 10, color: E.colors.vermillion } });
    }
    var start = plotDate(trend.window_start), end = plotDate(trend.window_end);
    var yr = yRange(s, th, main);
    if (main && s.projection) end = plotDate(Math.max(trend.window_end, s.projection.at));
    el.setAttribute("aria-label", s.label + " over the selected range, " + s.t.length + " points");
    return E.plot(el, seriesTraces(s, trend, main), {
      title: { text: s.label + (s.unit && s.unit !== "ratio" ? " (" + s.unit + ")" : ""), x: 0, font: { size: main ? 14 : 12 } },
      height: main ? 340 : 220,
      margin: main ? { l: 56, r: 16, t: 40, b: 40 } : { l: 48, r: 10, t: 34, b: 30 },
      showlegend: main,
      xaxis: { type: "date", range: [start, end], gridcolor: "#eef1f4" },
      yaxis: { gridcolor: "#eef1f4", zeroline: false, range: yr },
      yaxis2: { overlaying: "y", range: [0, 1.05], visible: false, fixedrange: true },
      shapes: marks.shapes, annotations: marks.annotations,
    });
  }

  function emptyChart(el, s) {
    if (window.Plotly) window.Plotly.purge(el);
    el.innerHTML = '<div class="chart-empty">No ' + E.esc(s.label) + " values in this range.</div>";
  }

  // Without a model and without metrics the trend panel would only repeat the notice above.
  function syncTrendPanel() { $("trend-panel").hidden = !hasChampion && trendEmpty; }

  function renderTrend(trend) {
    var withData = trend.series.filter(function (s) { return s.v.length; });
    var meta = $("trend-meta");
    var rows = trend.series.reduce(function (a, s) { return Math.max(a, s.n_rows); }, 0);
    meta.textContent = E.fmt.date(new Date(trend.window_start * 1000).toISOString()) + " – " +
      E.fmt.date(new Date(trend.window_end * 1000).toISOString()) + " · " + rows + " metric rows" +
      (trend.downsampled ? " · downsampled on the server to ≤ " + trend.max_points + " points per series (" +
        E.fmt.num(trend.bucket_seconds / 3600, 3) + " h buckets)" : "") +
      " · " + trend.drift.t.length + " drift finding" + (trend.drift.t.length === 1 ? "" : "s") +
      " · " + trend.version_changes.length + " version change" + (trend.version_changes.length === 1 ? "" : "s");
    var empty = $("trend-empty"), main = $("chart-main"), others = $("chart-others");
    trendEmpty = !withData.length;
    syncTrendPanel();
    if (!withData.length) {
      empty.hidden = false;
      empty.innerHTML = "<p><strong>No metrics in this range.</strong> " + E.esc(trend.message || "") + "</p>" +
        "<p>Try a longer range or other windows above, or wait for the daily evaluation.</p>";
      if (window.Plotly) window.Plotly.purge(main);
      main.hidden = true;
      others.innerHTML = "";
      return;
    }
    empty.hidden = true;
    main.hidden = false;
    var key = trend.series[0].v.length ? trend.series[0] : withData[0];
    drawChart(main, key, trend, true);
    if (key.projection) meta.textContent += " · projection: " + key.projection.note;
    others.innerHTML = "";
    trend.series.forEach(function (s) {
      if (s === key) return;
      var el = document.createElement("div");
      el.className = "chart small";
      el.id = "chart-" + s.metric;
      el.setAttribute("role", "img");
      others.appendChild(el);
      if (s.v.length) drawChart(el, s, trend, false); else emptyChart(el, s);
    });
  }

  // ---- panels ---------------------------------------------------------------------------
  function versionsHref(v) {
    return "/ui/machines/" + sel.machine_id + "/models/" + sel.model_type + (v ? "#v" + v : "");
  }

  function renderEvaluation(panel) {
    var box = $("evaluation"), ev = panel.evaluation, ch = panel.champion;
    var html = "";
    if (ch) {
      html += '<p>Champion <a href="' + versionsHref(ch.version) + '"><strong>v' + ch.version + "</strong></a>";
      if (ch.ashrae14) {
        var a = ch.ashrae14, cls = a.passed === true ? "pass" : a.passed === false ? "fail" : "info";
        html += ' <span class="badge ' + cls + '" title="' + E.esc("Promotion gate at registration: " + a.detail) + '">ASHRAE 14 ' +
          (a.passed === true ? "passes" : a.passed === false ? "fails" : "not checked") + "</span>";
      }
      html += "</p>";
      if (ch.ashrae14) html += '<p class="holdout" id="ashrae-detail">ASHRAE 14 at registration: ' + E.esc(ch.ashrae14.detail) + "</p>";
    }
    if (!ev) {
      box.innerHTML = html + '<p class="muted">No evaluation recorded yet. The daily periodic evaluation writes one ' +
        "from the prediction log once the champion has scored a day of readings.</p>";
      return;
    }
    html += '<p class="muted">v' + ev.version + " · " + E.esc(ev.source.replace(/_/g, " ")) + " · window " +
      E.esc(E.fmt.time(ev.start)) + " – " + E.esc(E.fmt.time(ev.end)) + (ev.n ? " · " + ev.n + " readings" : "") + "</p>";
    html += '<dl class="kv" id="evaluation-metrics">';
    ev.metrics.forEach(function (m) {
      var held = ch && ch.holdout[m.metric];
      html += "<dt>" + E.esc(m.label) + "</dt><dd>" +
        (m.value === null ? '<span class="muted" title="' + E.esc(ev.undefined[m.metric] || "") + '">undefined</span>'
          : "<strong>" + E.esc(E.fmt.num(m.value, 4)) + "</strong>") +
        (typeof held === "number" ? ' <span class="holdout">held-out ' + E.esc(E.fmt.num(held, 4)) + "</span>" : "") + "</dd>";
    });
    box.innerHTML = html + "</dl>";
  }

  function renderAlerts(panel) {
    var box = $("alerts");
    var link = "/ui/alerts" + E.qs({ machine_id: sel.machine_id, model_type: sel.model_type, state: "unresolved" });
    if (!panel.alerts.length) {
      box.innerHTML = '<p><span class="badge ok">none open</span> No unresolved alerts for this model. ' +
        '<a href="' + link.replace("unresolved", "resolved") + '">Resolved ones</a></p>';
      return;
    }
    box.innerHTML = "<ul>" + panel.alerts.map(function (a) {
      return '<li id="alert-' + a.id + '"><span class="badge ' + E.esc(a.severity) + '">' + E.esc(a.severity) + "</span> " +
        '<a href="/ui/alerts#alert-' + a.id + '">' + E.esc(a.alert_type.replace(/_/g, " ")) + "</a> " +
        (a.state === "acknowledged" ? '<span class="badge info">acknowledged</span> ' : "") +
        "<div>" + E.esc(a.message) + '</div><div class="when">since ' + E.esc(E.fmt.time(a.first_seen)) +
        (a.occurrences > 1 ? " · seen " + a.occurrences + " times" : "") + "</div></li>";
    }).join("") + '</ul><p><a href="' + link + '">All alerts for this model</a></p>';
  }

  function jobResult(j) {
    if (j.model_version) {
      return '<a href="' + versionsHref(j.model_version) + '">v' + j.model_version + "</a>" +
        (j.training_duration_seconds ? " in " + E.fmt.num(j.training_duration_seconds, 3) + " s" : "");
    }
    return j.error_message ? '<span class="error">' + E.esc(j.error_message) + "</span>" : "";
  }

  function renderJobs(panel) {
    var box = $("jobs");
    activeJobs = panel.jobs.some(function (j) { return j.training_status === "pending" || j.training_status === "running"; });
    panel.jobs.forEach(function (j) {
      var before = knownStatus[j.id];
      if (before && before !== j.training_status && (j.training_status === "completed")) {
        E.toast("Job #" + j.id + " completed" + (j.model_version ? ": v" + j.model_version + " registered" : ""), "ok");
      } else if (before && before !== j.training_status && (j.training_status === "failed" || j.training_status === "timed_out")) {
        E.toast("Job #" + j.id + " " + j.training_status + ": " + (j.error_message || ""), "error");
      }
      knownStatus[j.id] = j.training_status;
    });
    if (!panel.jobs.length) {
      box.innerHTML = '<p class="muted">No training jobs for this model yet.</p>';
      return;
    }
    box.innerHTML = '<table class="grid" id="jobs-table"><thead><tr><th class="num">Job</th><th>Trigger</th><th>Status</th>' +
      "<th>Progress</th><th>Result</th><th>Created</th></tr></thead><tbody>" +
      panel.jobs.map(function (j) {
        var pct = Math.round(j.progress_percent || 0);
        return '<tr id="job-' + j.id + '" data-job-id="' + j.id + '" class="status-' + E.esc(j.training_status) + '">' +
          '<td class="num"><a href="/ui/training#job-' + j.id + '">' + j.id + "</a></td>" +
          "<td>" + E.esc(j.trigger_type) + (j.trigger_reason ? '<br><small class="muted">' + E.esc(j.trigger_reason.slice(0, 80)) + "</small>" : "") + "</td>" +
          '<td><span class="status">' + E.esc(j.training_status) + "</span></td>" +
          '<td><div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="' + pct +
          '"><div style="width:' + pct + '%"></div></div><small>' + E.esc(j.progress_stage || "") + (activeJobs && pct ? " " + pct + " %" : "") + "</small></td>" +
          '<td class="result">' + jobResult(j) + "</td><td>" + E.esc(E.fmt.time(j.created_at)) + "</td></tr>";
      }).join("") + "</tbody></table>";
  }

  function renderPanel(panel) {
    var empty = $("no-model");
    var name = machineName[sel.machine_id] || "this machine";
    var trigger = $("trigger");
    hasChampion = !!panel.champion;
    syncTrendPanel();
    if (!panel.champion) {
      empty.hidden = false;
      empty.innerHTML = "<h2>No " + E.esc(TYPE_LABEL[sel.model_type]) + " for " + E.esc(name) + " yet</h2>" +
        "<p>Train one with <strong>Train a first model</strong> below (it runs in the background; its progress shows in the job list), " +
        "or pick another model type above.</p>";
      trigger.textContent = "Train a first model";
    } else {
      empty.hidden = true;
      trigger.textContent = "Trigger retraining";
    }
    renderEvaluation(panel);
    renderAlerts(panel);
    renderJobs(panel);
  }

  function loadPanel() {
    var want = { machine_id: sel.machine_id, model_type: sel.model_type };
    lastPanelAt = Date.now();
    return E.getJSON("/ui/api/performance/panel" + E.qs(want)).then(function (panel) {
      if (want.machine_id === sel.machine_id && want.model_type === sel.model_type) renderPanel(panel);
    });
  }

  function load() {
    var seq = ++loadSeq;
    $("loading").hidden = false;
    var q = E.qs({ machine_id: sel.machine_id, model_type: sel.model_type, days: sel.days, windows: sel.windows });
    var trend = E.getJSON("/ui/api/performance/trend" + q).then(function (t) { if (seq === loadSeq) renderTrend(t); });
    return Promise.all([trend, loadPanel()]).catch(function (e) {
      E.toast("Could not load the selection: " + why(e), "error");
    }).finally(function () { if (seq === loadSeq) $("loading").hidden = true; });
  }

  // ---- selection and trigger ------------------------------------------------------------
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  form.addEventListener("change", function () {
    sel.machine_id = Number($("sel-machine").value);
    sel.model_type = $("sel-type").value;
    sel.days = Number($("sel-days").value);
    sel.windows = $("sel-windows").value;
    $("trigger-feedback").textContent = "";
    history.replaceState(null, "", "/ui/model-performance" + E.qs(sel));
    load();
  });

  function feedback(kind, html) {
    var el = $("trigger-feedback");
    el.className = kind;
    el.innerHTML = html;
  }

  $("trigger").addEventListener("click", function () {
    var button = this;
    var name = machineName[sel.machine_id];
    var what = TYPE_LABEL[sel.model_type];
    E.confirm({
      title: "Train a new " + what + " for " + name + "?",
      text: "A training job runs in the background on the machine's readings. The new version is " +
        "registered as a challenger; the current champion stays in force until it is promoted.",
      confirmLabel: "Trigger retraining",
      note: true,
    }).then(function (answer) {
      if (!answer) return;
      return E.busy(button, function () {
        return E.api("POST", "/api/v1/model-performance/retrain/trigger", {
          machine_id: sel.machine_id, model_type: sel.model_type, trigger_type: "manual",
          reason: answer.note || "triggered from the dashboard", requested_by: "dashboard",
        }).then(function (r) {
          var link = r.training_job_id ? ' <a href="/ui/training#job-' + r.training_job_id + '">job #' + r.training_job_id + "</a>" : "";
          if (r.triggered) {
            feedback("queued", "✓ Queued as" + link + (r.queue === "waiting_for_queue" ? " (waiting for the queue)" : "") + ".");
            E.toast("Training job #" + r.training_job_id + " queued for " + name + " " + sel.model_type, "ok");
          } else {
            feedback("refused", "✗ Refused: " + E.esc(r.reason || "a job is already in progress") + (link ? " —" + link : ""));
            E.toast("Not triggered: " + (r.reason || "a job is already in progress"), "error");
          }
          return loadPanel();
        }, function (e) {
          feedback("failed", "✗ " + E.esc(why(e)));
          E.toast("Trigger failed: " + why(e), "error");
        });
      });
    });
  });

  load();
  E.poll(function () {
    if (!activeJobs && Date.now() - lastPanelAt < SLOW_MS) return null;
    return loadPanel();
  }, FAST_MS);
})();
