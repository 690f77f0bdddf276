/* A/B tests page: the start form, running tests with live per-arm results (polled every 15 s,
 * running tests only) and the confidence interval of B − A drawn against zero, finished tests
 * with verdict, confidence, p and the promotion it led to. Start and stop use the public API;
 * the list is then re-fetched, never the page.
 */
(function () {
  "use strict";
  var esc = enms.esc, fmt = enms.fmt;
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var API = "/api/v1/model-performance";
  var results = {};

  function pval(p) {
    if (p === null || p === undefined) return "—";
    return p < 0.001 ? "< 0.001" : Number(p).toFixed(3);
  }
  function option(value, label, selected) {
    return '<option value="' + esc(value) + '"' + (selected ? " selected" : "") + ">" + esc(label) + "</option>";
  }
  function machineById(id) {
    return data.machines.filter(function (m) { return m.id === Number(id); })[0];
  }
  function versionsLink(t, version) {
    return '<a href="/ui/machines/' + t.machine_id + "/models/" + esc(t.model_type) + "#v" + version + '">v' + version + "</a>";
  }

  // ---- filters (navigate: the filtered list is the page's address) ----
  var fMachine = document.getElementById("filter-machine"), fType = document.getElementById("filter-type");
  fMachine.innerHTML += data.machines.map(function (m) { return option(m.id, m.name, m.id === data.filters.machine_id); }).join("");
  fType.innerHTML += data.model_types.map(function (t) { return option(t, t, t === data.filters.model_type); }).join("");
  function applyFilters() {
    window.location.assign("/ui/ab-tests" + enms.qs({ machine_id: fMachine.value, model_type: fType.value }));
  }
  fMachine.addEventListener("change", applyFilters);
  fType.addEventListener("change", applyFilters);

  // ---- start form ----
  var sMachine = document.getElementById("start-machine"), sType = document.getElementById("start-type");
  var sA = document.getElementById("start-a"), sB = document.getElementById("start-b");
  var startable = data.machines.filter(function (m) {
    return Object.keys(m.models).some(function (t) { return m.models[t].length >= 2; });
  });
  function fillTypes() {
    var m = machineById(sMachine.value);
    var types = m ? Object.keys(m.models).filter(function (t) { return m.models[t].length >= 2; }) : [];
    var want = data.filters.model_type;
    sType.innerHTML = types.map(function (t) { return option(t, t, t === want); }).join("");
    fillVersions();
  }
  function versionLabel(v) { return "v" + v.version + (v.aliases.length ? " (" + v.aliases.join(", ") + ")" : ""); }
  function fillVersions() {
    var m = machineById(sMachine.value);
    var versions = (m && m.models[sType.value]) || [];
    var champ = versions.filter(function (v) { return v.aliases.indexOf("champion") >= 0; })[0];
    var others = versions.filter(function (v) { return v !== champ; });
    var chall = others.filter(function (v) { return v.aliases.indexOf("challenger") >= 0; })[0] || others[0];
    sA.innerHTML = versions.map(function (v) { return option(v.version, versionLabel(v), v === champ); }).join("");
    sB.innerHTML = versions.map(function (v) { return option(v.version, versionLabel(v), v === chall); }).join("");
  }
  if (!startable.length) {
    document.getElementById("start-form").innerHTML =
      '<p class="empty">No model has two versions yet: an A/B test needs a champion and a candidate.</p>';
  } else {
    var wantMachine = data.filters.machine_id;
    sMachine.innerHTML = startable.map(function (m, i) {
      return option(m.id, m.name, wantMachine ? m.id === wantMachine : i === 0);
    }).join("");
    document.getElementById("start-split").value = data.defaults.traffic_split;
    document.getElementById("start-days").value = data.defaults.duration_days;
    document.getElementById("start-metric").value = data.defaults.primary_metric;
    sMachine.addEventListener("change", fillTypes);
    sType.addEventListener("change", fillVersions);
    fillTypes();
    document.getElementById("start-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var button = document.getElementById("start-submit");
      var body = {
        machine_id: Number(sMachine.value), model_type: sType.value,
        model_a_version: Number(sA.value), model_b_version: Number(sB.value),
        traffic_split: Number(document.getElementById("start-split").value),
        duration_days: Number(document.getElementById("start-days").value),
        primary_metric: document.getElementById("start-metric").value,
        test_name: document.getElementById("start-name").value.trim() || null,
        notes: document.getElementById("start-notes").value.trim() || null,
        created_by: "dashboard",
      };
      enms.busy(button, function () {
        return enms.api("POST", API + "/ab-test/start", body).then(function (test) {
          enms.toast("Started A/B test " + test.id + ": " + test.test_name, "ok");
          return reload().then(function () {
            var el = document.getElementById("test-" + test.id);
            if (el) el.scrollIntoView({ block: "center" });
          });
        }).catch(function (err) { enms.toast(err.message, "error"); });
      });
    });
  }

  // ---- test cards ----
  function statusBadge(t) {
    if (t.status === "running") return '<span class="badge info">● running</span>';
    if (t.status === "stopped") return '<span class="badge warning">stopped</span>';
    if (t.winner === "a" || t.winner === "b") return '<span class="badge pass">winner ' + t.winner.toUpperCase() + "</span>";
    return '<span class="badge">○ inconclusive</span>';
  }

  function armsTable(r) {
    return '<table class="grid compact arms"><thead><tr><th>Arm</th><th>Version</th><th class="num">n</th>' +
      '<th class="num">MAE</th><th class="num">RMSE</th><th class="num">MAPE %</th><th class="num">CV(RMSE) %</th></tr></thead><tbody>' +
      r.arms.map(function (a) {
        return '<tr data-arm="' + esc(a.arm) + '"><td>' + esc(a.arm.toUpperCase()) + "</td><td>" + versionsLink(r.test, a.version) +
          '</td><td class="num n">' + a.n + '</td><td class="num">' + fmt.num(a.mae, 4) + '</td><td class="num">' +
          fmt.num(a.rmse, 4) + '</td><td class="num">' + fmt.num(a.mape, 3) + '</td><td class="num">' + fmt.num(a.cv_rmse, 3) + "</td></tr>";
      }).join("") + "</tbody></table>";
  }

  function figures(r) {
    var d = r.difference, t = r.test, out = '<dl class="kv small">';
    if (d) {
      out += "<dt>B − A (" + esc(t.primary_metric) + ")</dt><dd>" + fmt.num(d.estimate, 4) +
        (d.relative !== null && d.relative !== undefined ? " (" + fmt.pct(d.relative * 100) + ")" : "") + "</dd>" +
        "<dt>" + Math.round((1 - t.alpha) * 100) + " % CI</dt><dd>[" + fmt.num(d.ci_low, 4) + ", " + fmt.num(d.ci_high, 4) + "]</dd>" +
        "<dt>p</dt><dd>" + pval(d.p_value) + "</dd>";
    } else {
      out += "<dt>B − A</dt><dd class=\"muted\">not enough scored points yet</dd>";
    }
    if (r.sequential) out += "<dt>Sequential p</dt><dd>" + pval(r.sequential.p_value) + " (level " + fmt.num(r.sequential.level, 3) + ")</dd>";
    if (r.srm && (r.srm.n_a || 0) + (r.srm.n_b || 0) > 0) {
      out += "<dt>Sample ratio</dt><dd>" + (r.srm.mismatch
        ? '<span class="badge fail">mismatch</span>'
        : '<span class="badge pass">ok</span>') + " B share " + fmt.pct((r.srm.observed_share_b || 0) * 100) +
        " of " + fmt.pct((r.srm.configured_share_b || 0) * 100) + "</dd>";
    }
    if (t.status === "running") {
      out += "<dt>Samples</dt><dd>" + (r.min_sample_reached ? '<span class="badge pass">minimum reached</span>' : '<span class="badge warning">below ' + t.min_samples_per_arm + " per arm</span>") + "</dd>" +
        "<dt>Days left</dt><dd>" + (r.estimated_days_left === null ? "unknown" : fmt.num(r.estimated_days_left, 2)) + "</dd>";
    }
    var verdict = r.verdict === "a" || r.verdict === "b" ? r.verdict.toUpperCase() + " wins" : r.verdict;
    out += "<dt>Verdict</dt><dd>" + esc(verdict) + ' <span class="muted">' + esc(r.verdict_reason) + "</span></dd>";
    return out + "</dl>";
  }

  function drawCI(t) {
    var r = results[t.id], el = document.getElementById("ci-" + t.id);
    if (!el || !r || !r.difference || r.difference.ci_low === null) {
      if (el) {
        el.classList.add("no-points");
        el.innerHTML = '<p class="muted small">The interval appears once both arms have scored points.</p>';
      }
      return;
    }
    var d = r.difference;
    var better = d.ci_high < 0, worse = d.ci_low > 0;
    var lo = Math.min(d.ci_low, 0), hi = Math.max(d.ci_high, 0), pad = (hi - lo) * 0.08 || 1;
    var colour = better ? enms.colors.green : worse ? enms.colors.vermillion : enms.colors.grey;
    enms.plot(el, [{
      x: [d.estimate], y: ["B − A " + t.primary_metric], type: "scatter", mode: "markers",
      marker: { size: 11, color: colour, symbol: better ? "triangle-left" : worse ? "triangle-right" : "circle" },
      error_x: { type: "data", symmetric: false, array: [d.ci_high - d.estimate], arrayminus: [d.estimate - d.ci_low], color: colour, thickness: 2, width: 8 },
      name: "difference", hovertemplate: "B − A %{x:.3f}<extra></extra>",
    }], {
      height: 130, margin: { l: 90, r: 16, t: 8, b: 36 }, showlegend: false, hovermode: "closest",
      xaxis: { gridcolor: "#eef1f4", zeroline: false, range: [lo - pad, hi + pad], title: { text: "← B better · B worse →", font: { size: 11 } } },
      shapes: [{ type: "line", x0: 0, x1: 0, yref: "paper", y0: 0, y1: 1, line: { color: "#1d2430", width: 1, dash: "dot" } }],
    }, { displayModeBar: false });
  }

  function card(t) {
    var r = results[t.id];
    var head = '<header><h3>' + esc(t.test_name) + "</h3> " + statusBadge(t) + "</header>" +
      '<p class="small muted">' + esc(t.machine_name || "machine " + t.machine_id) + " · " + esc(t.model_type) +
      " · A " + versionsLink(t, t.model_a_version) + " vs B " + versionsLink(t, t.model_b_version) +
      " · " + fmt.pct(t.traffic_split * 100) + " to B · " + fmt.date(t.start_date) + " → " +
      fmt.date(t.end_date || t.planned_end_date) + " · by " + esc(t.created_by) + "</p>";
    var outcome = "";
    if (t.status === "completed") {
      outcome = '<dl class="kv outcome"><dt>Winner</dt><dd>' + esc(t.winner === "a" || t.winner === "b" ? t.winner.toUpperCase() : t.winner || "—") +
        "</dd><dt>Confidence</dt><dd>" + fmt.pct(t.confidence === null ? null : t.confidence * 100) +
        "</dd><dt>p</dt><dd>" + pval(t.p_value) + '</dd><dt>Led to</dt><dd class="promotion">' + esc(t.promotion || "—") +
        ' · <a href="/ui/machines/' + t.machine_id + "/models/" + esc(t.model_type) + '">versions</a></dd></dl>';
    } else if (t.status === "stopped") {
      outcome = '<p class="small">Stopped by ' + esc(t.stopped_by) + ": " + esc(t.stop_reason) + "</p>";
    }
    var body = r ? '<div class="result-grid"><div>' + armsTable(r) + '<div class="chart ci" id="ci-' + t.id +
      '" aria-label="Confidence interval of B − A"></div></div><div>' + figures(r) + "</div></div>"
      : '<p class="muted small results-pending"><span class="spinner" aria-hidden="true"></span> loading results…</p>';
    var stop = t.status === "running" ? '<button type="button" class="danger stop" data-needs="operator" data-id="' + t.id + '">Stop test</button>' : "";
    return '<article class="card test status-' + esc(t.status) + '" id="test-' + t.id + '" data-id="' + t.id + '">' +
      head + outcome + body + stop + "</article>";
  }

  function renderOne(t) {
    var el = document.getElementById("test-" + t.id);
    if (!el) return;
    el.outerHTML = card(t);
    drawCI(t);
  }

  function renderAll() {
    var running = data.tests.filter(function (t) { return t.status === "running"; });
    var finished = data.tests.filter(function (t) { return t.status !== "running"; });
    document.getElementById("running").innerHTML = running.length ? running.map(card).join("")
      : '<p class="empty">No test is running.</p>';
    document.getElementById("finished").innerHTML = finished.length ? finished.map(card).join("")
      : '<p class="empty">No test has finished yet.</p>';
    data.tests.forEach(drawCI);
  }

  function loadResults(t) {
    return enms.getJSON(API + "/ab-test/" + t.id + "/results").then(function (r) {
      results[t.id] = r;
      var known = data.tests.filter(function (x) { return x.id === t.id; })[0];
      if (known && known.status !== r.test.status) return reload();
      renderOne(r.test);
    }).catch(function (err) { enms.toast("Results of test " + t.id + ": " + err.message, "error"); });
  }

  function reload() {
    return enms.getJSON(API + "/ab-tests" + enms.qs(data.filters)).then(function (tests) {
      data.tests = tests;
      renderAll();
      return Promise.all(tests.map(loadResults));
    });
  }

  document.getElementById("running").addEventListener("click", function (ev) {
    var button = ev.target.closest("button.stop");
    if (!button) return;
    var id = Number(button.dataset.id);
    enms.confirm({
      title: "Stop A/B test " + id + "?", text: "A stopped test has no verdict and promotes nothing.",
      confirmLabel: "Stop test", note: "required",
    }).then(function (answer) {
      if (!answer) return;
      if (!answer.note) { enms.toast("Stopping a test needs a reason.", "error"); return; }
      return enms.busy(button, function () {
        return enms.api("POST", API + "/ab-test/" + id + "/stop", { reason: answer.note, actor: "dashboard" })
          .then(function () { enms.toast("Stopped A/B test " + id + ".", "ok"); return reload(); })
          .catch(function (err) { enms.toast(err.message, "error"); });
      });
    });
  });

  renderAll();
  // The cards are drawn by this script, after the browser looked for the #test-N anchor;
  // they grow as their results arrive, so the linked one is scrolled to again after that.
  function showLinked() {
    var target = /^#test-\d+$/.test(location.hash) ? document.querySelector(location.hash) : null;
    if (!target) return;
    target.classList.add("linked");
    target.scrollIntoView({ block: "start" });
  }
  showLinked();
  Promise.all(data.tests.map(loadResults)).then(showLinked);
  enms.poll(function () {
    var running = data.tests.filter(function (t) { return t.status === "running"; });
    return Promise.all(running.map(loadResults));
  }, 15000);
})();
