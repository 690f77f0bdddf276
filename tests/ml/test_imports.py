"""The model code stays pure: importing it must not drag in the database or web stack."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "fastapi", "alembic", "huey", "uvicorn", "pydantic_settings")


def test_ml_and_demo_modules_do_not_import_db_or_web_packages() -> None:
    code = (
        "import json, sys\n"
        "import enms.ml, enms.ml.baseline, enms.ml.anomaly, enms.ml.metrics, enms.ml.registry\n"
        "import enms.ml.scoring, enms.ml.forecasting\n"
        "import enms.demo.generator\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(out.stdout) == []


def test_demo_package_import_is_light() -> None:
    code = "import json, sys, enms.demo\nprint(json.dumps('pandas' in sys.modules))\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) is False
