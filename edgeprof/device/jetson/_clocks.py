"""The integrated GPU's clock on a Jetson, from its devfreq node ``/sys/class/devfreq/<node>``
(``17000000.ga10b`` on Orin, ``17000000.gv11b`` on Xavier, ``gpu-gpc-0`` on Thor; ``cur_freq``
and ``max_freq`` in Hz)."""

from __future__ import annotations

from pathlib import Path

from edgeprof.device._fs import read_int, read_text, sysfs_root

GPU_DEVFREQ_NAMES = ("gv11b", "gp10b", "ga10b", "gb10b", "gpu")


def gpu_devfreq(root: Path | None = None) -> Path | None:
    """The integrated GPU's devfreq folder, or ``None`` (not a Jetson)."""
    base = (root or sysfs_root()) / "class/devfreq"
    for node in sorted(base.glob("*")):
        of_name = read_text(node / "device/of_node/name")
        tail = node.name.split(".")[-1]
        is_gpu = of_name in GPU_DEVFREQ_NAMES or tail in GPU_DEVFREQ_NAMES
        if (is_gpu or node.name == "gpu-gpc-0") and (node / "cur_freq").exists():
            return node
    return None


def gpu_clock_mhz(node: Path | None) -> dict[str, float]:
    """``{"gpu": MHz, "gpu_max": MHz}`` from a devfreq node."""
    if node is None:
        return {}
    out = {}
    cur, top = read_int(node / "cur_freq"), read_int(node / "max_freq")
    if cur is not None:
        out["gpu"] = cur / 1e6
    if top is not None:
        out["gpu_max"] = top / 1e6
    return out
