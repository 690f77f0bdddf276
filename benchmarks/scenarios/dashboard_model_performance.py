"""The Model performance page with a year of hourly metrics: chart bytes and render time.

A real ``enms serve`` (its own process, a fresh migrated SQLite file) holds one machine whose
external baseline is champion, with **a year of hourly metric rows** (8,760 rows × the six
baseline metrics, every 100th with drift found) recorded through ``metrics/record`` and
ending at the server's now. Headless Chromium (the system's, driven by Playwright) opens
``/ui/model-performance?machine_id=…&days=365`` in a fresh context each round (cold cache)
and waits until all six charts are drawn (plotly's SVG in every chart div).

Figures, each next to a reference measured in the same run:

* **chart bytes**: the body bytes of the page's chart request (``/ui/api/performance/trend``,
  downsampled in the database to ≤ 1,000 points per series) — target < 500 kB; reference:
  the same series undownsampled (the public ``metrics/trend`` of a second server on the same
  file with ``ENMS_MONITORING__TREND_MAX_POINTS=100000``, i.e. every row). The public trend at
  its default 1,000 points is reported too.
* **render time**: navigation start to the last chart drawn (the browser's
  ``performance.now()``), median of the rounds — target < 2 s; reference: the same page for a
  second machine with a champion but no metric rows (same HTML, scripts and plotly; nothing
  to draw), measured in the same rounds.

Run: ``python -m benchmarks.run --only dashboard_model_performance`` (``--quick``: 30 days
of rows, 2 rounds).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.harness import Row
from benchmarks.peers.servers import enms_server, free_port, serving

NAME = "dashboard_model_performance"
RECORD = "/api/v1/model-performance/metrics/record"
TREND = "/api/v1/model-performance/metrics/trend"
PAGE_TREND = "/ui/api/performance/trend"
BATCH = 1000
CHART_DIVS = 6  # the six baseline metrics
BYTES_TARGET = 500_000
RENDER_TARGET_S = 2.0
CHROMIUM = "/usr/bin/chromium"


def _check(answer: httpx.Response, what: str) -> httpx.Response:
    if answer.status_code >= 400:
        raise RuntimeError(f"{what}: HTTP {answer.status_code} {answer.text[:500]}")
    return answer


def machine_with_champion(http: httpx.Client, name: str) -> tuple[int, int]:
    """A machine whose external baseline is champion: (machine id, version)."""
    machine = _check(http.post("/api/v1/machines", json={"name": name}), "machine").json()
    registered = _check(
        http.post(
            f"/api/v1/machines/{machine['id']}/models/baseline/external-versions",
            json={"name": f"{name} baseline", "make_champion": True},
        ),
        "external version",
    ).json()
    return int(machine["id"]), int(registered["version"])


def hourly_rows(
    machine_id: int, version: int, end: datetime, hours: int
) -> Iterator[dict[str, Any]]:
    """``hours`` hourly rows of the six baseline metrics ending at ``end`` (valid, varied)."""
    for i in range(hours):
        stop = end - timedelta(hours=hours - 1 - i)
        w = (i * 7919) % 1000 / 1000.0
        row: dict[str, Any] = {
            "machine_id": machine_id,
            "model_type": "baseline",
            "model_version": version,
            "evaluation_start": (stop - timedelta(hours=1)).isoformat(),
            "evaluation_end": stop.isoformat(),
            "r_squared": 0.80 + 0.15 * w,
            "rmse": 4.0 + 2.0 * w + i / hours,
            "mae": 3.0 + 1.5 * w,
            "mape": 8.0 + 4.0 * w,
            "cv_rmse": 12.0 + 6.0 * w + 3 * i / hours,
            "nmbe": -1.0 + 2.0 * w,
            "n_samples": 1,
        }
        if i % 100 == 99:
            row |= {"drift_detected": True, "drift_score": 0.6 + 0.3 * w,
                    "drift_details": {"summary": "residual mean shifted"}}  # fmt: skip
        yield row


def load(http: httpx.Client, machine: tuple[int, int], hours: int) -> int:
    """Record the rows in batches of 1,000; the count."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    rows = list(hourly_rows(*machine, end, hours))
    for i in range(0, len(rows), BATCH):
        _check(http.post(RECORD, json={"metrics": rows[i : i + BATCH]}), "record")
    return len(rows)


