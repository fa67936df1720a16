"""Fixtures shared by every test: an isolated home, the emulator on loopback, the spec."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from belimo_cloud.emulator import EmulatorOptions, running_emulator

REPO = Path(__file__).resolve().parents[1]
SPEC_PATH = REPO.parent / "shared" / "reference" / "belimo-cloud-client-api-v3.5.0.swagger.json"
# Tests freeze the emulator's clock so that every figure they check is reproducible.
FIXED_NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
DEMO = {
    "client_id": "__ClientIDPlaceHolder__",
    "client_secret": "__ClientSecretPlaceHolder__",
    "username": "__UserPlaceHolder__",
    "password": "__PasswordPlaceHolder__",
}


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Keep config, token cache and data dirs of every test away from the real user's."""
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    monkeypatch.setenv("HOME", str(home))
    for var in [v for v in __import__("os").environ if v.startswith("BELIMO_")]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BELIMO_CONFIG", str(home / "belimo.toml"))
    return home


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    """One emulator for the session: seed 0, frozen clock, no rate limit, no faults."""
    with running_emulator(EmulatorOptions(seed=0, now=FIXED_NOW, rate_limit=0)) as url:
        yield url


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., str]]:
    """Start emulators with custom options (faults, limits); all stop after the test."""
    with ExitStack() as stack:

        def start(**options: Any) -> str:
            options.setdefault("now", FIXED_NOW)
            return stack.enter_context(running_emulator(EmulatorOptions(**options)))

        yield start


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """Belimo's own spec from ../shared/reference; tests that need it skip when it is absent."""
    if not SPEC_PATH.is_file():
        pytest.skip(f"Belimo's spec is not at {SPEC_PATH} (a bare clone has no ../shared)")
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded
