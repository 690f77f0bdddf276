/* Versions page: renders the page data (versions side by side, metrics, gate verdicts, the
 * models' own reports, alias history, watches) and promotes / rolls back through the public
 * promotion API with a confirmation dialog; after a move it fetches /ui/api/versions/… and
 * re-renders, so the new champion shows without a reload.
 */
(function () {
  "use strict";
  var esc = enms.esc, fmt = enms.fmt;
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var base = "/api/v1/machines/" + data.machine.id + "/models/" + data.model_type;

  // The API's errors are {"error": {code, message, details}}; enms.api's Error only reads
  // `detail`, so the message and details are taken from the body here.
  function problem(err) {
    return { message: err.message, details: err.details || {} };
  }
  function pval(p) {
    if (p === null || p === undefined) return "—";
    if (p < 0.001) return "< 0.001";
    return Number(p).toFixed(3);
  }
  function verdictBadge(passed, yes, no, none) {
    if (passed === true) return '<span class="badge pass">' + esc(yes || "pass") + "</span>";
    if (passed === false) return '<span class="badge fail">' + esc(no || "fail") + "</span>";
    return '<span class="badge info">' + esc(none || "n/a") + "</span>";
  }
  function aliasBadges(aliases) {
    return aliases.map(function (a) {
      var cls = a === "champion" ? "ok" : a === "challenger" ? "info" : "";
      var mark = a === "challenger" ? "◆ " : a === "champion" ? "" : "· ";
      return '<span class="badge alias ' + cls + ' alias-' + esc(a) + '">' + mark + esc(a) + "</span>";
    }).join(" ");
  }
  function champion() {
    for (var i = 0; i < data.versions.length; i++) {
      if (data.versions[i].aliases.indexOf("champion") >= 0) return data.versions[i];
    }
    return null;
  }

  function renderHeader() {
    var c = champion();
    var line = document.getElementById("champion-line");
    line.innerHTML = c
      ? 'Champion: <strong id="champion-version">v' + c.version + "</strong> · " +
        data.versions.length + " version" + (data.versions.length === 1 ? "" : "s")
      : data.versions.length ? "No champion." : "";
    var back = document.getElementById("rollback");
    back.hidden = !c || !data.rollback_to;
    back.textContent = data.rollback_to ? "Roll back to v" + data.rollback_to : "Roll back";
    document.getElementById("version-actions").hidden = !data.versions.length;
  }

  function renderMetrics() {
    var box = document.getElementById("metrics");
    if (!data.versions.length) {
      box.innerHTML = '<p class="empty">No ' + esc(data.model_type) +
        " version yet for " + esc(data.machine.name) +
        '. Train one on the <a href="/ui/training?machine_id=' + data.machine.id +
        "&model_type=" + esc(data.model_type) + '">Training page</a>.</p>';
      return;
    }
    var head = data.versions.map(function (v) {
      return '<th class="num">v' + v.version + " " + aliasBadges(v.aliases) + "</th>";
    }).join("");
    var rows = data.metrics.map(function (m) {
      return "<tr><th scope=\"row\">" + esc(m.label) + "</th>" + m.values.map(function (x) {
        return '<td class="num">' + fmt.num(x, 4) + "</td>";
      }).join("") + "</tr>";
    }).join("");
    box.innerHTML = '<table class="grid" id="metrics-table"><thead><tr><th>Metric</th>' + head +
      "</tr></thead><tbody>" + (rows || '<tr><td colspan="99" class="muted">No held-out metrics recorded.</td></tr>') +
      "</tbody></table>";
  }

  function gateTable(v) {
    if (!v.gate.length) return '<p class="muted">Never gated (' + esc(v.origin) + ").</p>";
    return '<table class="grid compact gate"><tbody>' + v.gate.map(function (g) {
      return "<tr><td>" + verdictBadge(g.passed) + '</td><td><span class="rule">' +
        esc(g.rule.replace(/_/g, " ")) + '</span><br><span class="muted small">' + esc(g.detail) + "</span></td></tr>";
    }).join("") + "</tbody></table>";
  }

  function coefficientTable(rows) {
    return '<table class="grid compact coefficients"><thead><tr><th>Term</th><th class="num">Estimate</th>' +
      '<th class="num">Std. error</th><th class="num">t</th><th class="num">p</th></tr></thead><tbody>' +
      rows.map(function (r) {
        return "<tr><td>" + esc(r.term) + '</td><td class="num">' + fmt.num(r.estimate, 4) +
          '</td><td class="num">' + fmt.num(r.std_error, 3) + '</td><td class="num">' +
          fmt.num(r.t_value, 3) + '</td><td class="num">' + pval(r.p_value) + "</td></tr>";
      }).join("") + "</tbody></table>";
  }

  function baselineParts(v) {
    var out = "";
    if (v.coefficients.length) out += "<h4>Coefficients</h4>" + coefficientTable(v.coefficients);
    var a = v.ashrae14;
    if (a) {
      out += '<h4>ASHRAE Guideline 14</h4><dl class="kv">' +
        "<dt>Hourly</dt><dd>" + verdictBadge(a.hourly, "pass", "fail", "not checked") +
        " CV(RMSE) " + fmt.pct(a.hourly_cv_rmse) + ", NMBE " + fmt.pct(a.hourly_nmbe) + "</dd>" +
        "<dt>Monthly</dt><dd>" + verdictBadge(a.monthly, "pass", "fail", "not checked") +
        (a.monthly === null && a.monthly_reason ? ' <span class="muted small">' + esc(a.monthly_reason) + "</span>" : "") +
        "</dd><dt>Adj. R²</dt><dd>" + fmt.num(a.adj_r_squared, 4) + "</dd></dl>";
    }
    var s = v.sufficiency;
    if (s) {
      out += '<h4>Data sufficiency</h4><dl class="kv"><dt>Verdict</dt><dd>' +
        verdictBadge(s.sufficient, "sufficient", "insufficient", s.verdict || "unknown") +
        ' <span class="muted small">' + esc(s.method || "") + "</span></dd>" +
        "<dt>Span</dt><dd>" + fmt.num(s.span_days, 3) + " of " + fmt.num(s.required_days, 3) + " days</dd>" +
        "<dt>Missing</dt><dd>" + fmt.pct(s.missing_fraction === null ? null : s.missing_fraction * 100) + "</dd></dl>" +
        (s.reasons.length ? '<ul class="reasons">' + s.reasons.map(function (r) { return "<li>" + esc(r) + "</li>"; }).join("") + "</ul>" : "");
    }
    return out;
  }

  function forecasterParts(v) {
    var s = v.selection;
    if (!s) return "";
    return '<h4>Candidate selection</h4><p class="small">Chosen: <strong class="winner">' + esc(s.winner) +
      '</strong> <span class="muted">(validation from ' + fmt.date(s.validation_from) + ")</span></p>" +
      '<table class="grid compact candidates"><thead><tr><th>Candidate</th><th class="num">RMSE</th>' +
      '<th class="num">MAPE %</th><th class="num">Skill</th></tr></thead><tbody>' +
      s.candidates.map(function (c) {
        return '<tr class="' + (c.chosen ? "chosen" : "") + '"><td>' + (c.chosen ? "★ " : "") + esc(c.name) +
          '</td><td class="num">' + fmt.num(c.rmse, 4) + '</td><td class="num">' + fmt.num(c.mape, 3) +
          '</td><td class="num">' + fmt.num(c.skill, 3) + "</td></tr>";
      }).join("") + "</tbody></table>";
  }

  function anomalyParts(v) {
    var t = v.alarm_threshold;
    if (!t) return "";
    return '<h4>Alarm threshold</h4><dl class="kv"><dt>Threshold</dt><dd>' + fmt.num(t.threshold, 4) +
      "</dd><dt>Method</dt><dd>" + esc(t.method) + "</dd><dt>Target rate</dt><dd>" +
      fmt.num(t.target_alarm_rate, 3) + "</dd></dl>";
  }

  function versionColumn(v) {
    var isChampion = v.aliases.indexOf("champion") >= 0;
    var action = isChampion ? '<p class="muted small">Serving as champion.</p>'
      : '<button type="button" class="primary promote" data-needs="admin" data-version="' + v.version + '">Promote v' + v.version + "</button>";
    return '<article class="card version' + (isChampion ? " is-champion" : "") + '" id="v' + v.version +
      '" data-version="' + v.version + '"><header><h3>v' + v.version + "</h3> " + aliasBadges(v.aliases) +
      " " + verdictBadge(v.gate_passed, "gate passed", "gate failed", "not gated") + "</header>" +
      '<dl class="kv small"><dt>Created</dt><dd>' + fmt.time(v.created_at) + " by " + esc(v.created_by) + "</dd>" +
      "<dt>Trained on</dt><dd>" + fmt.date(v.training_start) + " – " + fmt.date(v.training_end) +
      (v.training_rows ? " (" + fmt.num(v.training_rows, 6) + " rows)" : "") + "</dd>" +
      (v.training_job_id ? '<dt>Job</dt><dd><a href="/ui/training#job-' + v.training_job_id + '">#' + v.training_job_id + "</a></dd>" : "") +
      (v.flags.length ? "<dt>Flags</dt><dd>" + v.flags.map(function (f) { return '<span class="badge warning">' + esc(f) + "</span>"; }).join(" ") + "</dd>" : "") +
      "</dl>" + action + "<h4>Gate at registration</h4>" + gateTable(v) +
      baselineParts(v) + forecasterParts(v) + anomalyParts(v) + "</article>";
  }

  function renderVersions() {
    var box = document.getElementById("versions");
    box.style.setProperty("--columns", Math.max(data.versions.length, 1));
    box.innerHTML = data.versions.map(versionColumn).join("");
  }

  // "A/B test 3" in a move's reason links to that test's card.
  function linkTests(html) {
    return html.replace(/A\/B test (\d+)/g, function (all, id) {
      return '<a href="/ui/ab-tests#test-' + id + '">' + all + "</a>";
    });
  }

  function renderHistory() {
    var box = document.getElementById("history");
    if (!data.history.length) { box.innerHTML = '<p class="empty">No alias has moved yet.</p>'; return; }
    box.innerHTML = '<table class="grid" id="history-table"><thead><tr><th>When</th><th>Action</th><th>Alias</th>' +
      "<th>Move</th><th>By</th><th>Why</th></tr></thead><tbody>" + data.history.map(function (e) {
        return '<tr data-action="' + esc(e.action) + '"><td class="nowrap">' + fmt.time(e.at) + "</td><td>" + esc(e.action) +
          "</td><td>" + esc(e.alias) + '</td><td class="nowrap">' + (e.from_version ? "v" + e.from_version : "—") + " → " +
          (e.to_version ? "v" + e.to_version : "—") + "</td><td>" + esc(e.actor) + '</td><td class="small">' +
          linkTests(esc(e.reason || "")) + (e.details && e.details.override ? ' <span class="badge warning">override</span>' : "") +
          "</td></tr>";
      }).join("") + "</tbody></table>";
  }

  function renderWatches() {
    var box = document.getElementById("watches");
    if (!data.watches.length) { box.innerHTML = '<p class="muted">No promotion has been watched.</p>'; return; }
    box.innerHTML = '<table class="grid"><thead><tr><th>Promoted</th><th>Watched until</th><th>State</th><th>Result</th></tr></thead><tbody>' +
      data.watches.map(function (w) {
        var cls = w.state === "passed" ? "pass" : w.state === "rolled_back" ? "fail" : "info";
        return '<tr><td class="nowrap">' + fmt.time(w.promoted_at) + '</td><td class="nowrap">' + fmt.time(w.watch_until) +
          '</td><td><span class="badge ' + cls + '">' + esc(w.state.replace("_", " ")) + '</span></td><td class="small">' +
          esc((w.result && w.result.reason) || "") + "</td></tr>";
      }).join("") + "</tbody></table>";
  }

  function renderAll() {
    renderHeader(); renderMetrics(); renderVersions(); renderHistory(); renderWatches();
  }

  function refresh() {
    return enms.getJSON("/ui/api/versions/" + data.machine.id + "/" + data.model_type).then(function (fresh) {
      data = fresh;
      renderAll();
    });
  }

  function promote(button, version) {
    enms.confirm({
      title: "Promote v" + version + " to champion?",
      text: "v" + version + " will serve " + data.machine.name + "'s " + data.model_type +
        " predictions; the current champion becomes the rollback target.",
      confirmLabel: "Promote", note: true,
    }).then(function (answer) {
      if (!answer) return;
      var body = { version: version, reason: answer.note || null, override: false, actor: "dashboard" };
      return enms.busy(button, function () {
        return enms.api("POST", base + "/promote", body).then(function () {
          enms.toast("v" + version + " is now the champion.", "ok");
          return refresh();
        }).catch(function (err) {
          var p = problem(err);
          enms.toast(p.message, "error");
          if (err.status === 422 && (p.details.failed_rules || []).length) {
            return offerOverride(button, version, p.details.failed_rules);
          }
        });
      });
    });
  }

  function offerOverride(button, version, rules) {
    return enms.confirm({
      title: "Override the promotion gate?",
      text: "v" + version + " failed: " + rules.join(", ") + ". Promoting it anyway is audited; give the reason.",
      confirmLabel: "Override and promote", note: "required",
    }).then(function (answer) {
      if (!answer) return;
      if (!answer.note) { enms.toast("An override needs a reason.", "error"); return; }
      var body = { version: version, reason: answer.note, override: true, actor: "dashboard" };
      return enms.api("POST", base + "/promote", body).then(function () {
        enms.toast("v" + version + " is now the champion (gate overridden).", "ok");
        return refresh();
      }).catch(function (err) { enms.toast(problem(err).message, "error"); });
    });
  }

  function rollback(button) {
    var c = champion();
    enms.confirm({
      title: "Roll back " + data.model_type + "?",
      text: "The champion alias returns from v" + (c ? c.version : "?") + " to v" + data.rollback_to + ", the champion before it.",
      confirmLabel: "Roll back", note: true,
    }).then(function (answer) {
      if (!answer) return;
      return enms.busy(button, function () {
        return enms.api("POST", base + "/rollback", { actor: "dashboard", reason: answer.note || null })
          .then(function (back) {
            enms.toast("Rolled back: v" + back.version + " is the champion again.", "ok");
            return refresh();
          }).catch(function (err) { enms.toast(problem(err).message, "error"); });
      });
    });
  }

  document.getElementById("versions").addEventListener("click", function (ev) {
    var button = ev.target.closest("button.promote");
    if (button) promote(button, Number(button.dataset.version));
  });
  document.getElementById("rollback").addEventListener("click", function (ev) { rollback(ev.currentTarget); });
  renderAll();
})();
