"""All terminal output of `belimo`: tables, JSON and CSV for data; one-line notes and errors.

Data goes to stdout (or ``-o FILE``); notes, progress and errors go to stderr, so that
``belimo devices --format json | jq`` always receives clean JSON.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "TABLE_LIMIT",
    "OutputFormat",
    "detail",
    "emit",
    "emit_record",
    "error",
    "note",
    "progress_stream",
    "records",
    "redact",
    "say",
    "stderr_console",
    "warn",
]

# Wide enough that a piped table never wraps a cell.
_PIPE_WIDTH = 10_000
# A table on stdout is for reading: past this many rows it shows the first ones and says how to
# get all of them (JSON, CSV and -o FILE always carry every row).
TABLE_LIMIT = 1_000


class OutputFormat(StrEnum):
    """How a command prints its data."""

    table = "table"
    json = "json"
    csv = "csv"


def _console(file: TextIO, *, plain: bool = False) -> Console:
    if plain or not file.isatty():
        return Console(
            file=file, width=_PIPE_WIDTH, color_system=None, highlight=False, soft_wrap=True
        )
    return Console(file=file, highlight=False)


def stderr_console() -> Console:
    """A console on stderr, for progress bars (which must never mix with data on stdout)."""
    return _console(sys.stderr)


def progress_stream() -> TextIO:
    """Where progress goes: stderr, so that data on stdout stays clean."""
    return sys.stderr


def _scalar(value: Any) -> Any:
    """A JSON-ready Python scalar: ISO 'Z' times, None for NaN/NaT, plain int/float/bool."""
    if value is None:
        return None
    if isinstance(value, Enum):
        return _scalar(value.value)
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime):
        if _is_missing(value):  # pandas NaT is a datetime too (a device never seen)
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        text = value.astimezone(UTC).isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _scalar(item())
    to_pydatetime = getattr(value, "to_pydatetime", None)  # pandas Timestamp
    if callable(to_pydatetime):
        return _scalar(to_pydatetime())
    if _is_missing(value):
        return None
    if isinstance(value, Mapping | list | tuple):
        return json.loads(json.dumps(value, default=str))
    return str(value)


def _is_missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def records(data: Any, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts, from a DataFrame or an iterable of mappings."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        frame = data
        if columns is not None:
            frame = frame[[c for c in columns if c in frame.columns]]
        raw: Iterable[Mapping[str, Any]] = frame.to_dict(orient="records")
    else:
        raw = data
    rows = [{str(k): _scalar(v) for k, v in row.items()} for row in raw]
    if columns is not None:
        rows = [{c: row.get(c) for c in columns if c in row} for row in rows]
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != 0 and abs(value) < 1:
            return f"{value:.6g}"
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return text if text != "-0" else "0"
    return str(value)


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _format(rows: list[dict[str, Any]], fmt: OutputFormat, title: str | None) -> str | Table:
    if fmt is OutputFormat.json:
        return json.dumps(rows, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    names = _columns(rows)
    if fmt is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else _csv_cell(v) for k, v in row.items()})
        return buffer.getvalue()
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", show_edge=False)
    for name in names:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(Text(_cell(row.get(name))) for name in names))
    return table


def _csv_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def emit(
    data: Any,
    fmt: OutputFormat,
    output: Path | None = None,
    *,
    columns: Sequence[str] | None = None,
    table_columns: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """Print rows as a table, JSON (a list of objects) or CSV, to stdout or to ``output``.

    ``table_columns`` narrows the table view only; JSON and CSV always carry ``columns``.
    """
    chosen = table_columns if fmt is OutputFormat.table and table_columns else columns
    total = len(data) if hasattr(data, "__len__") else None
    capped = fmt is OutputFormat.table and output is None and (total or 0) > TABLE_LIMIT
    if capped:
        data = data.head(TABLE_LIMIT) if hasattr(data, "head") else list(data)[:TABLE_LIMIT]
    rows = records(data, chosen)
    _write(_format(rows, fmt, title), output, len(rows), fmt)
    if capped:
        # After the table, where the reader's eye ends up.
        warn(
            f"showing the first {TABLE_LIMIT:,} of {total:,} rows; "
            "use --format csv -o FILE (or --format json) for all of them"
        )


def emit_record(record: Mapping[str, Any], fmt: OutputFormat, output: Path | None = None) -> None:
    """Print one object: a field/value table, a one-element JSON list, or a one-row CSV."""
    rows = records([record])
    if fmt is OutputFormat.table:
        pairs = [{"field": k, "value": _cell(v)} for k, v in rows[0].items()]
        table = _format(pairs, fmt, None)
        _write(table, output, 1, fmt)
    else:
        _write(_format(rows, fmt, None), output, 1, fmt)


def _write(rendered: str | Table, output: Path | None, count: int, fmt: OutputFormat) -> None:
    if output is None:
        if isinstance(rendered, str):
            sys.stdout.write(rendered)
            sys.stdout.flush()
        else:
            _console(sys.stdout).print(rendered)
        return
    if isinstance(rendered, str):
        text = rendered
    else:
        buffer = io.StringIO()
        _console(buffer, plain=True).print(rendered)
        text = buffer.getvalue()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    note(f"wrote {count} row{'s' if count != 1 else ''} ({fmt.value}) to {output}")


# Every URL in a message, to the next blank: the config's redaction masks its user info.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def redact(text: str) -> str:
    """``text`` with the user info (``user:password@``) of every URL in it masked."""
    from belimo_cloud.config import redact_url

    return _URL.sub(lambda match: redact_url(match.group(0)), text)


def _put(stream: TextIO, text: str) -> None:
    """Write text that may hold undecodable bytes from argv (surrogates) without failing."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))
    stream.flush()


def say(text: str = "") -> None:
    """A line of the command's own story on stdout (the demo, summaries)."""
    _put(sys.stdout, text + "\n")


def note(text: str) -> None:
    """A one-line remark on stderr (where a file went, what was skipped)."""
    _put(sys.stderr, redact(text) + "\n")


def warn(text: str) -> None:
    """A one-line warning on stderr: the command goes on, but the user should know."""
    _put(sys.stderr, "warning: " + redact(" ".join(text.split())) + "\n")


# An error is one line a person reads: a value echoed from a huge input is cut in the middle.
_ERROR_LIMIT = 600


def error(text: str) -> None:
    """The one line that explains a failure, on stderr (URL passwords redacted, length capped)."""
    line = redact(" ".join(text.split()))
    if len(line) > _ERROR_LIMIT:
        half = _ERROR_LIMIT // 2
        line = f"{line[:half]} [...] {line[-half:]}"
    _put(sys.stderr, "error: " + line + "\n")


def detail(text: str) -> None:
    """Extra lines shown with -v."""
    _put(sys.stderr, redact(text.rstrip("\n")) + "\n")
