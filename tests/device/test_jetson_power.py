"""PowerModeController against recorded nvpmodel / jetson_clocks outputs (no board needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edgeprof.device import load_device_spec
from edgeprof.device.jetson._power_mode import PowerModeController, RebootRequiredError
from edgeprof.device.jetson._tools import (
    parse_jetson_clocks_show,
    parse_nvpmodel_conf,
    parse_nvpmodel_query,
)
from edgeprof.errors import UnsupportedError, UserInputError

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures"))
from fake_jetson_board import BOARDS, FakeBoard
from fake_jetson_board import on_path as _on_path


def _controller(board: str, spec_name: str, active: int, **kw: object
                ) -> tuple[PowerModeController, FakeBoard]:
    conf = BOARDS / board / "etc" / "nvpmodel.conf"
    fake = FakeBoard(conf, active, **kw)  # type: ignore[arg-type]
    ctl = PowerModeController(load_device_spec(spec_name), runner=fake, conf_path=conf,
                              use_sudo=False, which=_on_path)
    return ctl, fake


@pytest.mark.parametrize("board", sorted(p.name for p in BOARDS.iterdir() if p.is_dir()))
def test_recorded_query_parses(board: str) -> None:
    text = (BOARDS / board / "nvpmodel_q.txt").read_text()
    found = parse_nvpmodel_query(text)
    assert found is not None and found[1] is not None
    conf = parse_nvpmodel_conf((BOARDS / board / "etc" / "nvpmodel.conf").read_text())[0]
    assert {m.id: m.name for m in conf}[found[1]] == found[0]


def test_query_without_id_and_garbage() -> None:
    assert parse_nvpmodel_query("NV Fan Mode:quiet\nNV Power Mode: MAXN\n0\n") == ("MAXN", 0)
    assert parse_nvpmodel_query("NV Power Mode: 15W") == ("15W", None)
    assert parse_nvpmodel_query("nvpmodel: command not found") is None


def test_conf_parses_modes_caps_and_default() -> None:
    modes, default = parse_nvpmodel_conf(
        (BOARDS / "orin-nano-8gb-super" / "etc" / "nvpmodel.conf").read_text())
    assert [(m.id, m.name) for m in modes] == [(0, "15W"), (1, "25W"), (2, "MAXN_SUPER"), (3, "7W")]
    assert default == 1
    by_name = {m.name: m for m in modes}
    assert by_name["15W"].gpu_max_freq_mhz == 612 and by_name["15W"].emc_max_freq_mhz == 2133
    assert by_name["MAXN_SUPER"].gpu_max_freq_mhz is None  # -1: uncapped
    assert by_name["7W"].cpu_cores_online == 4


def test_conf_caps_agree_with_profile() -> None:
    """The profile's per-mode caps are the ones the board's nvpmodel.conf sets."""
    for board, spec_name in [("orin-nano-8gb-super", "jetson-orin-nano-8gb"),
                             ("orin-nx-16gb", "jetson-orin-nx-16gb"),
                             ("agx-orin-64gb-devkit", "jetson-agx-orin-64gb"),
                             ("agx-orin-32gb", "jetson-agx-orin-32gb")]:
        spec = load_device_spec(spec_name)
        ctl = PowerModeController(spec, conf_path=BOARDS / board / "etc" / "nvpmodel.conf")
        conf = {m.name: m for m in ctl.conf_modes()}
        for ref in ctl.modes():
            mode = spec.power_mode(ref.name)
            assert mode is not None and mode.id == ref.id, (spec_name, ref)
            cm = conf[ref.nvpmodel_name]
            if cm.gpu_max_freq_mhz is not None:
                assert mode.gpu_max_freq_mhz == pytest.approx(cm.gpu_max_freq_mhz), ref
            assert mode.cpu_cores_online == cm.cpu_cores_online, ref


def test_names_map_both_ways_on_agx_orin() -> None:
    ctl, _ = _controller("agx-orin-64gb-devkit", "jetson-agx-orin-64gb", active=2)
    assert ctl.current() == "30W"  # nvpmodel says MODE_30W
    assert ctl.resolve("mode_50w").id == 3
    assert ctl.resolve("50W").nvpmodel_name == "MODE_50W"
    assert ctl.resolve("0").name == "MAXN"
    with pytest.raises(UserInputError, match="MAXN"):
        ctl.resolve("MAXN_SUPER")


def test_set_runs_nvpmodel_with_the_board_id() -> None:
    ctl, fake = _controller("orin-nano-8gb-super", "jetson-orin-nano-8gb", active=1)
    ctl.set("MAXN_SUPER")
    assert (["nvpmodel", "-m", "2"], "no\n") in fake.calls
    assert ctl.current() == "MAXN_SUPER"
    n = len(fake.calls)
    ctl.set("maxn super")  # already active: only a query
    assert all(c[0][:2] != ["nvpmodel", "-m"] for c in fake.calls[n:])


def test_ids_come_from_the_board_not_the_profile() -> None:
    """On JetPack 5.1 the NX 8GB's MAXN is id 0 and there is no MAXN_SUPER."""
    ctl, fake = _controller("orin-nx-8gb", "jetson-orin-nx-8gb", active=2)
    ctl.set("MAXN")
    assert fake.active == 0
    with pytest.raises(UserInputError, match="Unknown power mode"):
        ctl.set("MAXN_SUPER")


