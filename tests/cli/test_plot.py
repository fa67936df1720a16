"""`belimo plot KIND -o FILE` writes each figure; bad requests exit 1 with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, one_line

PNG = b"\x89PNG\r\n\x1a\n"
VALVE = ("--search", "Heizung EG Süd-West")
WINTER = ("--from", "2018-01-01", "--to", "2018-02-01")


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("consumption", (*VALVE, *WINTER)),
        ("consumption", ("--search", "Kühlung", *WINTER, "--by", "week", "--direction", "cooling")),
        ("stacked", ("--search", "Heizung EG", *WINTER)),
        ("heatmap", (*VALVE, *WINTER)),
        ("dt-flow", (*VALVE, *WINTER)),
        ("fleet", ()),
    ],
)
def test_each_kind_writes_a_png(
    invoke: Invoke, on_emulator: str, tmp_path: Path, kind: str, args: tuple[str, ...]
) -> None:
    target = tmp_path / f"{kind}.png"
    result = invoke("plot", kind, *args, "-o", str(target))
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 5_000
    assert str(target) in one_line(result.stderr)


def test_svg(invoke: Invoke, on_emulator: str, tmp_path: Path) -> None:
    target = tmp_path / "fleet.svg"
    assert invoke("plot", "fleet", "-o", str(target)).exit_code == 0
    assert "<svg" in target.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "expected", "status"),
    [
        (("plot", "fleet", "-o", "figure.gif"), "figure.gif", 1),
        (("plot", "pie", "-o", "x.png"), "pie", 1),
        (("plot", "dt-flow", "--search", "Heizung", *WINTER, "-o", "x.png"), "--device", 1),
        (("plot", "consumption", "--search", "Gateway", *WINTER, "-o", "x.png"), "no ", 3),
        (
            ("plot", "consumption", *VALVE, *WINTER, "--direction", "cooling", "-o", "x.png"),
            "no cooling energy",
            3,
        ),
    ],
)
def test_bad_requests(
    invoke: Invoke, on_emulator: str, args: tuple[str, ...], expected: str, status: int
) -> None:
    result = invoke(*args)
    assert result.exit_code == status, result.output
    assert expected in one_line(result.stderr)
