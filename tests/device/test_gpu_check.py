"""scripts/gpu_check.sh off an NVIDIA machine: one clear line, summary.json, exit 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.sh"


def _run(tmp_path: Path, path: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=path, PYTHON=sys.executable)
    return subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out")], env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def test_without_nvidia_smi_it_says_so_and_exits_cleanly(tmp_path: Path) -> None:
    done = _run(tmp_path, "/usr/bin:/bin")
    assert done.returncode == 0
    assert "no nvidia-smi on PATH" in done.stderr and "Traceback" not in done.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary == {"ran": False, "reason": "no nvidia-smi on PATH"}


def test_nvidia_smi_but_no_cuda_torch_is_a_clean_skip(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'NVIDIA-SMI fake'\n")
    (fake / "nvidia-smi").chmod(0o755)
    done = _run(tmp_path, f"{fake}:/usr/bin:/bin")
    assert done.returncode == 0, done.stderr
    assert "torch has no CUDA device" in done.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["ran"] is False
    assert not (tmp_path / "out" / "torch").exists()  # nothing was attempted