def test_profile_ids_when_no_conf(tmp_path: Path) -> None:
    fake = FakeBoard(BOARDS / "agx-orin-32gb" / "etc" / "nvpmodel.conf", active=2)
    ctl = PowerModeController(load_device_spec("jetson-agx-orin-32gb"), runner=fake,
                              conf_path=tmp_path / "missing.conf", use_sudo=False,
                              which=_on_path)
    ctl.set("15W")
    assert fake.active == 1


def test_permission_error_names_sudo() -> None:
    ctl, _ = _controller("agx-orin-64gb-devkit", "jetson-agx-orin-64gb", active=0, denied=True)
    with pytest.raises(UserInputError, match="sudo") as err:
        ctl.set("15W")
    assert "\n" not in str(err.value) and "jetson/README.md" in str(err.value)


def test_reboot_prompt_is_answered_no_and_reported() -> None:
    ctl, fake = _controller("orin-nx-16gb", "jetson-orin-nx-16gb", active=4, reboot_ids=[1])
    with pytest.raises(RebootRequiredError, match="reboot"):
        ctl.set("10W")
    assert fake.active == 4


def test_sudo_prefix() -> None:
    conf = BOARDS / "agx-orin-64gb-devkit" / "etc" / "nvpmodel.conf"
    fake = FakeBoard(conf, 0)
    ctl = PowerModeController(load_device_spec("jetson-agx-orin-64gb"), runner=fake,
                              conf_path=conf, use_sudo=True, which=_on_path)
    ctl.set("30W")
    assert ["sudo", "-n", "nvpmodel", "-m", "2"] in [c[0] for c in fake.calls]
    assert ["nvpmodel", "-q"] in [c[0] for c in fake.calls]  # queries need no root


def test_not_a_jetson() -> None:
    ctl = PowerModeController(load_device_spec("rtx-4090"), which=lambda _: None)
    assert not ctl.available()
    assert ctl.current() is None and ctl.jetson_clocks_state() is None
    with pytest.raises(UnsupportedError):
        ctl.set("MAXN")


def test_jetson_clocks_show_and_store() -> None:
    ctl, fake = _controller("agx-orin-64gb-devkit", "jetson-agx-orin-64gb", active=0)
    state = ctl.jetson_clocks_state()
    assert state is not None and state["locked"] is True
    assert state["gpu"]["MaxFreq"] == 1300500000 and state["emc"]["FreqOverride"] == 1
    assert state["power_mode"] == "MAXN" and state["cpus"]["cpu0"]["Governor"] == "schedutil"
    assert state["machine"] == "NVIDIA Jetson AGX Orin Developer Kit"
    ctl.store_clocks("/tmp/clocks.conf")
    ctl.lock_clocks()
    ctl.restore_clocks("/tmp/clocks.conf")
    cmds = [c[0] for c in fake.calls]
    assert ["jetson_clocks", "--store", "/tmp/clocks.conf"] in cmds
    assert ["jetson_clocks"] in cmds and ["jetson_clocks", "--restore", "/tmp/clocks.conf"] in cmds


def test_unlocked_clocks() -> None:
    state = parse_jetson_clocks_show("GPU MinFreq=306000000 MaxFreq=1300500000 "
                                     "CurrentFreq=306000000\n")
    assert state["locked"] is False


def _thermal(root: Path, temps: dict[str, int]) -> None:
    for i, (kind, milli) in enumerate(temps.items()):
        zone = root / "class" / "thermal" / f"thermal_zone{i}"
        zone.mkdir(parents=True, exist_ok=True)
        (zone / "type").write_text(kind + "\n")
        (zone / "temp").write_text(f"{milli}\n")


class Clock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def test_cooldown_waits_until_cool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEPROF_SYSFS_ROOT", str(tmp_path))
    _thermal(tmp_path, {"cpu-thermal": 61000, "gpu-thermal": 64500, "PMIC-Die": 100000})
    clock = Clock()
    ctl = PowerModeController(sleep=clock.sleep, clock=clock.now)

    def cooling(s: float) -> None:
        Clock.sleep(clock, s)
        if clock.t >= 3:
            _thermal(tmp_path, {"cpu-thermal": 44000, "gpu-thermal": 45000, "PMIC-Die": 100000})

    ctl._sleep = cooling
    assert ctl.cooldown(30, threshold_c=50) == pytest.approx(45.0)
    assert clock.t == pytest.approx(3.0)  # PMIC-Die is not a gpu/cpu/tj zone


def test_cooldown_gives_up_after_the_time(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEPROF_SYSFS_ROOT", str(tmp_path))
    _thermal(tmp_path, {"tj-thermal": 80000})
    clock = Clock()
    ctl = PowerModeController(sleep=clock.sleep, clock=clock.now)
    assert ctl.cooldown(5, threshold_c=50, poll_s=2) == pytest.approx(80.0)
    assert clock.t == pytest.approx(5.0)


def test_cooldown_without_sensors_waits_full_time(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEPROF_SYSFS_ROOT", str(tmp_path))
    clock = Clock()
    ctl = PowerModeController(sleep=clock.sleep, clock=clock.now)
    assert ctl.cooldown(4) is None and clock.t == pytest.approx(4.0)
    with pytest.raises(UserInputError):
        ctl.cooldown(-1)