@contextmanager
def reference_server(work: Path) -> Iterator[str]:
    """A second ``enms serve`` on the same file returning every row (no downsampling)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENMS_")} | {
        "ENMS_DATABASE_URL": f"sqlite:///{work / 'enms.db'}",
        "ENMS_DATA_DIR": str(work / "enms-data"),
        "ENMS_LOG_LEVEL": "WARNING",
        "ENMS_MONITORING__TREND_MAX_POINTS": "100000",
        "ENMS_QUEUE__IN_PROCESS": "false",
    }
    command = [sys.executable, "-m", "enms.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    with serving(command, env, work / "reference-serve.log", f"http://127.0.0.1:{port}") as url:
        yield url


ALL_DRAWN = (
    "n => document.querySelector('#chart-main .main-svg') !== null && "
    "document.querySelectorAll('#chart-others .main-svg').length >= n - 1"
)
EMPTY_SHOWN = "() => !document.getElementById('trend-empty').hidden"


def render(browser: Any, url: str, ready: str, arg: Any = None) -> tuple[float, int]:
    """One cold load of ``url``: seconds from navigation start to ``ready``, and the body
    bytes of its chart request."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    charts: list[Any] = []
    errors: list[str] = []
    page.on("response", lambda r: charts.append(r) if PAGE_TREND in r.url else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(url, wait_until="commit")
        page.wait_for_function(ready, arg=arg, timeout=60_000, polling="raf")
        elapsed = float(page.evaluate("performance.now()")) / 1000
        size = sum(len(r.body()) for r in charts)
    finally:
        context.close()
    if errors:
        raise RuntimeError(f"errors on {url}: {errors}")
    if len(charts) > 1:
        raise RuntimeError(f"{len(charts)} chart requests on {url} (one expected)")
    return elapsed, size


def run(*, quick: bool) -> list[Row]:
    """Load the year, then measure bytes and render times (see the module)."""
    from playwright.sync_api import sync_playwright

    hours = 24 * (30 if quick else 365)
    days = 30 if quick else 365
    rounds = 2 if quick else 5
    with tempfile.TemporaryDirectory(prefix="enms-bench-dash-") as tmp:
        work = Path(tmp)
        with enms_server(work) as url, httpx.Client(base_url=url, timeout=300) as http:
            full = machine_with_champion(http, "Compressor year")
            empty, _ = machine_with_champion(http, "Compressor empty")
            n_rows = load(http, full, hours)
            params: dict[str, str | int] = {
                "machine_id": full[0],
                "model_type": "baseline",
                "days": days,
            }
            answer = _check(http.get(PAGE_TREND, params=params), "page trend")
            page_json, page_seconds = answer.content, answer.elapsed.total_seconds()
            public = _check(http.get(TREND, params=params), "public trend").content
            with reference_server(work) as ref_url:
                every = _check(httpx.get(ref_url + TREND, params=params, timeout=300), "all")
            every_points = sum(len(s["points"]) for s in every.json()["series"].values())
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                full_url = f"{url}/ui/model-performance?machine_id={full[0]}&days={days}"
                empty_url = f"{url}/ui/model-performance?machine_id={empty}&days={days}"
                render(browser, full_url, ALL_DRAWN, CHART_DIVS)  # warm the server
                full_times, empty_times, sizes = [], [], []
                for _ in range(rounds):
                    t, size = render(browser, full_url, ALL_DRAWN, CHART_DIVS)
                    full_times.append(t)
                    sizes.append(size)
                    empty_times.append(render(browser, empty_url, EMPTY_SHOWN)[0])
                browser.close()
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    scope = f"{n_rows:,} hourly rows × 6 metrics over {days} days"
    return [
        Row(
            NAME, "chart bytes (page trend JSON)", float(max(sizes)), "bytes",
            "undownsampled", float(len(every.content)), target=BYTES_TARGET, target_on="value",
            higher_is_better=False,
            note=f"{scope}; reference: every row ({every_points:,} points) from the public "
            f"trend with trend_max_points=100000; page JSON measured by httpx: "
            f"{len(page_json):,} bytes, answered in {page_seconds:.2f} s",
        ),
        Row(
            NAME, "public trend at 1,000 points", float(len(public)), "bytes",
            "undownsampled", float(len(every.content)),
            note="the same window through GET /api/v1/model-performance/metrics/trend",
        ),
        Row(
            NAME, "render to last chart (median)", statistics.median(full_times), "s",
            "empty selection", statistics.median(empty_times), target=RENDER_TARGET_S,
            target_on="value", higher_is_better=False,
            note=f"{rounds} cold loads in headless Chromium, max {max(full_times):.2f} s "
            f"(empty: max {max(empty_times):.2f} s); load average {load_avg}",
        ),
    ]  # fmt: skip
