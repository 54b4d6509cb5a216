#!/usr/bin/env bash
# Create .venv with Python 3.11 and install edgeprof with the torch, onnx, test and llamacpp
# extras.
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
# The llama.cpp engine (edgeprof.engines._llamacpp_engine) and llama-cpp-python's server.
# pip builds llama.cpp from source here (about 10 min on 2 cores, see docs/engines.md) and
# keeps the built wheel in its cache (~/.cache/pip/wheels), so a second install takes seconds;
# CI should cache ~/.cache/pip. On x86-64 the build targets AVX2/FMA/F16C without -march=native
# (a portable wheel, and no AMX path, which crashed on Q4_0/Q8_0 weights on this machine's
# CPU); elsewhere llama.cpp's defaults apply. For a CUDA/Jetson build set
# CMAKE_ARGS="-DGGML_CUDA=on" before running this script. EDGEPROF_SKIP_LLAMACPP=1 skips it.
if [ "${EDGEPROF_SKIP_LLAMACPP:-0}" != 1 ]; then
  if [ -z "${CMAKE_ARGS:-}" ] && [ "$(uname -m)" = x86_64 ]; then
    export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF"
  fi
  export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
  python -m pip install -q -e ".[llamacpp]"
fi
echo "edgeprof $(python -c 'import edgeprof; print(edgeprof.__version__)') installed in .venv" >&2
