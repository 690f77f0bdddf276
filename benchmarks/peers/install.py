"""Creates a peer tool's own virtual environment under ``benchmarks/.venvs/`` (run by scenarios).

A peer never goes into the project's environment: :func:`peer_python` makes
``benchmarks/.venvs/<name>`` on first use (the folder is gitignored), installs the pinned
requirements with that venv's own pip, and records them in ``<venv>/enms-requirements.txt``.
When the pins change, the next run installs the new ones into the same venv.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

VENVS = Path(__file__).resolve().parents[1] / ".venvs"
MARKER = "enms-requirements.txt"


def peer_python(name: str, requirements: Sequence[str]) -> Path:
    """The python of ``benchmarks/.venvs/<name>`` with ``requirements`` installed."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    wanted = "\n".join(requirements) + "\n"
    marker = venv / MARKER
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    VENVS.mkdir(parents=True, exist_ok=True)
    (VENVS / ".gitignore").write_text("*\n")
    if not python.exists():
        print(f"creating {venv} for {requirements[0]}…", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
    marker.write_text(wanted)
    return python
