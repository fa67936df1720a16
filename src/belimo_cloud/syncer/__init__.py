"""Incremental, resumable acquisition of fleet history into the local store."""

from belimo_cloud.syncer.planner import ChunkRequest, Plan
from belimo_cloud.syncer.progress import (
    LogProgress,
    NullProgress,
    RichProgress,
    SyncProgress,
    auto_progress,
)
from belimo_cloud.syncer.report import SyncReport
from belimo_cloud.syncer.run import DEFAULT_SPAN, SyncInterrupted, sync

__all__ = [
    "DEFAULT_SPAN",
    "ChunkRequest",
    "LogProgress",
    "NullProgress",
    "Plan",
    "RichProgress",
    "SyncInterrupted",
    "SyncProgress",
    "SyncReport",
    "auto_progress",
    "sync",
]
