"""Where each exercise stands ("not started", "failing", "passed"), kept between runs in a
small JSON file: ``$TINYTORCH_EXERCISES_DIR/progress.json`` when that variable is set,
else ``$XDG_CACHE_HOME/tinytorch-exercises/progress.json`` (``~/.cache/...`` by default).

The file is written by ``python -m exercises check`` and read by ``list`` and
``solution``; deleting it starts the record over. An unreadable file counts as empty.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

NOT_STARTED = "not started"


def progress_file() -> Path:
    folder = os.environ.get("TINYTORCH_EXERCISES_DIR")
    if folder:
        return Path(folder) / "progress.json"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tinytorch-exercises" / "progress.json"


def load() -> dict:
    """{number: {"status": ..., "when": ...}} for every exercise checked so far."""
    try:
        data = json.loads(progress_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {int(k): v for k, v in data.items() if k.isdigit() and isinstance(v, dict)}


def status(number: int, record: dict | None = None) -> str:
    record = load() if record is None else record
    return record.get(number, {}).get("status", NOT_STARTED)


def save(number: int, new_status: str) -> None:
    """Record the outcome of a check (atomically: a crash leaves the old file whole)."""
    record = load()
    record[number] = {"status": new_status,
                      "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path = progress_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({str(k): v for k, v in sorted(record.items())}, indent=1)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".progress-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    os.replace(tmp, path)
