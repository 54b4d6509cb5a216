"""Each fixture Jetson board is detected as the right shipped profile.

Written against the contract in docs/CONTRACTS.md (``detect()`` / ``host_spec()`` in
``edgeprof/device/_detect.py``, roots from ``EDGEPROF_PROCFS_ROOT`` / ``EDGEPROF_ETC_ROOT`` /
``EDGEPROF_SYSFS_ROOT``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edgeprof.device import _detect as detect_mod
from edgeprof.device import list_device_names

BOARDS = Path(__file__).parents[1] / "fixtures" / "boards"
BOARD_NAMES = sorted(p.name for p in BOARDS.iterdir() if (p / "expected.json").exists())


def _expected(board: str) -> dict[str, Any]:
    return json.loads((BOARDS / board / "expected.json").read_text())


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    def _use(board: str) -> None:
        root = BOARDS / board
        monkeypatch.setenv("EDGEPROF_PROCFS_ROOT", str(root / "proc"))
        monkeypatch.setenv("EDGEPROF_ETC_ROOT", str(root / "etc"))
        monkeypatch.setenv("EDGEPROF_SYSFS_ROOT", str(tmp_path / "sys"))  # no rails, no GPU
    return _use


def _profile_of(device: Any) -> str | None:
    for attr in ("profile", "profile_name", "spec_name"):
        value = getattr(device, attr, None)
        if isinstance(value, str) and value:
            return value
    spec = getattr(device, "spec", None)
    return getattr(spec, "name", None)


def test_fixture_profiles_are_shipped() -> None:
    for board in BOARD_NAMES:
        assert _expected(board)["profile"] in list_device_names(), board


@pytest.mark.parametrize("board", BOARD_NAMES)
def test_board_maps_to_profile(board: str, replay) -> None:
    replay(board)
    found = [_profile_of(d) for d in detect_mod.detect()]
    assert _expected(board)["profile"] in found, f"{board}: detected {found}"


@pytest.mark.parametrize("board", BOARD_NAMES)
def test_host_spec_auto_is_the_board(board: str, replay) -> None:
    replay(board)
    spec = detect_mod.host_spec("auto")
    assert spec.name == _expected(board)["profile"]


def test_memory_tells_variants_apart(replay) -> None:
    """Same model string, different memory: AGX Orin 32GB vs 64GB."""
    replay("agx-orin-32gb")
    assert "jetson-agx-orin-32gb" in [_profile_of(d) for d in detect_mod.detect()]
    replay("agx-orin-64gb-devkit")
    assert "jetson-agx-orin-64gb" in [_profile_of(d) for d in detect_mod.detect()]
