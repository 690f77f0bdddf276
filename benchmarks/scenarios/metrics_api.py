"""Metrics over HTTP: enms's ``metrics/record`` and ``metrics/trend`` vs MLflow's tracking server.

Both are real servers on loopback, each in its own process (:mod:`benchmarks.peers.servers`):
``enms serve`` on a fresh, migrated SQLite file (one process, as ``enms serve`` runs), and
``mlflow server`` from its own venv (``benchmarks/.venvs/mlflow``) with a SQLite backend
store and its default 4 workers. Clients are threads of this process, one ``httpx.Client``
(one keep-alive connection) each. The same 8 values per evaluated window on both sides:
``r_squared, rmse, mae, mape, cv_rmse, nmbe, skill`` and ``n_samples`` (an MLflow user logs
the count as a metric too). enms records them for an *external* model registered through
``POST /machines/{id}/models/baseline/external-versions``; MLflow logs them to runs of one
experiment (a run per client, its easiest case).

Cases (issue 9 targets, ratios against MLflow measured in the same run):

* **single row**: 8 concurrent clients for a fixed time, each request one row with the 8
  metrics (``POST /api/v1/model-performance/metrics/record``) vs MLflow's
  ``POST /api/2.0/mlflow/runs/log-batch`` with the same 8 metrics: requests/s (≥ 5×);
* **batch**: the same clients, each request ``{"metrics": [1,000 rows]}`` (8,000 values) vs
  ``log-batch`` at its cap of 1,000 metrics (125 rows × 8): metric values/s (≥ 10×);
* **trend**: 30 days of 1-minute rows (43,200; loaded first through the batch form, MLflow
  through ``log-batch``), then ``GET /api/v1/model-performance/metrics/trend?metric=rmse``
  over the 30 days vs ``GET /api/2.0/mlflow/metrics/get-history`` of ``rmse`` (every page):
  latency p50 and p99 (≥ 10× faster). enms answers with at most ``trend_max_points`` bucket
  aggregates per series (its contract); MLflow returns every point. All 8 metrics (one trend
  request vs 8 get-history requests) are reported alongside.

``quick``: 3 days of points and shorter runs (the trend targets are for 30 days, so they are
not applied there). Every phase runs on MLflow and then on enms before the next phase, so both
see the same minutes of a shared machine's load (its load average is in the notes). When the
enms endpoints are not there (404) the MLflow side is still measured and the enms figures are
NaN with the reason (never made up).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.harness import Row
from benchmarks.peers.install import peer_python
from benchmarks.peers.servers import enms_server, mlflow_server

NAME = "metrics_api"
PEER_REQUIREMENTS = ("mlflow==3.17.2",)
CLIENTS = 8
RECORD = "/api/v1/model-performance/metrics/record"
TREND = "/api/v1/model-performance/metrics/trend"
LOG_BATCH = "/api/2.0/mlflow/runs/log-batch"
HISTORY = "/api/2.0/mlflow/metrics/get-history"
METRICS = ("r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe", "skill", "n_samples")
MLFLOW_CAP = 1000  # MLflow's MAX_METRICS_PER_BATCH
ENMS_BATCH_ROWS = 1000
ORIGIN = datetime(2001, 1, 1, tzinfo=UTC)
TREND_START = datetime(2025, 1, 1, tzinfo=UTC)


class EnmsUnavailable(RuntimeError):
    """The enms endpoints this scenario measures answered 404 (not in this build)."""


def values(k: int) -> dict[str, float]:
    """The 8 metrics of the ``k``-th window: varied, valid (r² ≤ 1, errors ≥ 0, skill ≤ 1)."""
    w = (k * 7919) % 1000 / 1000.0
    return {
        "r_squared": 0.80 + 0.15 * w,
        "rmse": 4.0 + 2.0 * w,
        "mae": 3.0 + 1.5 * w,
        "mape": 8.0 + 4.0 * w,
        "cv_rmse": 12.0 + 6.0 * w,
        "nmbe": -1.0 + 2.0 * w,
        "skill": 0.2 + 0.3 * w,
        "n_samples": float(60 + k % 5),
    }


def enms_row(machine_id: int, version: int, start: datetime, k: int) -> dict[str, Any]:
    """One ``metrics/record`` row for the minute ``[start, start + 1 min)``."""
    row: dict[str, Any] = {
        "machine_id": machine_id,
        "model_type": "baseline",
        "model_version": version,
        "evaluation_start": start.isoformat(),
        "evaluation_end": (start + timedelta(minutes=1)).isoformat(),
    }
    metrics = values(k)
    row.update({m: metrics[m] for m in METRICS if m != "n_samples"})
    row["n_samples"] = int(metrics["n_samples"])
    return row


def mlflow_metrics(start: datetime, k: int) -> list[dict[str, Any]]:
    """The same 8 values as MLflow metrics at the window's end (step = minute index)."""
    ms = int((start + timedelta(minutes=1)).timestamp() * 1000)
    return [{"key": m, "value": v, "timestamp": ms, "step": k} for m, v in values(k).items()]


