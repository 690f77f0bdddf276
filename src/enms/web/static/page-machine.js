/* The machine page: fetches /ui/api/machines/<id>/series for the chosen range and draws
 * actual vs expected (anomalies marked), the day-ahead forecast with its interval, the CUSUM
 * of actual − expected with its uncertainty band, the weekday × hour heatmap and the daily
 * KPIs. The range (7/30/90/365 days up to the SERVER's now, or from/to dates) lives in the
 * address (?days= or ?from=&to=) so a view can be shared; a relative range refreshes by
 * polling JSON every minute. No page reloads.
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var c = enms.colors;
  var tz = data.machine.timezone;
  var state = initialState();
  var POLL_MS = 60000;
  var MAX_TABLE_ROWS = 50;

  function initialState() {
    var q = new URLSearchParams(window.location.search);
    if (q.get("from")) return { from: q.get("from"), to: q.get("to") || "" };
    var days = parseInt(q.get("days") || "", 10);
    return { days: days > 0 ? days : data.default_days };
  }

  function params() {
    return state.from ? { from: state.from, to: state.to } : { days: state.days };
  }

  function showRange(s) {
    document.querySelectorAll("#range button[data-days]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(!state.from && Number(b.dataset.days) === state.days));
    });
    document.getElementById("range-from").value = s.from.slice(0, 10);
    document.getElementById("range-to").value = s.to.slice(0, 10);
    document.getElementById("range-info").textContent =
      enms.fmt.time(s.from) + " – " + enms.fmt.time(s.to) + " · " +
      s.n_readings.toLocaleString("en") + " readings · one point per " + s.bucket.label;
  }

  function hasPoints(values) {
    return values.some(function (v) { return v !== null && v !== undefined; });
  }

  function emptyChart(id, message) {
    var el = document.getElementById(id);
    if (window.Plotly) window.Plotly.purge(el);
    el.innerHTML = '<p class="empty">' + enms.esc(message) + "</p>";
  }

  function chart(id, traces, layout) {
    var el = document.getElementById(id);
    if (el.querySelector("p.empty")) el.innerHTML = "";
    // Legend above the plot, so it never collides with the x-axis title.
    var merged = Object.assign({ legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      margin: { l: 56, r: 16, t: 36, b: 48 } }, layout);
    enms.plot(el, traces, merged);
  }

  function timeAxis() {
    return { title: { text: "local time (" + tz + ")" }, type: "date", gridcolor: "#eef1f4" };
  }

  function perBucket(s) { return "kWh per " + s.bucket.label; }

  function drawEnergy(s) {
    var e = s.energy;
    var unit = perBucket(s);
    document.getElementById("energy-unit").textContent = "· " + unit;
    document.getElementById("energy-note").textContent = e.baseline_versions.length
      ? "Expected: baseline v" + e.baseline_versions.join(", v") +
        ", the energy baseline of record the KPIs and savings use (ISO 50006)" +
        (e.expected_until && e.expected_until < s.to
          ? "; logged up to " + enms.fmt.time(e.expected_until) + "." : ".")
      : "No baseline has been champion yet: actual energy only.";
    if (!hasPoints(e.actual)) { emptyChart("chart-energy", "No readings in this range."); return; }
    var traces = [
      { x: e.x, y: e.actual, name: "actual", type: "scatter", mode: "lines",
        line: { color: c.actual, width: 1.5 } },
    ];
    if (hasPoints(e.expected)) {
      traces.push({ x: e.x, y: e.expected, name: "baseline expected", type: "scatter",
        mode: "lines", line: { color: c.expected, width: 1.5, dash: "dash" } });
    }
    if (s.anomalies.length) {
      traces.push({
        x: s.anomalies.map(function (a) { return a.x; }),
        y: s.anomalies.map(function (a) { return a.y; }),
        name: "anomaly", type: "scatter", mode: "markers",
        marker: { color: c.anomaly, symbol: "x", size: 9, line: { width: 1 } },
        text: s.anomalies.map(function (a) {
          return a.local + " · " + enms.fmt.num(a.energy_kwh) + " kWh (expected " +
            enms.fmt.num(a.expected_kwh) + ") · score " + enms.fmt.num(a.score) + "<br>" +
            enms.esc(a.reason);
        }),
        hovertemplate: "%{text}<extra>anomaly</extra>",
      });
    }
    chart("chart-energy", traces, { xaxis: timeAxis(), yaxis: { title: { text: unit }, gridcolor: "#eef1f4" } });
  }

  function drawForecast(s) {
    var f = s.forecast;
    var unit = perBucket(s);
    document.getElementById("forecast-unit").textContent = "· " + unit;
    if (!f.model_type || !hasPoints(f.predicted)) {
      document.getElementById("forecast-note").textContent = "";
      emptyChart("chart-forecast", f.model_type
        ? "No " + f.model_type + " forecasts were logged in this range."
        : "No forecaster has been champion on this machine yet.");
      return;
    }
    document.getElementById("forecast-note").textContent =
      f.model_type.replace("forecast_", "") + " v" + f.versions.join(", v") +
      " (the champion when each forecast was issued), issued up to 24 h ahead; band: " +
      Math.round(f.interval * 100) + " % interval" +
      (s.bucket.hours > 1 ? ", bounds summed per bucket (wider than the interval of the sum)." : ".");
    var traces = [
      { x: f.x, y: f.upper, name: "upper", type: "scatter", mode: "lines",
        line: { width: 0, color: c.forecast }, showlegend: false, hoverinfo: "skip" },
      { x: f.x, y: f.lower, name: Math.round(f.interval * 100) + " % interval", type: "scatter",
        mode: "lines", fill: "tonexty", fillcolor: c.band, line: { width: 0, color: c.forecast },
        hoverinfo: "skip" },
      { x: f.x, y: f.predicted, name: "forecast", type: "scatter", mode: "lines",
        line: { color: c.forecast, width: 1.8 } },
      { x: f.x, y: f.actual, name: "actual", type: "scatter", mode: "lines",
        line: { color: c.actual, width: 1.2 } },
    ];
    chart("chart-forecast", traces, { xaxis: timeAxis(), yaxis: { title: { text: unit }, gridcolor: "#eef1f4" } });
  }

  function drawCusum(s) {
    var k = s.cusum;
    var note = "Rises while the machine uses more than baseline" +
      (k.baseline_version ? " v" + k.baseline_version : "") +
      " expects, falls while it saves (savings = expected − actual = −CUSUM).";
    if (k.fsu_percent !== null && k.fsu_percent !== undefined) {
      note += " Band: ±" + Math.round(k.confidence * 100) +
        " % uncertainty of the cumulative savings (ASHRAE Guideline 14); FSU " +
        enms.fmt.pct(k.fsu_percent) + ".";
      document.getElementById("cusum-note").title = k.method;
    }
    document.getElementById("cusum-note").textContent = note;
    if (!k.x.length) {
      emptyChart("chart-cusum", k.notes.length ? k.notes.join(" ") : "No daily KPIs with an expectation in this range.");
      return;
    }
    var traces = [];
    if (hasPoints(k.high)) {
      traces.push({ x: k.x, y: k.high, type: "scatter", mode: "lines", line: { width: 0, color: c.blue },
        showlegend: false, hoverinfo: "skip", name: "upper" });
      traces.push({ x: k.x, y: k.low, type: "scatter", mode: "lines", fill: "tonexty",
        fillcolor: "rgba(0,114,178,0.15)", line: { width: 0, color: c.blue },
        name: "uncertainty", hoverinfo: "skip" });
    }
    traces.push({ x: k.x, y: k.value, name: "Σ (actual − expected)", type: "scatter",
      mode: "lines+markers", marker: { size: 4 }, line: { color: c.blue, width: 2 } });
    chart("chart-cusum", traces, {
      xaxis: { title: { text: "local day" }, type: "date", gridcolor: "#eef1f4" },
      yaxis: { title: { text: "kWh (above 0: excess use)" }, zeroline: true, zerolinecolor: "#7f7f7f", gridcolor: "#eef1f4" },
    });
  }

  function drawHeatmap(s) {
    var h = s.heatmap;
    if (!h.z.some(hasPoints)) { emptyChart("chart-heatmap", "No readings in this range."); return; }
    chart("chart-heatmap", [{
      type: "heatmap", x: h.hours, y: h.weekdays, z: h.z, colorscale: "Viridis",
      colorbar: { title: { text: "kWh/h" } }, hoverongaps: false,
      hovertemplate: "%{y} %{x}:00 · %{z:.3g} kWh<extra></extra>",
    }], {
      hovermode: "closest",
      xaxis: { title: { text: "hour of day (local)" }, dtick: 3 },
      yaxis: { autorange: "reversed" },
      margin: { l: 48, r: 16, t: 16, b: 44 },
    });
  }

  function drawAnomalies(s) {
    var box = document.getElementById("anomalies");
    var list = s.anomalies;
    document.getElementById("anomaly-count").textContent =
      "· " + list.length + (s.anomalies_truncated ? "+" : "") + " in range";
    if (!list.length) { box.innerHTML = '<p class="muted">No anomalies flagged in this range.</p>'; return; }
    var rows = list.slice(0, MAX_TABLE_ROWS).map(function (a) {
      var above = a.direction === "above_expected";
      var badge = above ? '<span class="badge warning">above expected</span>'
        : a.direction === "below_expected" ? '<span class="badge info">below expected</span>'
        : '<span class="badge info">' + enms.esc(a.direction) + "</span>";
      return "<tr><td>" + enms.esc(a.local) + '</td><td class="num">' + enms.fmt.num(a.energy_kwh) +
        '</td><td class="num">' + enms.fmt.num(a.expected_kwh) + '</td><td class="num">' +
        enms.fmt.num(a.score) + " / " + enms.fmt.num(a.threshold) + "</td><td>" + badge +
        '</td><td class="reason">' + enms.esc(a.reason) + "</td></tr>";
    }).join("");
    box.innerHTML = (list.length > MAX_TABLE_ROWS
      ? '<p class="muted">The ' + MAX_TABLE_ROWS + " newest of " + list.length + " (all are marked on the chart).</p>" : "") +
      '<div class="scroll table-box"><table class="grid" id="anomaly-table"><thead><tr><th>Time (local)</th>' +
      '<th class="num">Energy kWh</th><th class="num">Expected kWh</th><th class="num">Score / threshold</th>' +
      "<th>Direction</th><th>Reason</th></tr></thead><tbody>" + rows + "</tbody></table></div>";
  }

  function drawKpis(s) {
    var days = s.kpis.days;
    var body = document.querySelector("#kpi-table tbody");
    if (!days.length) {
      emptyChart("chart-kpis", "No daily KPIs stored for this range (the kpi_calculate job computes them).");
      body.innerHTML = "";
      return;
    }
    chart("chart-kpis", [
      { x: days.map(function (d) { return d.day; }), y: days.map(function (d) { return d.energy_kwh; }),
        name: "energy", type: "bar", marker: { color: c.sky } },
      { x: days.map(function (d) { return d.day; }), y: days.map(function (d) { return d.expected_kwh; }),
        name: "expected", type: "scatter", mode: "lines+markers", marker: { size: 4 },
        line: { color: c.expected, dash: "dash" } },
    ], { xaxis: { type: "date", title: { text: "local day" } }, yaxis: { title: { text: "kWh per day" } } });
    var rows = days.slice().reverse().map(function (d) {
      return kpiRow(d.day, d);
    });
    if (s.kpis.total) rows.unshift(kpiRow("Total", s.kpis.total, true));
    body.innerHTML = rows.join("");
  }

  function kpiRow(label, d, total) {
    return "<tr" + (total ? ' class="total"' : "") + "><td>" + (total ? "<strong>" + label + "</strong>" : enms.esc(label)) +
      '</td><td class="num">' + enms.fmt.num(d.energy_kwh, 4) + '</td><td class="num">' +
      enms.fmt.num(d.expected_kwh, 4) + '</td><td class="num">' + enms.fmt.num(d.savings_kwh, 3) +
      '</td><td class="num">' + enms.fmt.num(d.enpi, 3) + '</td><td class="num">' +
      enms.fmt.num(d.sec_kwh_per_unit, 3) + '</td><td class="num">' + d.n_readings + "</td></tr>";
  }

  function draw(s) {
    showRange(s);
    drawEnergy(s);
    drawForecast(s);
    drawCusum(s);
    drawHeatmap(s);
    drawAnomalies(s);
    drawKpis(s);
    document.body.dataset.loaded = "true";
  }

  function load() {
    return enms.getJSON(data.series_url + enms.qs(params())).then(draw);
  }

  function choose(next) {
    state = next;
    var url = window.location.pathname + enms.qs(params());
    window.history.replaceState(null, "", url);
    return load().catch(function (e) { enms.toast(e.message, "error"); });
  }

  document.querySelectorAll("#range button[data-days]").forEach(function (b) {
    b.addEventListener("click", function () {
      enms.busy(b, function () { return choose({ days: Number(b.dataset.days) }); });
    });
  });
  document.getElementById("range").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var from = document.getElementById("range-from").value;
    var to = document.getElementById("range-to").value;
    if (!from || !to) { enms.toast("Choose both a from and a to date.", "error"); return; }
    if (from >= to) { enms.toast("From must be before to (to is exclusive).", "error"); return; }
    var button = document.getElementById("range-apply");
    enms.busy(button, function () { return choose({ from: from, to: to }); });
  });

  load().catch(function (e) { enms.toast(e.message, "error"); });
  enms.poll(function () { return state.from ? null : load(); }, POLL_MS);
})();
