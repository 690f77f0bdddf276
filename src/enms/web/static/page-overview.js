/* Overview page: renders the fleet matrix, totals and latest jobs from the page data, draws
 * each champion's key-metric sparkline (plotly), and refreshes everything from
 * /ui/api/overview every 10 s (one request for the whole page, never a reload). */
(function () {
  "use strict";
  var E = window.enms;
  var dataEl = document.getElementById("page-data");
  var table = document.getElementById("machines");
  if (!dataEl || !table) return; // the empty state has nothing live
  var REFRESH_MS = 10000;
  var TYPE_LABEL = {
    baseline: "baseline", anomaly: "anomaly",
    forecast_arima: "forecast arima", forecast_prophet: "forecast prophet",
  };

  function perfHref(m, t) {
    return "/ui/model-performance" + E.qs({ machine_id: m.id, model_type: t, days: 30 });
  }
  function versionsHref(m, t, v) {
    return "/ui/machines/" + m.id + "/models/" + t + (v ? "#v" + v : "");
  }

  function valueText(key) {
    if (key.value === null || key.value === undefined) return "n/a";
    if (key.unit === "%") return E.fmt.num(key.value, 3) + " %";
    return E.fmt.num(key.value, 3);
  }

  function alertBadges(alerts, m, t) {
    var out = "";
    ["critical", "warning"].forEach(function (sev) {
      var n = alerts[sev] || 0;
      if (!n) return;
      out += '<a href="/ui/alerts' + E.qs({ machine_id: m.id, model_type: t, state: "unresolved", severity: sev }) +
        '" class="badge ' + sev + '" data-kind="alerts-' + sev + '">' + n + " " + sev + "</a>";
    });
    return out;
  }

  function cellHtml(m, t, c) {
    if (!c.champion) {
      return '<span class="muted">not trained</span> · <a href="' + perfHref(m, t) + '">train</a>' +
        '<div class="cell-links">' + alertBadges(c.alerts, m, t) + jobsLink(m, t, c) + "</div>";
    }
    var key = c.key;
    var title = key.source === "held-out"
      ? "held-out value at training (" + (key.why_missing || "no monitoring rows in the last 30 days") + ")"
      : "latest monitoring value, " + E.fmt.time(key.at);
    var html = '<div class="cell-head"><a class="ver" href="' + versionsHref(m, t, c.champion) +
      '" title="champion version">v' + c.champion + "</a>";
    // ASHRAE 14 now (the newest weekly evaluation), else the verdict at registration.
    var now = c.ashrae14_now, reg = c.ashrae14;
    if (now || reg) {
      var a = now || reg;
      var cls = a.passed === true ? "pass" : a.passed === false ? "fail" : "neutral";
      var word = a.passed === null || a.passed === undefined ? "ASHRAE 14 n/a"
        : now ? "ASHRAE 14" : "ASHRAE 14 at training";
      var tip = (now ? "ASHRAE 14 hourly criteria on the " + now.detail : "") +
        (reg ? (now ? "; at registration: " : "Promotion gate at registration: ") + reg.detail : "");
      html += '<a class="badge ' + cls + '" data-kind="ashrae" data-when="' + (now ? "now" : "registration") +
        '" href="' + versionsHref(m, t, c.champion) + '" title="' + E.esc(tip) + '">' + word + "</a>";
    }
    html += "</div>";
    html += '<div class="cell-key"><a class="value" href="' + perfHref(m, t) + '" title="' + E.esc(title) + '">' +
      E.esc(key.label) + " <strong>" + E.esc(valueText(key)) + "</strong>" +
      (key.source === "held-out" ? ' <span class="muted">(held-out)</span>' : "") + "</a>";
    if (key.spark) {
      html += '<a href="' + perfHref(m, t) + '" aria-label="' + E.esc(key.label) + ' trend, last 30 days">' +
        '<div class="sparkline" role="img" aria-label="' + E.esc(key.label + " over the last 30 days") + '"></div></a>';
    }
    html += "</div>";
    html += '<div class="cell-links">' + alertBadges(c.alerts, m, t) + jobsLink(m, t, c) + testsLink(m, t, c) + "</div>";
    return html;
  }

  function jobsLink(m, t, c) {
    if (!c.jobs) return "";
    return '<a class="badge info" data-kind="jobs" href="/ui/training' + E.qs({ machine_id: m.id, model_type: t }) +
      '">⟳ ' + c.jobs + " job" + (c.jobs > 1 ? "s" : "") + "</a>";
  }
  function testsLink(m, t, c) {
    if (!c.tests) return "";
    return '<a class="badge info" data-kind="tests" href="/ui/ab-tests' + E.qs({ machine_id: m.id, model_type: t }) +
      '">A/B running</a>';
  }

  function drawSpark(el, key) {
    var color = E.colors.blue;
    E.plot(el, [{
      x: key.spark.t, y: key.spark.v, type: "scatter", mode: "lines",
      line: { color: color, width: 1.5 }, hoverinfo: "skip",
    }, {
      x: [key.spark.t[key.spark.t.length - 1]], y: [key.spark.v[key.spark.v.length - 1]],
      type: "scatter", mode: "markers", marker: { color: color, size: 4 }, hoverinfo: "skip",
    }], {
      margin: { l: 2, r: 4, t: 3, b: 3 }, width: 110, height: 30, showlegend: false,
      xaxis: { visible: false }, yaxis: { visible: false }, hovermode: false,
      plot_bgcolor: "rgba(0,0,0,0)",
    }, { staticPlot: true, responsive: false });
  }

  function renderTotals(d) {
    var t = d.totals;
    var box = document.getElementById("totals");
    var crit = t.alerts.critical, warn = t.alerts.warning;
    box.innerHTML =
      '<div class="card"><div class="sub">Machines</div><div class="big"><a href="/ui/machines">' + t.machines +
      '</a></div><div class="sub">' + E.fmt.num(t.readings, 6) + " readings</div></div>" +
      '<div class="card" id="total-alerts"><div class="sub">Open alerts</div><div class="big"><a href="/ui/alerts?state=unresolved">' +
      (crit + warn) + '</a></div><div class="sub">' +
      (crit ? '<a class="badge critical" href="/ui/alerts?state=unresolved&amp;severity=critical">' + crit + " critical</a> " : "") +
      (warn ? '<a class="badge warning" href="/ui/alerts?state=unresolved&amp;severity=warning">' + warn + " warning</a>" : "") +
      (crit + warn ? "" : '<span class="badge ok">none open</span>') + "</div></div>" +
      '<div class="card"><div class="sub">Training jobs in progress</div><div class="big"><a href="/ui/training?status=running">' +
      t.jobs + '</a></div><div class="sub">pending or running</div></div>' +
      '<div class="card"><div class="sub">A/B tests running</div><div class="big"><a href="/ui/ab-tests">' + t.tests +
      '</a></div><div class="sub">champion vs challenger</div></div>';
  }

  function renderJobs(d) {
    var box = document.getElementById("jobs-box");
    if (!d.jobs.length) {
      box.innerHTML = '<p class="muted">No training jobs yet. Train a model from the ' +
        '<a href="/ui/model-performance">Model performance</a> page or with <code>enms train</code>.</p>';
      return;
    }
    var names = {};
    d.machines.forEach(function (m) { names[m.id] = m.name; });
    var rows = d.jobs.map(function (j) {
      var pct = Math.round(j.progress || 0);
      var result = j.version ? "v" + j.version + (j.duration ? " in " + E.fmt.num(j.duration, 3) + " s" : "")
        : j.error ? '<span class="error">' + E.esc(j.error) + "</span>" : "";
      return '<tr data-job-id="' + j.id + '" class="status-' + E.esc(j.status) + '">' +
        '<td class="num"><a href="/ui/training#job-' + j.id + '">' + j.id + "</a></td>" +
        "<td>" + E.esc(j.machine_name || names[j.machine_id] || j.machine_id) + "</td>" +
        "<td>" + E.esc(TYPE_LABEL[j.model_type] || j.model_type) + "</td>" +
        "<td>" + E.esc(j.trigger) + "</td>" +
        '<td><span class="status">' + E.esc(j.status) + "</span></td>" +
        '<td><div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="' + pct +
        '"><div style="width:' + pct + '%"></div></div><small>' + E.esc(j.stage || "") + "</small></td>" +
        "<td>" + result + "</td><td>" + E.esc(E.fmt.time(j.created_at)) + "</td></tr>";
    }).join("");
    box.innerHTML = '<table class="grid" id="jobs"><thead><tr><th class="num">Job</th><th>Machine</th><th>Model</th>' +
      "<th>Trigger</th><th>Status</th><th>Progress</th><th>Result</th><th>Created</th></tr></thead><tbody>" +
      rows + "</tbody></table>";
  }

  function renderMatrix(d) {
    var tbody = table.querySelector("tbody");
    var html = d.machines.map(function (m) {
      var mAlerts = alertBadges(m.machine_alerts, m, "");
      return '<tr data-machine-id="' + m.id + '"><td class="name"><a href="/ui/machines/' + m.id + '">' +
        E.esc(m.name) + "</a><small>" + E.esc(m.machine_type) + " · " + E.fmt.num(m.readings, 6) + " readings</small>" +
        (mAlerts ? '<div class="cell-links">' + mAlerts + "</div>" : "") + "</td>" +
        d.model_types.map(function (t) {
          return '<td class="model" data-model-type="' + t + '">' + cellHtml(m, t, m.cells[t]) + "</td>";
        }).join("") + "</tr>";
    }).join("");
    tbody.innerHTML = html;
    d.machines.forEach(function (m) {
      d.model_types.forEach(function (t) {
        var c = m.cells[t];
        if (!c.key || !c.key.spark) return;
        var el = tbody.querySelector('tr[data-machine-id="' + m.id + '"] td[data-model-type="' + t + '"] .sparkline');
        if (el) drawSpark(el, c.key);
      });
    });
  }

  function render(d) {
    renderTotals(d);
    renderMatrix(d);
    renderJobs(d);
    document.getElementById("refreshed").textContent = "As of " + E.fmt.time(d.now);
  }

  render(JSON.parse(dataEl.textContent));
  E.poll(function () { return E.getJSON("/ui/api/overview").then(render); }, REFRESH_MS);
})();
