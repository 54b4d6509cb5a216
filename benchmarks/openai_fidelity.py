"""How close are ``--engine openai``'s TTFT and TBT to a server's true timing?

    python benchmarks/openai_fidelity.py [--ttft 0.12] [--tpot 0.025]

Runs the issue's sweep (``--inputs 64,256 --outputs 24 --batches 1,4 --repeats 2
--warmup 1``) against the fake SSE server of ``tests/fake_openai_server.py`` (known TTFT and
per-token delay, in a child process, 127.0.0.1), once with ``n`` supported and once without
(batch → concurrent requests), and prints JSON per run: rows, ok rows, and the median and
max relative error of TTFT and TBT against the server's settings.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_openai_server import fake_openai_server

from edgeprof.cli import main


def run(ttft: float, tpot: float, supports_n: bool) -> dict:
    out = tempfile.mkdtemp(prefix="openai-fidelity-")
    with (fake_openai_server(ttft_s=ttft, tpot_s=tpot, supports_n=supports_n,
                             process=True) as (url, _),
          contextlib.redirect_stdout(io.StringIO())):  # the sweep's own JSON
        code = main(["sweep", "--engine", "openai", "--url", url, "--models", "qwen2.5-0.5b",
                     "--quants", "int4", "--inputs", "64,256", "--outputs", "24", "--batches",
                     "1,4", "--repeats", "2", "--warmup", "1", "--idle-baseline", "0",
                     "--out", out, "--json"])
    rows = [json.loads(x) for x in (Path(out) / "measurements.jsonl").read_text().splitlines()]
    ok = [r for r in rows if r["status"] == "ok"]
    e_t = [abs(r["ttft_s"] / ttft - 1) for r in ok]
    e_b = [abs(r["tbt_s"] / tpot - 1) for r in ok]

    def pct(v: list[float], f) -> float | None:
        return round(100 * f(v), 2) if v else None

    return {"server_supports_n": supports_n, "exit_code": code, "rows": len(rows),
            "ok": len(ok), "ttft_err_median_pct": pct(e_t, statistics.median),
            "ttft_err_max_pct": pct(e_t, max), "tbt_err_median_pct": pct(e_b, statistics.median),
            "tbt_err_max_pct": pct(e_b, max)}


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ttft", type=float, default=0.12, help="server TTFT, seconds")
    ap.add_argument("--tpot", type=float, default=0.025, help="server time per token, s")
    args = ap.parse_args()
    results = [run(args.ttft, args.tpot, n) for n in (True, False)]
    print(json.dumps({"ttft_s": args.ttft, "tpot_s": args.tpot, "runs": results}, indent=2))


if __name__ == "__main__":
    cli()
