"""Where the embedded defaults live: the data folder, the bundled plan and criteria set."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DATA = PROJECT_ROOT / "data"


def data_dir() -> Path:
    """CCHC_DATA_DIR (default data/): holds the database and the evidence files."""
    return Path(os.environ.get("CCHC_DATA_DIR") or BUNDLED_DATA)


def bundled_plan_path() -> Path:
    return BUNDLED_DATA / "ke-hoach-cchc-2026.txt"


def bundled_criteria_path() -> Path:
    return BUNDLED_DATA / "criteria" / "bo-tieu-chi-mau-2026.yaml"
