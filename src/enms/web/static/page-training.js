/* Training history page: renders the job table from JSON, applies the filters without a
 * reload (the URL follows them), polls /ui/api/training/jobs every 2 s while a shown job is
 * pending or running, and cancels jobs through POST /api/v1/training-jobs/{id}/cancel.
 * Ages are computed from the server's clock (page data `now`), not the browser's.
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var form = document.getElementById("job-filters");
  var tbody = document.querySelector("#jobs tbody");
  var empty = document.getElementById("jobs-empty");
  var count = document.getElementById("job-count");
  var live = document.getElementById("live-state");
  var ACTIVE = { pending: true, running: true };
  var poller = null;
  var serverNow = data.now;
  var jobs = data.jobs;

  function ago(iso) { return iso ? enms.fmt.ago(iso, serverNow) : ""; }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 90) return enms.fmt.num(seconds, 3) + " s";
    return enms.fmt.num(seconds / 60, 3) + " min";
  }

  function filters() {
    var f = new FormData(form);
    return {
      machine_id: f.get("machine_id"), model_type: f.get("model_type"), status: f.get("status"),
      from: f.get("from"), to: f.get("to"),
    };
  }

  function progressCell(j) {
    var pct = j.progress_percent === null ? 0 : Math.max(0, Math.min(100, j.progress_percent));
    if (j.training_status === "pending") return '<span class="muted">waiting for a worker</span>';
    if (j.training_status === "completed") pct = 100;
    var label = (j.progress_stage ? enms.esc(j.progress_stage) + " · " : "") + Math.round(pct) + " %";
    return '<div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="' +
      Math.round(pct) + '" aria-label="Progress of job ' + j.id + '"><div style="width:' + pct + '%"></div></div>' +
      "<small>" + label + "</small>";
  }

  function resultCell(j) {
    var out = "";
    if (j.model_version !== null) {
      var href = "/ui/machines/" + j.machine_id + "/models/" + encodeURIComponent(j.model_type) + "#v" + j.model_version;
      out += '<a class="version" href="' + href + '">version ' + j.model_version + "</a>";
      if (j.performance_improvement !== null) {
        out += ' <small class="muted">(' + (j.performance_improvement >= 0 ? "+" : "") +
          enms.fmt.num(j.performance_improvement, 3) + " % vs champion)</small>";
      }
    }
    if (j.error_message) {
      var cls = j.training_status === "cancelled" ? "muted" : "error";
      out += '<span class="' + cls + '">' + (cls === "error" ? "Error: " : "") + enms.esc(j.error_message) + "</span>";
    }
    if (j.cancel_requested && ACTIVE[j.training_status]) out += '<span class="muted">cancel requested…</span>';
    return out || '<span class="muted">—</span>';
  }

  function reasonHtml(reason) {
    if (!reason) return "";
    if (reason.length <= 50) return "<small>" + enms.esc(reason) + "</small>";
    return '<details class="reason"><summary>' + enms.esc(reason.slice(0, 36)) + "…</summary><small>" +
      enms.esc(reason) + "</small></details>";
  }

  function row(j) {
    var tr = document.createElement("tr");
    tr.id = "job-" + j.id;
    tr.dataset.jobId = j.id;
    tr.dataset.status = j.training_status;
    tr.className = "status-" + j.training_status + (location.hash === "#job-" + j.id ? " highlight" : "");
    var canCancel = ACTIVE[j.training_status] && !j.cancel_requested;
    tr.innerHTML =
      '<td class="num">' + j.id + "</td>" +
      '<td class="machine"><a href="/ui/machines/' + j.machine_id + '">' + enms.esc(j.machine_name || ("Machine " + j.machine_id)) + "</a></td>" +
      "<td>" + enms.esc(j.model_type) + "</td>" +
      '<td class="trigger">' + enms.esc(j.trigger_type) + reasonHtml(j.trigger_reason) +
      "<small>by " + enms.esc(j.requested_by) + "</small></td>" +
      '<td class="created">' + enms.fmt.time(j.created_at).replace(" UTC", "") + "<small>" + ago(j.created_at) + "</small></td>" +
      '<td class="state"><span class="status">' + enms.esc(j.training_status.replace("_", " ")) + "</span>" +
      (j.attempts > 1 ? ' <small class="muted">attempt ' + j.attempts + "</small>" : "") +
      (canCancel ? '<button type="button" class="danger cancel" data-needs="operator">Cancel</button>' : "") + "</td>" +
      '<td class="progress">' + progressCell(j) + "</td>" +
      '<td class="num">' + duration(j.training_duration_seconds) + "</td>" +
      '<td class="result">' + resultCell(j) + "</td>";
    if (canCancel) tr.querySelector("button.cancel").addEventListener("click", function (ev) { cancel(j, ev.currentTarget); });
    return tr;
  }

  function render() {
    tbody.replaceChildren.apply(tbody, jobs.map(row));
    empty.hidden = jobs.length > 0;
    var active = jobs.filter(function (j) { return ACTIVE[j.training_status]; }).length;
    count.textContent = jobs.length + " job" + (jobs.length === 1 ? "" : "s") +
      (jobs.length >= data.limit ? " (the newest " + data.limit + ")" : "") +
      (active ? " · " + active + " pending or running" : "");
    live.hidden = !active;
    if (active && !poller) poller = enms.poll(refresh, 2000);
    if (!active && poller) { poller.stop(); poller = null; }
  }

  function refresh() {
    return enms.getJSON("/ui/api/training/jobs" + enms.qs(filters())).then(function (reply) {
      serverNow = reply.now;
      jobs = reply.jobs;
      render();
    });
  }

  function cancel(j, button) {
    var what = j.training_status === "running" ? "Stop the running" : "Cancel the pending";
    enms.confirm({
      title: "Cancel job " + j.id + "?",
      text: what + " " + j.model_type + " training of " + (j.machine_name || "machine " + j.machine_id) +
        (j.training_status === "running" ? ". Its fit is terminated within seconds; nothing is registered." : "."),
      confirmLabel: "Cancel job",
    }).then(function (answer) {
      if (!answer) return;
      return enms.busy(button, function () {
        return enms.api("POST", "/api/v1/training-jobs/" + j.id + "/cancel").then(function (done) {
          enms.toast(done.training_status === "cancelled" ? "Job " + j.id + " cancelled." :
            "Job " + j.id + " is stopping.", "ok");
          return refresh();
        }, function (err) {
          enms.toast("Could not cancel job " + j.id + ": " + err.message, "error");
          return refresh();
        });
      });
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = filters();
    refresh().then(function () {
      history.replaceState(null, "", "/ui/training" + enms.qs(f));
    }, function (err) { enms.toast(err.message, "error"); });
  });
  document.getElementById("f-reset").addEventListener("click", function () {
    form.reset();
    form.querySelectorAll("select").forEach(function (s) { s.value = ""; });
    form.querySelectorAll("input").forEach(function (i) { i.value = ""; });
    form.requestSubmit();
  });

  function showHash() {
    document.querySelectorAll("#jobs tr.highlight").forEach(function (r) { r.classList.remove("highlight"); });
    var target = /^#job-\d+$/.test(location.hash) && document.getElementById(location.hash.slice(1));
    if (target) { target.classList.add("highlight"); target.scrollIntoView({ block: "center" }); }
  }
  render();
  window.addEventListener("hashchange", showHash);
  showHash();
})();
