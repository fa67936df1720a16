"""The response examples of Belimo's own spec, as bytes, for decoding tests."""

from __future__ import annotations

from typing import Any


def example(spec: dict[str, Any], path: str, content_type: str = "application/json") -> bytes:
    """The 200 example of ``GET /api/v3<path>`` in Belimo's spec."""
    operation = spec["paths"]["/api/v3" + path]["get"]
    text: str = operation["responses"]["200"]["examples"][content_type]
    return text.encode("utf-8")
