/* Alerts page, silences panel: lists the active silences (GET /api/v1/alert-silences),
 * creates one from the form (POST; "Silence…" on an alert row pre-fills it) and ends one
 * (DELETE ?by=). The alert lists are refreshed after each change (their "silenced" badge).
 * Runs after page-alerts.js (deferred scripts keep their order) and uses its helpers.
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var page = window.enmsAlertsPage;
  var silenceForm = document.getElementById("silence-form");
  function matches(s) {
    var parts = [];
    parts.push(s.machine_name || (s.machine_id ? "machine " + s.machine_id : "any machine"));
    parts.push(s.model_type || "any model");
    parts.push(s.alert_type ? page.label(s.alert_type) : "any alert type");
    return parts.map(enms.esc).join(" · ");
  }
  function renderSilences(silences) {
    var tbody = document.querySelector("#silences tbody");
    tbody.replaceChildren.apply(tbody, silences.map(function (s) {
      var tr = document.createElement("tr");
      tr.id = "silence-" + s.id;
      tr.innerHTML = "<td>" + matches(s) + "</td><td>" + enms.esc(s.reason) + "</td><td>" + enms.esc(s.author) +
        "<small>" + enms.fmt.time(s.created_at) + "</small></td><td>" + enms.fmt.time(s.expires_at) + "</td>" +
        '<td><button type="button" class="end" data-needs="operator">End now</button></td>';
      var b = tr.querySelector("button.end");
      b.addEventListener("click", function () { endSilence(s, b); });
      return tr;
    }));
    document.getElementById("silences-empty").hidden = silences.length > 0;
    document.getElementById("silences").hidden = silences.length === 0;
  }
  function reloadSilences() {
    return enms.getJSON("/api/v1/alert-silences").then(renderSilences).then(page.refresh);
  }
  function endSilence(s, button) {
    enms.busy(button, function () {
      return enms.api("DELETE", "/api/v1/alert-silences/" + s.id + enms.qs({ by: page.who() })).then(function () {
        enms.toast("Silence " + s.id + " ended.", "ok");
        return reloadSilences();
      }, function (err) { enms.toast("Could not end silence " + s.id + ": " + err.message, "error"); });
    });
  }
  silenceForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = new FormData(silenceForm);
    var body = {
      machine_id: f.get("machine_id") ? Number(f.get("machine_id")) : null,
      model_type: f.get("model_type") || null, alert_type: f.get("alert_type") || null,
      duration_hours: Number(f.get("duration_hours")), reason: String(f.get("reason")).trim(), author: page.who(),
    };
    enms.busy(document.getElementById("s-create"), function () {
      return enms.api("POST", "/api/v1/alert-silences", body).then(function (s) {
        enms.toast("Silenced until " + enms.fmt.time(s.expires_at) + ".", "ok");
        silenceForm.reset();
        return reloadSilences();
      }, function (err) { enms.toast("Could not create the silence: " + err.message, "error"); });
    });
  });
  function prefillSilence(a) {
    document.getElementById("s-machine").value = String(a.machine_id);
    document.getElementById("s-model-type").value = a.model_type || "";
    document.getElementById("s-alert-type").value = a.alert_type;
    var reason = document.getElementById("s-reason");
    document.getElementById("silences-panel").scrollIntoView({ block: "start" });
    reason.focus();
  }


  renderSilences(data.silences);
  window.enmsAlertSilences = { prefill: prefillSilence };
})();
