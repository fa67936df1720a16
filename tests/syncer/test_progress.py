"""Progress output: plain lines for pipes, a rich bar for terminals."""

from __future__ import annotations

import io

from belimo_cloud.syncer import LogProgress, RichProgress, SyncReport, auto_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def report() -> SyncReport:
    return SyncReport(devices=2, series=4, planned_requests=3, requests=3, points=120, seconds=2)


def test_log_lines() -> None:
    out = io.StringIO()
    progress = LogProgress(out, every=0)
    progress.start(devices=2, requests=3)
    progress.advance(device_id="a", points=40, device_done=False)
    progress.advance(device_id="a", points=40, device_done=True)
    progress.message("skipped gw: no data profile")
    progress.finish(report())
    lines = out.getvalue().splitlines()
    assert lines[0] == "sync: 2 devices, 3 requests planned"
    assert lines[2].startswith("sync: 2/3 requests, 1/2 devices, 80 points, ETA ")
    assert lines[3] == "sync: skipped gw: no data profile"
    assert lines[-1] == "sync: " + report().summary()


def test_rich_bar_on_a_terminal() -> None:
    out = Terminal()
    progress = auto_progress(out)
    assert isinstance(progress, RichProgress)
    progress.start(devices=2, requests=3)
    progress.advance(device_id="a", points=40, device_done=True)
    progress.finish(report())
    assert report().summary() in out.getvalue()


def test_plain_lines_when_piped() -> None:
    assert isinstance(auto_progress(io.StringIO()), LogProgress)


def test_report_summary_and_dict() -> None:
    r = report()
    assert r.summary() == (
        "synced 2 devices, 4 series: 3 of 3 requests (0 settled-horizon refresh), "
        "120 points in 2.0 s"
    )
    data = r.to_dict()
    assert data["points_per_s"] == 60.0 and data["skipped"] == []
