"""Helpers for the sync --follow tests, library and command line alike."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from belimo_cloud.store import Store


def stored(path: Path) -> pd.DataFrame:
    """The store's samples in one order, so that two stores compare row by row."""
    with Store.open(path, read_only=True) as store:
        frame = store.read()
    columns = ["device_id", "datapoint_id", "resolution", "aggregation", "timestamp", "value"]
    return frame[columns].sort_values(columns[:5]).reset_index(drop=True)


def kill_while_following(
    command: Sequence[str], store: Path, env: Mapping[str, str] | None = None
) -> None:
    """Run a follower until it has written ``store`` and followed for seconds, then SIGKILL it."""
    killed = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not store.exists():
            time.sleep(0.1)
        time.sleep(4.0)  # well into following: several syncs on events
        assert killed.poll() is None, killed.stderr.read() if killed.stderr else ""
        os.kill(killed.pid, signal.SIGKILL)
    finally:
        killed.wait(30)
    assert killed.returncode == -signal.SIGKILL
