"""The new user's path, as real `enms` processes: import a year, train --wait, evaluate."""

from __future__ import annotations

import json
from pathlib import Path

from tests.readings.test_commands import enms


def test_import_train_and_evaluate_a_year_of_hourly_readings(tmp_path: Path) -> None:
    from enms.demo.generator import generate_plant

    furnace = generate_plant(seed=11, days=365, freq="h")[1]
    csv = tmp_path / "furnace.csv"
    furnace.readings.rename_axis("timestamp").to_csv(csv, date_format="%Y-%m-%dT%H:%M:%SZ")
    assert enms(tmp_path, "db", "upgrade").returncode == 0
    assert (
        enms(
            tmp_path,
            "machines",
            "add",
            "Furnace F1",
            "--type",
            "furnace",
            "--timezone",
            "Europe/Berlin",
        ).returncode
        == 0
    )
    assert enms(tmp_path, "import", "readings", str(csv), "--machine", "Furnace F1").returncode == 0

    trained = enms(
        tmp_path,
        "train",
        "baseline",
        "--machine",
        "Furnace F1",
        "--to",
        "2025-10-01",
        "--wait",
        "--json",
    )
    assert trained.returncode == 0, trained.stderr
    out = json.loads(trained.stdout)
    assert out["job"]["training_status"] == "completed"
    version = out["version"]
    assert (version["version"], version["aliases"]) == (1, ["champion"])
    assert version["training_end"] == "2025-10-01T00:00:00Z"
    assert 0 < version["metrics_holdout"]["cv_rmse"] < 30
    assert version["ashrae14"]["hourly"] is True

    evaluated = enms(
        tmp_path,
        "evaluate",
        "baseline",
        "--machine",
        "Furnace F1",
        "--from",
        "2025-10-01",
        "--to",
        "2026-01-01",
        "--json",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout)
    metrics = result["metrics"]
    assert set(metrics) == {"r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe", "n"}
    assert metrics["n"] > 2000
    assert metrics["cv_rmse"] < 30
    # The furnace was built without drift before October: the baseline holds.
    assert abs(metrics["nmbe"]) < 10

    overlap = enms(
        tmp_path,
        "evaluate",
        "baseline",
        "--machine",
        "Furnace F1",
        "--from",
        "2025-06-01",
        "--to",
        "2025-07-01",
    )
    assert overlap.returncode == 1
    assert "overlaps the data baseline v1 was trained on" in overlap.stderr
