"""What the CLI prints for a new user: job list header, model coefficients, deletes."""

from __future__ import annotations

from pathlib import Path

from tests.readings.test_commands import enms


def _demo_csv(path: Path) -> None:
    from enms.demo.generator import generate_plant

    machine = generate_plant(seed=3, days=30, freq="h")[1]
    machine.readings.rename_axis("timestamp").to_csv(path, date_format="%Y-%m-%dT%H:%M:%SZ")


def test_jobs_list_has_a_header_and_models_show_prints_coefficients(tmp_path: Path) -> None:
    assert enms(tmp_path, "db", "upgrade").returncode == 0
    assert enms(tmp_path, "machines", "add", "Furnace F1").returncode == 0
    _demo_csv(tmp_path / "f1.csv")
    assert enms(tmp_path, "import", "readings", "f1.csv", "--machine", "Furnace F1").returncode == 0
    trained = enms(tmp_path, "train", "baseline", "--machine", "Furnace F1", "--wait")
    assert trained.returncode == 0, trained.stderr

    listed = enms(tmp_path, "jobs", "list").stdout.splitlines()
    assert listed[0].split() == [
        "JOB", "MODEL", "TYPE", "MACHINE", "STATUS", "STAGE", "CREATED", "(UTC)", "VERSION",
    ]  # fmt: skip
    assert listed[1].split()[:3] == ["1", "baseline", "Furnace"]

    shown = enms(tmp_path, "models", "show", "baseline", "--machine", "Furnace F1").stdout
    assert "hyperparameters: timezone=UTC" in shown
    assert "min_days=14.0" in shown
    assert "coefficients (estimate, standard error, p-value):" in shown
    intercept = next(line for line in shown.splitlines() if line.strip().startswith("intercept"))
    assert "±" in intercept
    assert "p=" in intercept
