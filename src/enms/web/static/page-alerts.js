/* Alerts page: renders active and past alerts from JSON, applies the filters without a
 * reload (the URL follows them), expands an alert into its readable details and history
 * (/ui/api/alerts/{id}), acknowledges / resolves through /api/v1/alerts/{id}/... with a note
 * (the row is re-rendered from the reply). Silences: page-alert-silences.js.
 * The lists refresh every 30 s. "Acting as" is remembered in localStorage; ages are computed
 * from the server's clock.
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var form = document.getElementById("alert-filters");
  var actor = document.getElementById("actor");
  var ACTOR_KEY = "enms.actor";
  var serverNow = data.now;
  var lists = { active: data.active, past: data.past };
  var open = {};      // alert id -> true while its detail row is expanded
  var views = {};     // alert id -> last /ui/api/alerts/{id} reply
  var targetId = null; // the alert the URL's #alert-<id> points at
  var machineNames = {};
  data.machines.forEach(function (m) { machineNames[m.id] = m.name; });

  actor.value = localStorage.getItem(ACTOR_KEY) || "dashboard";
  actor.addEventListener("change", function () {
    var v = actor.value.trim();
    if (v) localStorage.setItem(ACTOR_KEY, v); else actor.value = localStorage.getItem(ACTOR_KEY) || "dashboard";
  });
  function who() { return actor.value.trim() || "dashboard"; }

  function ago(iso) { return iso ? enms.fmt.ago(iso, serverNow) : ""; }
  function label(t) { return String(t || "").replace(/_/g, " "); }

  function modelCell(a) {
    var html = '<a href="/ui/machines/' + a.machine_id + '">' + enms.esc(a.machine_name) + "</a>";
    if (a.model_type) {
      var href = "/ui/machines/" + a.machine_id + "/models/" + encodeURIComponent(a.model_type) +
        (a.model_version ? "#v" + a.model_version : "");
      html += '<small><a href="' + href + '">' + enms.esc(a.model_type) + (a.model_version ? " v" + a.model_version : "") + "</a></small>";
    } else {
      html += "<small>machine-level</small>";
    }
    return html;
  }

  function actionCell(a) {
    if (!a.auto_action) return '<span class="muted">none</span>';
    var html = "<strong>" + enms.esc(label(a.auto_action)) + "</strong>";
    if (a.action_job_id) html += ' · <a href="/ui/training#job-' + a.action_job_id + '">job ' + a.action_job_id + "</a>";
    if (a.auto_action_result) html += "<small>" + enms.esc(a.auto_action_result) + "</small>";
    return html;
  }

  function stateBadge(a) {
    var html = '<span class="badge state-' + a.state + '">' + enms.esc(a.state) + "</span>";
    if (a.silenced) html += ' <span class="badge info silenced" title="an active silence mutes its notifications">silenced</span>';
    return html;
  }

  function mainRow(a) {
    var tr = document.createElement("tr");
    tr.id = "alert-" + a.id;
    tr.className = "alert-row" + (a.id === targetId ? " target" : "");
    tr.dataset.alertId = a.id;
    tr.dataset.state = a.state;
    var buttons = '<button type="button" class="toggle" aria-expanded="' + (open[a.id] ? "true" : "false") +
      '" aria-controls="alert-' + a.id + '-detail">' + (open[a.id] ? "Hide" : "Details") + "</button>";
    if (a.state === "open") buttons += '<button type="button" class="ack" data-needs="operator">Acknowledge</button>';
    if (a.state !== "resolved") buttons += '<button type="button" class="primary resolve" data-needs="operator">Resolve</button>';
    if (a.state !== "resolved") buttons += '<button type="button" class="silence" data-needs="operator" title="Silence alerts like this one">Silence…</button>';
    tr.innerHTML =
      '<td><span class="badge ' + a.severity + '">' + enms.esc(a.severity) + "</span></td>" +
      '<td class="state">' + stateBadge(a) + "</td>" +
      '<td class="alert"><span class="type">' + enms.esc(label(a.alert_type)) + ' <span class="muted">#' + a.id + "</span></span>" +
      '<span class="message">' + enms.esc(a.message) + "</span></td>" +
      "<td>" + modelCell(a) + "</td>" +
      '<td class="raised"><span class="when">' + enms.fmt.time(a.first_seen) + "</span><small>" + ago(a.first_seen) +
      (a.occurrences > 1 ? " · seen " + a.occurrences + "×, last " + ago(a.last_seen) : "") + "</small>" +
      (a.acknowledged_at && a.state === "acknowledged" ? "<small>acknowledged " + ago(a.acknowledged_at) + " by " + enms.esc(a.acknowledged_by) + "</small>" : "") +
      (a.resolved_at ? "<small>resolved " + ago(a.resolved_at) + " by " + enms.esc(a.resolved_by) + "</small>" : "") + "</td>" +
      '<td class="action">' + actionCell(a) + "</td>" +
      '<td class="actions"><div class="stack">' + buttons + "</div></td>";
    tr.querySelector("button.toggle").addEventListener("click", function () { toggle(a.id); });
    var ack = tr.querySelector("button.ack");
    if (ack) ack.addEventListener("click", function () { acknowledge(a, ack); });
    var res = tr.querySelector("button.resolve");
    if (res) res.addEventListener("click", function () { resolve(a, res); });
    var mute = tr.querySelector("button.silence");
    if (mute) mute.addEventListener("click", function () { window.enmsAlertSilences.prefill(a); });
    return tr;
  }

  function cell(c) {
    if (!c || typeof c !== "object") return enms.esc(c);
    var inner = enms.esc(c.text);
    if (c.href) inner = '<a href="' + enms.esc(c.href) + '">' + inner + "</a>";
    if (c.badge) inner = '<span class="badge ' + enms.esc(c.badge) + '">' + inner + "</span>";
    return inner;
  }

  function facts(pairs, wide) {
    return '<dl class="kv' + (wide ? " wide" : "") + '">' + pairs.map(function (p) {
      return "<dt>" + enms.esc(p[0]) + "</dt><dd>" + cell(p[1]) + "</dd>";
    }).join("") + "</dl>";
  }

  function lifecycleFacts(a) {
    var p = [["Message", { text: a.message }], ["First seen", { text: enms.fmt.time(a.first_seen) }], ["Last seen", { text: enms.fmt.time(a.last_seen) + " (" + a.occurrences + "×)" }]];
    if (a.acknowledged_at) p.push(["Acknowledged", { text: enms.fmt.time(a.acknowledged_at) + " by " + a.acknowledged_by }]);
    if (a.acknowledged_note) p.push(["Acknowledge note", { text: a.acknowledged_note }]);
    if (a.resolved_at) p.push(["Resolved", { text: enms.fmt.time(a.resolved_at) + " by " + a.resolved_by }]);
    if (a.resolution_note) p.push(["Resolution note", { text: a.resolution_note }]);
    if (a.clear_since && a.state !== "resolved") p.push(["Clear since", { text: enms.fmt.time(a.clear_since) }]);
    if (a.auto_action) {
      p.push(["Auto-action", { text: label(a.auto_action) }]);
      if (a.action_job_id) p.push(["Training job", { text: "job " + a.action_job_id, href: "/ui/training#job-" + a.action_job_id }]);
      if (a.auto_action_result) p.push(["Outcome", { text: a.auto_action_result }]);
    }
    p.push(["Notifications", a.silenced ? { text: "silenced", badge: "info" } : { text: "not silenced" }]);
    return p;
  }

  function table(t) {
    return "<h3>" + enms.esc(t.title) + '</h3><div class="scroll"><table class="grid details-table"><thead><tr>' +
      t.columns.map(function (c) { return "<th>" + enms.esc(c) + "</th>"; }).join("") + "</tr></thead><tbody>" +
      t.rows.map(function (r) { return "<tr>" + r.map(function (c) { return "<td>" + cell(c) + "</td>"; }).join("") + "</tr>"; }).join("") +
      "</tbody></table></div>";
  }

  function historyTable(events) {
    if (!events.length) return '<p class="muted">No recorded transitions.</p>';
    return '<table class="grid history"><thead><tr><th>When (UTC)</th><th>What</th><th>Who</th><th>Note</th></tr></thead><tbody>' +
      events.map(function (e) {
        return "<tr><td>" + enms.fmt.time(e.at) + "</td><td>" + enms.esc(label(e.rule)) + "</td><td>" +
          enms.esc(e.actor) + "</td><td>" + enms.esc(e.reason || "") + "</td></tr>";
      }).join("") + "</tbody></table>";
  }

  var DELIVERY_BADGE = { sent: "pass", failed: "fail", silenced: "info", pending: "info" };
  function deliveriesTable(rows) {
    if (!rows.length) return '<p class="muted">No notification has been recorded for this alert.</p>';
    return '<table class="grid deliveries"><thead><tr><th>When (UTC)</th><th>Channel</th><th>To</th><th>Status</th>' +
      '<th class="num">Attempts</th><th>Response</th></tr></thead><tbody>' +
      rows.map(function (d) {
        return "<tr><td>" + enms.fmt.time(d.created_at) + "</td><td>" + enms.esc(d.channel) + "</td><td>" +
          enms.esc(d.target) + '</td><td><span class="badge ' + (DELIVERY_BADGE[d.status] || "info") + '">' +
          enms.esc(d.status) + '</span></td><td class="num">' + d.attempts + "</td><td>" +
          enms.esc(d.last_error || (d.response_code ? "HTTP " + d.response_code : "")) + "</td></tr>";
      }).join("") + "</tbody></table>";
  }

  function detailRow(id) {
    var tr = document.createElement("tr");
    tr.className = "detail";
    tr.id = "alert-" + id + "-detail";
    var td = document.createElement("td");
    td.colSpan = 7;
    var v = views[id];
    if (!v) {
      td.innerHTML = '<span class="spinner" aria-hidden="true"></span> Loading details…';
    } else {
      var a = v.alert;
      td.innerHTML = '<div class="detail-grid"><div><h3>Lifecycle</h3>' + facts(lifecycleFacts(a), true) +
        "</div><div><h3>Details</h3>" + (v.view.facts.length ? facts(v.view.facts, true) : "") +
        v.view.tables.map(table).join("") + "</div></div>" +
        "<h3>History</h3>" + historyTable(a.history) +
        "<h3>Notifications</h3>" + deliveriesTable(v.deliveries) +
        '<details><summary>Raw details (JSON)</summary><pre class="raw">' + enms.esc(JSON.stringify(a.details, null, 2)) + "</pre></details>";
    }
    tr.appendChild(td);
    return tr;
  }

  function renderList(key) {
    var tbody = document.querySelector("#" + key + "-alerts tbody");
    var rows = [];
    lists[key].forEach(function (a) {
      rows.push(mainRow(a));
      if (open[a.id]) rows.push(detailRow(a.id));
    });
    tbody.replaceChildren.apply(tbody, rows);
    document.getElementById(key + "-empty").hidden = lists[key].length > 0;
    var n = lists[key].length;
    document.getElementById(key + "-count").textContent = "(" + n + ")";
  }

  function renderAll() {
    var state = data.filters.state;
    document.getElementById("active-panel").hidden = state === "resolved";
    document.getElementById("past-panel").hidden = !!state && state !== "resolved";
    document.getElementById("past-title").firstChild.textContent = "Past alerts · resolved, last " + data.filters.days + " days ";
    renderList("active");
    renderList("past");
  }

  function loadView(id) {
    return enms.getJSON("/ui/api/alerts/" + id).then(function (reply) {
      serverNow = reply.now;
      views[id] = reply;
      return reply;
    });
  }

  function replaceAlert(fresh) {
    ["active", "past"].forEach(function (key) {
      lists[key] = lists[key].map(function (a) { return a.id === fresh.id ? fresh : a; });
    });
    renderAll();
  }

  function toggle(id) {
    if (open[id]) { delete open[id]; renderAll(); return; }
    open[id] = true;
    renderAll();
    loadView(id).then(function (reply) { replaceAlert(reply.alert); }, function (err) {
      delete open[id];
      renderAll();
      enms.toast("Could not load alert " + id + ": " + err.message, "error");
    });
  }

  function afterTransition(a, verb) {
    return function (detail) {
      enms.toast("Alert " + a.id + " " + verb + " by " + who() + ".", "ok");
      return loadView(a.id).then(function (reply) { replaceAlert(reply.alert); }, function () { replaceAlert(detail); });
    };
  }
  function failed(a, verb) {
    return function (err) { enms.toast("Could not " + verb + " alert " + a.id + ": " + err.message, "error"); };
  }

  function acknowledge(a, button) {
    enms.confirm({
      title: "Acknowledge alert " + a.id + "?",
      text: a.message + " — acknowledging says someone is on it; it stays active until resolved.",
      confirmLabel: "Acknowledge", note: true,
    }).then(function (answer) {
      if (!answer) return;
      return enms.busy(button, function () {
        return enms.api("POST", "/api/v1/alerts/" + a.id + "/acknowledge", { by: who(), note: answer.note || null })
          .then(afterTransition(a, "acknowledged"), failed(a, "acknowledge"));
      });
    });
  }

  function resolve(a, button) {
    enms.confirm({
      title: "Resolve alert " + a.id + "?",
      text: a.message + " — say why it is resolved (required). If the condition persists, the next check raises a new alert.",
      confirmLabel: "Resolve", note: "required",
    }).then(function (answer) {
      if (!answer) return;
      if (!answer.note) { enms.toast("A resolution note is required.", "error"); return; }
      return enms.busy(button, function () {
        return enms.api("POST", "/api/v1/alerts/" + a.id + "/resolve", { by: who(), note: answer.note })
          .then(afterTransition(a, "resolved"), failed(a, "resolve"));
      });
    });
  }

  /* ---- filters ---- */
  function filterValues() {
    var f = new FormData(form);
    return { machine_id: f.get("machine_id"), model_type: f.get("model_type"), state: f.get("state"),
      severity: f.get("severity"), days: f.get("days") };
  }
  function refresh() {
    var f = filterValues();
    return enms.getJSON("/ui/api/alerts" + enms.qs(f)).then(function (reply) {
      serverNow = reply.now;
      data.filters = { machine_id: f.machine_id, model_type: f.model_type, state: f.state, severity: f.severity, days: f.days };
      lists = { active: reply.active, past: reply.past };
      keepTarget();
      renderAll();
      return f;
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    refresh().then(function (f) {
      history.replaceState(null, "", "/ui/alerts" + enms.qs(f));
    }, function (err) { enms.toast(err.message, "error"); });
  });
  document.getElementById("f-reset").addEventListener("click", function () {
    form.querySelectorAll("select").forEach(function (s) { s.value = s.name === "days" ? "90" : ""; });
    form.requestSubmit();
  });

  function keepTarget() {
    // An alert opened from a link stays shown even when the filters would leave it out.
    var v = views[targetId];
    if (!v || lists.active.concat(lists.past).some(function (a) { return a.id === targetId; })) return;
    (v.alert.state === "resolved" ? lists.past : lists.active).unshift(v.alert);
  }

  renderAll();
  // The silences panel (page-alert-silences.js) uses these.
  window.enmsAlertsPage = { who: who, refresh: refresh, label: label };
  // New alerts and changes made elsewhere show up without a reload (the filters as applied).
  enms.poll(function () {
    var f = data.filters;
    return enms.getJSON("/ui/api/alerts" + enms.qs(f)).then(function (reply) {
      serverNow = reply.now;
      lists = { active: reply.active, past: reply.past };
      keepTarget();
      renderAll();
    });
  }, 30000);
  function showHash() {
    if (!/^#alert-\d+$/.test(location.hash)) return;
    var id = Number(location.hash.slice(7));
    targetId = id;
    if (!document.getElementById("alert-" + id)) {
      // Linked from elsewhere but outside these filters: fetch it and show it on top.
      loadView(id).then(function (reply) {
        var a = reply.alert;
        (a.state === "resolved" ? lists.past : lists.active).unshift(a);
        open[id] = true;
        renderAll();
        document.getElementById("alert-" + id).scrollIntoView({ block: "start" });
      }, function (err) { enms.toast("Alert " + id + ": " + err.message, "error"); });
      return;
    }
    if (!open[id]) toggle(id); else renderAll();
    document.getElementById("alert-" + id).scrollIntoView({ block: "start" });
  }
  window.addEventListener("hashchange", showHash);
  showHash();
})();