@dataclass(frozen=True)
class Load:
    """What the clients did in one timed phase."""

    requests: int
    items: int  # metric values written
    seconds: float

    @property
    def per_second(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds

    @property
    def items_per_second(self) -> float:
        """Metric values per second."""
        return self.items / self.seconds


def client_for(url: str) -> httpx.Client:
    """One keep-alive connection. Idle for over 2 s it is replaced before reuse: uvicorn (both
    servers) closes a connection idle for 5 s, and a request racing that close would fail."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=2.0)
    return httpx.Client(base_url=url, timeout=300, limits=limits)


Send = Callable[[httpx.Client, int, int], int]
"""(client, client index, request number) → metric values written; raises on a bad answer."""


def hammer(url: str, send: Send, seconds: float, warmup: int = 3) -> Load:
    """``CLIENTS`` threads, each on one keep-alive connection, sending for ``seconds``."""
    counts = [0] * CLIENTS
    items = [0] * CLIENTS
    errors: list[BaseException] = []
    ready = threading.Barrier(CLIENTS + 1)
    go = threading.Event()
    stop = threading.Event()

    def client(i: int) -> None:
        with client_for(url) as http:
            try:
                for j in range(warmup):
                    send(http, i, j)
                ready.wait()
                go.wait()
                j = warmup
                while not stop.is_set():
                    items[i] += send(http, i, j)
                    counts[i] += 1
                    j += 1
            except BaseException as exc:  # reported below
                errors.append(exc)
                ready.abort()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    t0 = time.perf_counter()
    go.set()
    while time.perf_counter() - t0 < seconds and not errors:
        stop.wait(0.05)  # the clients work; this thread only keeps time
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return Load(requests=sum(counts), items=sum(items), seconds=elapsed)


def _check(answer: httpx.Response, what: str) -> httpx.Response:
    # The app's answer for a route it does not have (not a NotFound of a known route).
    route_missing = answer.status_code == 404 and "no such endpoint" in answer.text
    if route_missing and answer.request.url.path.startswith("/api/v1/"):
        raise EnmsUnavailable(
            f"{answer.request.method} {answer.request.url.path} answered 404: the metrics "
            "endpoints of issue 9 (branch wip/metrics) are not in this build"
        )
    if answer.status_code >= 300:
        raise RuntimeError(f"{what}: HTTP {answer.status_code}: {answer.text[:500]}")
    return answer


def quantiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    cut = statistics.quantiles(samples, n=100, method="inclusive")
    return 1000 * statistics.median(samples), 1000 * cut[98]


def timed(http: httpx.Client, call: Callable[[httpx.Client], object], n: int) -> list[float]:
    """Latencies (s) of ``n`` sequential calls after 2 warm-up calls."""
    for _ in range(2):
        call(http)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call(http)
        out.append(time.perf_counter() - t0)
    return out


# --- enms ---------------------------------------------------------------------------------


def enms_setup(http: httpx.Client, name: str) -> tuple[int, int]:
    """A machine with an external baseline model as champion: (machine id, version)."""
    machine = _check(http.post("/api/v1/machines", json={"name": name}), "create machine").json()
    body = {"name": f"{name} external model", "metadata": {"trained_in": "mlflow"}}
    registered = _check(
        http.post(
            f"/api/v1/machines/{machine['id']}/models/baseline/external-versions",
            json=body | {"make_champion": True},
        ),
        "register external version",
    ).json()
    return int(machine["id"]), int(registered["version"])


def enms_single(machine_id: int, version: int) -> Send:
    def send(http: httpx.Client, i: int, j: int) -> int:
        start = ORIGIN + timedelta(days=400 * i, minutes=j)
        _check(http.post(RECORD, json=enms_row(machine_id, version, start, j)), "record")
        return len(METRICS)

    return send


def enms_batch(machine_id: int, version: int) -> Send:
    def send(http: httpx.Client, i: int, j: int) -> int:
        base = ORIGIN + timedelta(days=400 * (CLIENTS + i), minutes=j * ENMS_BATCH_ROWS)
        rows = [
            enms_row(machine_id, version, base + timedelta(minutes=r), r)
            for r in range(ENMS_BATCH_ROWS)
        ]
        _check(http.post(RECORD, json={"metrics": rows}), "record batch")
        return ENMS_BATCH_ROWS * len(METRICS)

    return send


def enms_load_trend(http: httpx.Client, machine_id: int, version: int, points: int) -> float:
    """The trend's rows through the batch form; seconds taken."""
    t0 = time.perf_counter()
    for first in range(0, points, ENMS_BATCH_ROWS):
        rows = [
            enms_row(machine_id, version, TREND_START + timedelta(minutes=k), k)
            for k in range(first, min(points, first + ENMS_BATCH_ROWS))
        ]
        _check(http.post(RECORD, json={"metrics": rows}), "load trend")
    return time.perf_counter() - t0


def enms_trend(machine_id: int, end: datetime, metric: str | None) -> Callable[[httpx.Client], int]:
    params: dict[str, Any] = {
        "machine_id": machine_id,
        "model_type": "baseline",
        "from": TREND_START.isoformat(),
        "to": end.isoformat(),
    }
    if metric:
        params["metric"] = metric

    def call(http: httpx.Client) -> int:
        body = _check(http.get(TREND, params=params), "trend").json()
        return sum(s["n_rows"] for s in body["series"].values())

    return call


# --- MLflow -------------------------------------------------------------------------------


def mlflow_runs(http: httpx.Client, n: int) -> list[str]:
    """An experiment with ``n`` runs; their ids."""
    created = http.post("/api/2.0/mlflow/experiments/create", json={"name": "enms-bench"})
    experiment = _check(created, "mlflow experiment").json()["experiment_id"]
    ids = []
    for i in range(n):
        body = {"experiment_id": experiment, "run_name": f"client-{i}", "start_time": 0}
        run = _check(http.post("/api/2.0/mlflow/runs/create", json=body), "mlflow run").json()
        ids.append(run["run"]["info"]["run_id"])
    return ids


def mlflow_single(runs: list[str]) -> Send:
    def send(http: httpx.Client, i: int, j: int) -> int:
        body = {"run_id": runs[i], "metrics": mlflow_metrics(ORIGIN + timedelta(minutes=j), j)}
        _check(http.post(LOG_BATCH, json=body), "log-batch")
        return len(METRICS)

    return send


def mlflow_batch(runs: list[str]) -> Send:
    per = MLFLOW_CAP // len(METRICS)  # 125 windows × 8 metrics = 1,000

    def send(http: httpx.Client, i: int, j: int) -> int:
        metrics = [
            m
            for r in range(per)
            for m in mlflow_metrics(ORIGIN + timedelta(minutes=j * per + r), j * per + r)
        ]
        _check(
            http.post(LOG_BATCH, json={"run_id": runs[CLIENTS + i], "metrics": metrics}), "batch"
        )
        return len(metrics)

    return send


def mlflow_load_trend(http: httpx.Client, run_id: str, points: int) -> float:
    per = MLFLOW_CAP // len(METRICS)
    t0 = time.perf_counter()
    for first in range(0, points, per):
        metrics = [
            m
            for k in range(first, min(points, first + per))
            for m in mlflow_metrics(TREND_START + timedelta(minutes=k), k)
        ]
        _check(http.post(LOG_BATCH, json={"run_id": run_id, "metrics": metrics}), "load trend")
    return time.perf_counter() - t0


def mlflow_history(run_id: str, keys: tuple[str, ...]) -> Callable[[httpx.Client], int]:
    def call(http: httpx.Client) -> int:
        n = 0
        for key in keys:
            params = {"run_id": run_id, "metric_key": key}
            while True:
                body = _check(http.get(HISTORY, params=params), "get-history").json()
                n += len(body.get("metrics", []))
                if not body.get("next_page_token"):
                    break
                params["page_token"] = body["next_page_token"]
        return n

    return call


# --- the scenario -------------------------------------------------------------------------


@dataclass
class Figures:
    """One side's measurements (None: not measured)."""

    single: Load | None = None
    batch: Load | None = None
    load_seconds: float | None = None
    trend_one: list[float] | None = None
    trend_all: list[float] | None = None
    answered_points: int | None = None


def _say(text: str) -> None:
    print(f"metrics_api: {text}", file=sys.stderr, flush=True)


class MlflowSide:
    """The peer's calls for each phase (runs: one per client and phase, one for the trend)."""

    def __init__(self, url: str, http: httpx.Client) -> None:
        self.url, self.http = url, http
        self.runs = mlflow_runs(http, 2 * CLIENTS + 1)
        self.trend_run = self.runs[-1]

    def single(self) -> Send:
        return mlflow_single(self.runs)

    def batch(self) -> Send:
        return mlflow_batch(self.runs)

    def load(self, points: int) -> float:
        return mlflow_load_trend(self.http, self.trend_run, points)

    def trend(self, points: int, metric: str | None) -> Callable[[httpx.Client], int]:
        return mlflow_history(self.trend_run, (metric,) if metric else METRICS)


class EnmsSide:
    """enms's calls for each phase (one machine for the throughput phases, one for the trend)."""

    def __init__(self, url: str, http: httpx.Client) -> None:
        self.url, self.http = url, http
        self.machine, self.version = enms_setup(http, "bench-throughput")
        self.trend_machine, self.trend_version = enms_setup(http, "bench-trend")

    def single(self) -> Send:
        return enms_single(self.machine, self.version)

    def batch(self) -> Send:
        return enms_batch(self.machine, self.version)

    def load(self, points: int) -> float:
        return enms_load_trend(self.http, self.trend_machine, self.trend_version, points)

    def trend(self, points: int, metric: str | None) -> Callable[[httpx.Client], int]:
        # The trend selects rows by evaluation_end in [from, to): the last row ends at
        # TREND_START + points minutes, so ``to`` is one minute later to include it.
        end = TREND_START + timedelta(minutes=points + 1)
        return enms_trend(self.trend_machine, end, metric)


def measure(
    sides: dict[str, MlflowSide | EnmsSide], seconds: float, points: int, n_trend: int
) -> dict[str, Figures]:
    """Every phase on each side in turn (MLflow, then enms, then the next phase), so both
    see the machine's load of the same minutes."""
    out = {name: Figures() for name in sides}
    for name, side in sides.items():
        out[name].single = hammer(side.url, side.single(), seconds)
    for name, side in sides.items():
        out[name].batch = hammer(side.url, side.batch(), seconds)
    for name, side in sides.items():
        out[name].load_seconds = side.load(points)
    for name, side in sides.items():
        out[name].answered_points = side.trend(points, "rmse")(side.http)
    for name, side in sides.items():
        out[name].trend_one = timed(side.http, side.trend(points, "rmse"), n_trend)
    for name, side in sides.items():
        out[name].trend_all = timed(side.http, side.trend(points, None), max(3, n_trend // 6))
    for name, f in out.items():
        assert f.single
        assert f.batch
        assert f.trend_one
        _say(
            f"{name}: single {f.single.per_second:.0f} req/s, batch "
            f"{f.batch.items_per_second:.0f} values/s, trend p50 "
            f"{quantiles(f.trend_one)[0]:.1f} ms"
        )
    return out


def _nan_if(value: float | None) -> float:
    return float("nan") if value is None else value


def rows(ours: Figures, peer: Figures, points: int, missing: str | None, load: float) -> list[Row]:
    """The table: enms figure, MLflow figure, ratio and target per case."""
    why = f"enms not measured: {missing}; " if missing else ""
    ref = "mlflow_3.17.2"
    days = points / 1440
    trend_target = 0.1 if days >= 30 else None  # the target is for 30 days
    assert peer.single
    assert peer.batch
    assert peer.trend_one
    assert peer.trend_all
    p_one, p_all = quantiles(peer.trend_one), quantiles(peer.trend_all)
    o_one = quantiles(ours.trend_one) if ours.trend_one else (None, None)
    o_all = quantiles(ours.trend_all) if ours.trend_all else (None, None)
    return [
        Row(NAME, f"record 1 row × 8 metrics, {CLIENTS} clients", _nan_if(
            ours.single.per_second if ours.single else None), "req/s", ref,
            peer.single.per_second, target=5,
            note=why + "vs log-batch with the same 8 metrics; mlflow server 4 workers, "
            f"enms serve 1 process; both SQLite; machine load average {load:.1f} at the start"),
        Row(NAME, f"record batch {ENMS_BATCH_ROWS} rows × 8 vs log-batch {MLFLOW_CAP}, "
            f"{CLIENTS} clients", _nan_if(ours.batch.items_per_second if ours.batch else None),
            "values/s", ref, peer.batch.items_per_second, target=10,
            note=why + f"requests/s: enms "
            f"{ours.batch.per_second if ours.batch else float('nan'):.3g}, "
            f"MLflow {peer.batch.per_second:.3g}"),
        Row(NAME, f"trend {days:g} d of 1-min rows, rmse, p50", _nan_if(o_one[0]), "ms", ref,
            p_one[0], target=trend_target, higher_is_better=False,
            note=why + f"{len(peer.trend_one)} requests each; enms answers "
            f"{ours.answered_points} rows as ≤ 1,000 bucket aggregates, MLflow "
            f"{peer.answered_points} points"),
        Row(NAME, f"trend {days:g} d of 1-min rows, rmse, p99", _nan_if(o_one[1]), "ms", ref,
            p_one[1], target=trend_target, higher_is_better=False,
            note=why + f"p99 of {len(peer.trend_one)} sequential requests: about the slowest"),
        Row(NAME, f"trend {days:g} d, all 8 metrics, p50", _nan_if(o_all[0]), "ms",
            f"{ref}_8×get-history", p_all[0], higher_is_better=False,
            note=why + f"p99 enms {o_all[1] or float('nan'):.4g} ms, MLflow {p_all[1]:.4g} ms"),
        Row(NAME, f"load the trend's {points:,} rows × 8", _nan_if(ours.load_seconds), "s", ref,
            _nan_if(peer.load_seconds), higher_is_better=False,
            note=why + f"one client: enms {ENMS_BATCH_ROWS} rows per request, MLflow "
            f"{MLFLOW_CAP // len(METRICS)} rows (its 1,000-metric cap)"),
    ]  # fmt: skip


def run(*, quick: bool) -> list[Row]:
    """Both servers up; each phase on MLflow, then on enms (when its endpoints exist)."""
    seconds = 3.0 if quick else 10.0
    points = 3 * 1440 if quick else 30 * 1440
    n_trend = 10 if quick else 30
    python = peer_python("mlflow", PEER_REQUIREMENTS)
    missing: str | None = None
    load = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="enms-metrics-api-") as tmp,
        mlflow_server(python, Path(tmp)) as mlflow_url,
        enms_server(Path(tmp)) as enms_url,
        client_for(mlflow_url) as mlflow_http,
        client_for(enms_url) as enms_http,
    ):
        sides: dict[str, MlflowSide | EnmsSide] = {"mlflow": MlflowSide(mlflow_url, mlflow_http)}
        try:
            sides["enms"] = EnmsSide(enms_url, enms_http)
        except EnmsUnavailable as exc:
            missing = str(exc)
            _say(f"{missing}; MLflow figures only")
        figures = measure(sides, seconds, points, n_trend)
    return rows(figures.get("enms", Figures()), figures["mlflow"], points, missing, load)
