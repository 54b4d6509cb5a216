#!/usr/bin/env bash
# Create .venv with Python 3.11 and install edgeprof with the torch, onnx and test extras.
# torch is installed first at the pinned CPU release so that pip never pulls a CUDA build;
# on a Jetson or a CUDA machine, install your platform's torch first and set
# EDGEPROF_TORCH_SPEC="" to keep it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install -q --upgrade pip >/dev/null
TORCH_SPEC="${EDGEPROF_TORCH_SPEC-torch==2.13.0}"
if [ -n "$TORCH_SPEC" ]; then
  python -m pip install -q "$TORCH_SPEC"
fi
python -m pip install -q -e ".[torch,onnx,test]"
echo "edgeprof $(python -c 'import edgeprof; print(edgeprof.__version__)') installed in .venv" >&2
