"""Run named stages in order, remember the finished ones, and stop clearly on a failure.

`stages.json` in the output folder records each finished stage's result and duration, so a
re-run resumes after the last finished stage (delete the file, or a stage's entry, to redo).
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from nitrogen_hf.data.files import write_json_atomic

logger = logging.getLogger("nitrogen_hf")
STATE_FILE = "stages.json"


class StageFailed(RuntimeError):
    """A stage raised; the message names it, the cause and how to resume."""


class StageRunner:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / STATE_FILE
        self.state: dict[str, dict] = json.loads(path.read_text()) if path.is_file() else {}

    def run(self, name: str, stage: Callable[[], dict]) -> dict:
        """The stage's result: recorded from an earlier run, or computed now."""
        done = self.state.get(name)
        if done and done.get("status") == "done":
            logger.info("stage %s: already done (%.0f s), skipping", name, done["seconds"])
            return done["result"]
        logger.info("stage %s: starting", name)
        started = time.monotonic()
        try:
            result = stage()
        except Exception as error:
            self.state[name] = {
                "status": "failed",
                "error": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc(limit=8),
            }
            self._save()
            raise StageFailed(
                f"demo stage '{name}' failed: {type(error).__name__}: {error}\n"
                f"(details in {self.out / STATE_FILE}; fix the cause and re-run: finished stages are kept)"
            ) from error
        self.state[name] = {
            "status": "done",
            "seconds": time.monotonic() - started,
            "result": result,
        }
        self._save()
        logger.info("stage %s: done in %.0f s", name, self.state[name]["seconds"])
        return result

    def timings(self) -> dict[str, float]:
        return {
            name: entry["seconds"]
            for name, entry in self.state.items()
            if entry.get("status") == "done"
        }

    def _save(self) -> None:
        write_json_atomic(self.out / STATE_FILE, self.state)
