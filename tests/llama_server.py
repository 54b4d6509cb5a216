"""Shared test helper: a real llama-cpp-python server on 127.0.0.1 over a random-weight GGUF.

Import it from a test (not a conftest)::

    sys.path.insert(0, str(Path(__file__).parent))
    import llama_server

    gguf = llama_server.random_gguf(tmp_path, "qwen2.5-0.5b-scaled-2L", "int4")
    with llama_server.running_llama_server(gguf, n_ctx=2048) as base_url:
        ...  # base_url == "http://127.0.0.1:PORT/v1"

``random_gguf`` writes with :mod:`edgeprof.engines._gguf_build` into edgeprof's GGUF cache
(``$EDGEPROF_CACHE_DIR/gguf`` or ``~/.cache/edgeprof/gguf``; content-addressed, so tests
share one file), falling back to ``tmp_dir`` when the cache is not writable.
``running_llama_server`` starts ``python -m llama_cpp.server`` as a subprocess, waits at most
``timeout_s`` for ``/v1/models`` to answer, yields the base URL, and always kills the server.

llama-cpp-python's server has no parallel slots: it serves one completion at a time and
queues the rest (``--interrupt_requests False``, so a new request never cancels a running
one). ``n_parallel`` is accepted for the manifest's ``--parallel N`` and must be ≥ 1; above 1
requests still run one after another, which the caller should expect in its timings.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from edgeprof.catalog._architectures import resolve_model
from edgeprof.engines import _gguf_build as gguf_build

HOST = "127.0.0.1"


def random_gguf(tmp_dir: str | os.PathLike[str], model: str = "qwen2.5-0.5b-scaled-2L",
                quant: str = "int4", *, seed: int = 0) -> Path:
    """The path of a random-weight GGUF of catalog ``model`` in ``quant`` (edgeprof name such
    as ``int4`` or GGUF type such as ``Q4_0``)."""
    arch = resolve_model(model)
    try:
        return gguf_build.ensure_gguf(arch, quant, seed=seed).path
    except OSError:
        return gguf_build.ensure_gguf(arch, quant, seed=seed, root=Path(tmp_dir)).path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _models_ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/models", timeout=1.0) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


@contextmanager
def running_llama_server(gguf_path: str | os.PathLike[str], *, n_parallel: int = 1,
                         n_ctx: int = 2048, timeout_s: float = 60,
                         n_threads: int | None = None, n_gpu_layers: int | None = None,
                         extra_args: Sequence[str] = ()) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on 127.0.0.1 over ``gguf_path``; yield
    ``http://127.0.0.1:PORT/v1``. The server is killed on exit, whatever happens.

    ``n_gpu_layers`` is the server's ``--n_gpu_layers`` (llama-server's ``-ngl``; ignored by
    a CPU-only build); ``extra_args`` go to the server's command line as they are."""
    if n_parallel < 1:
        raise ValueError(f"n_parallel must be ≥ 1, got {n_parallel}")
    path = Path(gguf_path)
    if not path.is_file():
        raise FileNotFoundError(f"no GGUF file at {path}")
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--host", HOST,
           "--port", str(port), "--n_ctx", str(n_ctx), "--interrupt_requests", "False",
           "--n_threads", str(n_threads or min(2, os.cpu_count() or 1)),
           *(["--n_gpu_layers", str(n_gpu_layers)] if n_gpu_layers is not None else []),
           *extra_args]
    base_url = f"http://{HOST}:{port}/v1"
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout_s
            while not _models_ready(base_url):
                if proc.poll() is not None:
                    log.seek(0)
                    tail = log.read()[-2000:]
                    raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"llama_cpp.server did not answer {base_url}/models "
                                       f"within {timeout_s} s")
                time.sleep(0.2)
            yield base_url
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
