"""Jetson board tools, parsed once: ``nvpmodel -q``, ``/etc/nvpmodel.conf`` and
``jetson_clocks --show``, and the runner every command goes through (injectable, so tests
replay recorded output).

``parse_jetson_clocks_show`` names both meanings of "fixed clocks": ``locked`` (the GPU's
minimum equals its maximum — what ``jetson_clocks`` sets) and ``pinned`` (every online CPU and
the GPU at min == max).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edgeprof.device._fs import etc_root, read_raw


@dataclass(frozen=True)
class CommandResult:
    """What a command printed and returned."""

    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def text(self) -> str:
        return f"{self.stdout}\n{self.stderr}"


def subprocess_runner(argv: Sequence[str], stdin: str | None = None) -> CommandResult:
    """Run a command for real (60 s limit); a missing program reads as return code 127."""
    try:
        proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True,
                              timeout=60, check=False)
    except FileNotFoundError as exc:
        return CommandResult(127, "", str(exc))
    except PermissionError as exc:
        return CommandResult(126, "", f"permission denied: {exc}")
    except subprocess.TimeoutExpired:
        return CommandResult(124, "", f"{argv[0]} timed out after 60 s")
    return CommandResult(proc.returncode, proc.stdout, proc.stderr)


def run_tool(args: list[str], timeout: float = 5.0) -> str | None:
    """Output of a board tool when it is installed and succeeds, else ``None``."""
    if shutil.which(args[0]) is None:
        return None
    try:
        res = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout if res.returncode == 0 else None


@dataclass(frozen=True)
class ConfMode:
    """One ``POWER_MODEL`` block of nvpmodel.conf (clock caps in Hz/kHz as the file has them)."""

    id: int
    name: str
    settings: dict[str, str] = field(default_factory=dict)  # "GPU MAX_FREQ" -> "612000000"

    @property
    def gpu_max_freq_mhz(self) -> float | None:
        """GPU cap in MHz; ``None`` when uncapped (-1) or absent."""
        return _hz_to_mhz(self.settings.get("GPU MAX_FREQ"))

    @property
    def emc_max_freq_mhz(self) -> float | None:
        return _hz_to_mhz(self.settings.get("EMC MAX_FREQ"))

    @property
    def cpu_cores_online(self) -> int | None:
        cores = [v for k, v in self.settings.items() if k.startswith("CPU_ONLINE ")]
        return sum(v.strip() == "1" for v in cores) if cores else None


def _hz_to_mhz(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        hz = int(value)
    except ValueError:
        return None
    return None if hz <= 0 else hz / 1e6


_BLOCK = re.compile(r"^\s*<\s*(POWER_MODEL|PM_CONFIG|PARAM)\b([^>]*)>", re.MULTILINE)
_ATTR = re.compile(r"(\w+)\s*=\s*([^\s>]+)")


def parse_nvpmodel_conf(text: str) -> tuple[list[ConfMode], int | None]:
    """The power modes of an nvpmodel.conf and its ``PM_CONFIG DEFAULT`` id (or ``None``)."""
    modes: list[ConfMode] = []
    default: int | None = None
    matches = list(_BLOCK.finditer(text))
    for i, match in enumerate(matches):
        kind, attrs = match.group(1), dict(_ATTR.findall(match.group(2)))
        if kind == "PM_CONFIG" and attrs.get("DEFAULT", "").isdigit():
            default = int(attrs["DEFAULT"])
        if kind != "POWER_MODEL" or not attrs.get("ID", "").isdigit() or "NAME" not in attrs:
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        settings: dict[str, str] = {}
        for line in text[match.end():end].splitlines():
            parts = line.split("#", 1)[0].split()
            if len(parts) == 3:
                settings[f"{parts[0]} {parts[1]}"] = parts[2]
        modes.append(ConfMode(int(attrs["ID"]), attrs["NAME"], settings))
    return modes, default


_QUERY = re.compile(
    r"NV Power Mode[ \t]*:[ \t]*(?P<name>\S+)[ \t]*(?:\r?\n\s*(?:MODE ID:\s*)?(?P<id>\d+)\b)?"
)


def parse_nvpmodel_query(text: str) -> tuple[str, int | None] | None:
    """``(name, id)`` from ``nvpmodel -q`` ("NV Power Mode: MAXN\\n0\\n"), or ``None``."""
    match = _QUERY.search(text)
    if not match:
        return None
    mode_id = match.group("id")
    return match.group("name"), int(mode_id) if mode_id is not None else None


_KV = re.compile(r"(\w+)=(\S+)")


def parse_jetson_clocks_show(text: str) -> dict[str, Any]:
    """``jetson_clocks --show`` as a dict: cpus, gpu, emc (fields as printed: ``MinFreq``,
    ``MaxFreq``, ``CurrentFreq`` in Hz/kHz, ``Online``…), power_mode, ``locked`` and ``pinned``.

    ``locked``: the GPU minimum equals its maximum (what ``jetson_clocks`` sets). ``pinned``:
    every online CPU and the GPU sit at min == max.
    """
    out: dict[str, Any] = {"cpus": {}, "engines": {}}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("SOC family:"):
            soc, _, machine = line.partition("Machine:")
            out["soc_family"] = soc.split(":", 1)[1].strip()
            out["machine"] = machine.strip()
            continue
        if line.startswith("Online CPUs:"):
            out["online_cpus"] = line.split(":", 1)[1].strip()
            continue
        if line.startswith("NV Power Mode:"):
            out["power_mode"] = line.split(":", 1)[1].strip()
            continue
        head = line.split()[0].rstrip(":")
        values: dict[str, Any] = {k: _num(v) for k, v in _KV.findall(line)}
        if not values:
            continue
        if re.fullmatch(r"cpu\d+", head):
            out["cpus"][head] = values
        elif head in ("GPU", "EMC"):
            out[head.lower()] = values
        else:
            out["engines"][head] = values
    gpu = out.get("gpu") or {}
    out["locked"] = bool(gpu) and gpu.get("MinFreq") == gpu.get("MaxFreq")
    clocks = [c for c in out["cpus"].values() if c.get("Online", 1) == 1]
    if gpu:
        clocks.append(gpu)
    out["pinned"] = bool(clocks) and all(c.get("MinFreq") == c.get("MaxFreq") for c in clocks)
    return out


def _num(value: str) -> int | str:
    return int(value) if re.fullmatch(r"-?\d+", value) else value




def read_nvpmodel_conf() -> str | None:
    """The board's ``nvpmodel.conf`` (``EDGEPROF_ETC_ROOT`` honoured), or ``None``."""
    return read_raw(etc_root() / "nvpmodel.conf")


def jetson_power_state() -> dict[str, Any]:
    """Power mode (``nvpmodel -q``) and ``jetson_clocks --show`` state where the tools exist,
    for the run's conditions (``jetson_clocks --show`` needs root; skipped quietly when it
    fails)."""
    out: dict[str, Any] = {}
    text = run_tool(["nvpmodel", "-q"])
    if text and (mode := parse_nvpmodel_query(text)):
        out["power_mode"] = {"name": mode[0], "id": mode[1]}
    text = run_tool(["jetson_clocks", "--show"])
    if text:
        state = parse_jetson_clocks_show(text)
        if state["cpus"] or "gpu" in state:
            out["jetson_clocks"] = state
    return out
