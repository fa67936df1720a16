"""Helpers of the browser tests: pages that record their console errors, chart checks."""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs"


@contextmanager
def open_page(browser: Any, url: str, *, width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A fresh page at ``url``; on leaving, no console error, page error or outside request."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    origin = url.split("/", 3)[:3]
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if r.url.split("/", 3)[:3] != origin and not r.url.startswith(("data:", "blob:"))
            else None
        ),
    )
    page.goto(url)
    try:
        yield page
        assert errors == [], errors
        assert outside == [], outside
    finally:
        context.close()


def wait_drawn(page: Any, *charts: str, timeout: float = 30_000) -> None:
    """Wait until Plotly drew each chart (the page marks ``data-drawn``)."""
    for chart in charts:
        page.wait_for_selector(f"#chart-{chart}[data-drawn='1']", state="attached", timeout=timeout)


def inked(page: Any, chart: str) -> tuple[float, set[tuple[int, int, int]]]:
    """A chart's screenshot: the share of non-white pixels and its distinct colours."""
    import numpy as np
    from PIL import Image

    png = page.locator(f"#chart-{chart}").screenshot()
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int64).reshape(-1, 3)
    ink = int((pixels.sum(axis=1) < 740).sum())
    colours = {(int(r), int(g), int(b)) for r, g, b in np.unique(pixels, axis=0)}
    return ink / len(pixels), colours


def near(colours: set[tuple[int, int, int]], hex_colour: str, tolerance: int = 24) -> bool:
    """Whether any pixel is close to ``hex_colour`` (#rrggbb)."""
    target = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return any(
        all(abs(c - t) <= tolerance for c, t in zip(p, target, strict=True)) for p in colours
    )


def keep_screenshot(page: Any, name: str, tmp: Path) -> Path:
    """Save the page's top (charts included); into docs/ when missing there or when asked to."""
    path = tmp / name
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(200)
    height = min(1700, page.evaluate("document.documentElement.scrollHeight"))
    page.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": height}
    )
    target = DOCS / name
    if not target.exists() or os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
    return path


def wait_until(page: Any, expression: str, timeout: float = 30.0) -> None:
    """Poll a JavaScript expression until it is true (the pages' CSP forbids eval-based waits)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)
