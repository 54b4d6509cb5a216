"""The Jetson power-mode controller: set modes with ``nvpmodel``, lock clocks with
``jetson_clocks``, wait for the board to cool down (the tools' output is parsed in
:mod:`edgeprof.device.jetson._tools`).

Names map to nvpmodel ids from the board's ``/etc/nvpmodel.conf`` first (``< POWER_MODEL ID=2
NAME=MAXN_SUPER >`` blocks; ids differ between boards and JetPack releases), then from the
profile's ``power_modes`` (``name``, ``nvpmodel_name``, ``id``). Every command goes through an
injectable runner so tests replay recorded outputs.

Some mode changes (for example ones that change which CPU clusters are online) make
``nvpmodel -m`` ask ``DO YOU WANT TO REBOOT NOW? enter YES/yes to confirm:``. The controller
answers "no" and raises :class:`RebootRequiredError`: a sweep never reboots the board.
Changing modes and clocks needs root: the controller calls ``sudo -n`` when not root (see
``jetson/README.md`` for a sudoers rule).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeprof.device._fs import read_raw, thermal_zones
from edgeprof.device._spec import DeviceSpec
from edgeprof.device.jetson._tools import (
    CommandResult,
    ConfMode,
    parse_jetson_clocks_show,
    parse_nvpmodel_conf,
    parse_nvpmodel_query,
    read_nvpmodel_conf,
    subprocess_runner,
)
from edgeprof.errors import UnsupportedError, UserInputError

NEEDS_ROOT = (
    "run with sudo or add a sudoers rule for nvpmodel; see jetson/README.md"
)
_DENIED = ("permission denied", "not permitted", "must be run as root", "are you root",
           "a password is required", "root privilege", "eacces")
_REBOOT = re.compile(r"reboot", re.IGNORECASE)


class RebootRequiredError(UserInputError):
    """nvpmodel needs a reboot to enter the requested mode."""


Runner = Callable[[Sequence[str], str | None], CommandResult]


def _norm(name: str) -> str:
    """Loose key for mode names: case, spaces/dashes and a ``MODE_`` prefix do not matter."""
    key = re.sub(r"[\s\-]+", "_", name.strip().upper())
    return key[5:] if key.startswith("MODE_") else key


@dataclass(frozen=True)
class ModeRef:
    """A resolved mode: what edgeprof calls it, what nvpmodel calls it, and its id."""

    name: str
    nvpmodel_name: str
    id: int


class PowerModeController:
    """Query and set Jetson power modes; lock clocks; wait for the board to cool down."""

    def __init__(
        self,
        spec: DeviceSpec | None = None,
        *,
        runner: Runner | None = None,
        conf_path: Path | str | None = None,
        use_sudo: bool | None = None,
        which: Callable[[str], str | None] = shutil.which,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self._runner: Runner = runner or subprocess_runner
        self._conf_path = Path(conf_path) if conf_path else None
        self._use_sudo = use_sudo
        self._which = which
        self._sleep = sleep
        self._clock = clock

    # -- discovery -------------------------------------------------------------------------
    def available(self) -> bool:
        """True when ``nvpmodel`` is on PATH (a Jetson)."""
        return self._which("nvpmodel") is not None

    def conf_modes(self) -> list[ConfMode]:
        """Modes from the board's nvpmodel.conf (``EDGEPROF_ETC_ROOT`` honoured); [] if none."""
        text = read_raw(self._conf_path) if self._conf_path else read_nvpmodel_conf()
        return parse_nvpmodel_conf(text)[0] if text else []

    def modes(self) -> list[ModeRef]:
        """Every known mode: the board's conf first, profile modes filling in names."""
        profile = list(self.spec.power_modes) if self.spec else []
        by_key = {}
        for pm in profile:
            by_key.setdefault(_norm(pm.name), pm)
            nv = getattr(pm, "nvpmodel_name", None)
            if nv:
                by_key.setdefault(_norm(nv), pm)
        conf = self.conf_modes()
        if conf:
            out = []
            for cm in conf:
                pm = by_key.get(_norm(cm.name))
                out.append(ModeRef(pm.name if pm else cm.name, cm.name, cm.id))
            return out
        return [ModeRef(pm.name, getattr(pm, "nvpmodel_name", None) or pm.name, pm.id)
                for pm in profile if pm.id is not None]

    def resolve(self, mode: str) -> ModeRef:
        """A mode by edgeprof name, nvpmodel name or id; ``UserInputError`` listing the known."""
        known = self.modes()
        key = _norm(str(mode))
        for ref in known:
            if key in (_norm(ref.name), _norm(ref.nvpmodel_name)):
                return ref
        if key.isdigit():
            for ref in known:
                if ref.id == int(key):
                    return ref
        names = ", ".join(f"{r.name} ({r.id})" for r in known) or "none found"
        raise UserInputError(
            f"Unknown power mode {mode!r}; this board has: {names}. "
            "See `nvpmodel -q --verbose` or /etc/nvpmodel.conf."
        )

    # -- commands --------------------------------------------------------------------------
    def _sudo_prefix(self) -> list[str]:
        use = self._use_sudo
        if use is None:
            use = hasattr(os, "geteuid") and os.geteuid() != 0 and self._which("sudo") is not None
        return ["sudo", "-n"] if use else []

    def _run(self, argv: list[str], *, privileged: bool, stdin: str | None = None,
             what: str) -> CommandResult:
        full = (self._sudo_prefix() if privileged else []) + argv
        result = self._runner(full, stdin)
        if result.returncode != 0 and any(m in result.text.lower() for m in _DENIED):
            raise UserInputError(f"{what} needs root: {NEEDS_ROOT}.")
        if result.returncode == 127:
            raise UnsupportedError(f"{argv[0]} is not installed: {what} works on a Jetson only.")
        return result

    def query(self) -> tuple[str, int | None] | None:
        """``(nvpmodel name, id)`` of the active mode, or ``None`` off a Jetson."""
        if not self.available():
            return None
        result = self._run(["nvpmodel", "-q"], privileged=False, what="Reading the power mode")
        return parse_nvpmodel_query(result.text)

    def current(self) -> str | None:
        """The active mode under edgeprof's name (the board's name if the profile lacks it)."""
        found = self.query()
        if found is None:
            return None
        name = found[0]
        refs = self.modes()
        for ref in refs:
            if _norm(ref.nvpmodel_name) == _norm(name):
                return ref.name
        return name

    def set(self, mode_name: str) -> None:
        """Switch to a mode with ``nvpmodel -m <id>``; no-op if already active.

        Raises ``UserInputError`` (no root), ``RebootRequiredError`` (nvpmodel asked for a
        reboot; answered no) or ``UnsupportedError`` (not a Jetson, or the switch did not stick).
        """
        if not self.available():
            raise UnsupportedError(
                "nvpmodel is not on PATH: power modes exist on Jetson boards only."
            )
        ref = self.resolve(mode_name)
        found = self.query()
        if found is not None and _norm(found[0]) == _norm(ref.nvpmodel_name):
            return
        result = self._run(["nvpmodel", "-m", str(ref.id)], privileged=True, stdin="no\n",
                           what=f"Switching to power mode {ref.name}")
        if _REBOOT.search(result.text):
            raise RebootRequiredError(
                f"Power mode {ref.name} (id {ref.id}) needs a reboot: run `sudo nvpmodel -m "
                f"{ref.id}`, answer yes, then rerun (the sweep resumes)."
            )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise UnsupportedError(
                f"nvpmodel -m {ref.id} failed ({detail[-1] if detail else result.returncode})."
            )
        after = self.query()
        if after is not None and _norm(after[0]) != _norm(ref.nvpmodel_name):
            raise UnsupportedError(
                f"nvpmodel still reports {after[0]} after switching to {ref.nvpmodel_name}."
            )

    def jetson_clocks_state(self) -> dict[str, Any] | None:
        """Parsed ``jetson_clocks --show`` (clocks, governors, ``locked``), or ``None``."""
        if self._which("jetson_clocks") is None:
            return None
        result = self._run(["jetson_clocks", "--show"], privileged=True,
                           what="Reading clocks with jetson_clocks --show")
        if result.returncode != 0:
            return None
        return parse_jetson_clocks_show(result.stdout)

    def lock_clocks(self) -> None:
        """Pin CPU/GPU/EMC to the current mode's maxima (``jetson_clocks``)."""
        self._clocks([], "Locking clocks with jetson_clocks")

    def store_clocks(self, path: Path | str) -> None:
        """Save the current clock settings (``jetson_clocks --store FILE``)."""
        self._clocks(["--store", str(path)], "Saving clocks with jetson_clocks --store")

    def restore_clocks(self, path: Path | str) -> None:
        """Restore saved clock settings (``jetson_clocks --restore FILE``)."""
        self._clocks(["--restore", str(path)], "Restoring clocks with jetson_clocks --restore")

    def _clocks(self, args: list[str], what: str) -> None:
        if self._which("jetson_clocks") is None:
            raise UnsupportedError("jetson_clocks is not on PATH: it exists on Jetson boards only.")
        result = self._run(["jetson_clocks", *args], privileged=True, what=what)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            reason = detail[-1] if detail else result.returncode
            raise UnsupportedError(f"{what} failed ({reason}).")

    # -- thermal ---------------------------------------------------------------------------
    def temperatures_c(self) -> dict[str, float]:
        """Thermal zone temperatures (°C) by zone type, from ``/sys/class/thermal``."""
        return thermal_zones()

    def cooldown(self, seconds: float, threshold_c: float = 50.0,
                 zones: Sequence[str] = ("gpu", "cpu", "tj"), poll_s: float = 1.0) -> float | None:
        """Wait until the hottest matching zone is below ``threshold_c`` or ``seconds`` pass.

        Zones match by substring of their type (``gpu-thermal``, ``tj-thermal``…); with no
        matching zone, any zone counts; with no readable zone the full time is waited. Returns
        the last hottest temperature read (°C), or ``None`` when none was readable.
        """
        if seconds < 0:
            raise UserInputError(f"cooldown needs a non-negative time; got {seconds}.")
        deadline = self._clock() + seconds
        last: float | None = None
        while True:
            temps = self.temperatures_c()
            picked = [t for k, t in temps.items() if any(z in k.lower() for z in zones)]
            picked = picked or list(temps.values())
            last = max(picked) if picked else None
            if last is not None and last < threshold_c:
                return last
            left = deadline - self._clock()
            if left <= 0:
                return last
            self._sleep(min(poll_s, left))
