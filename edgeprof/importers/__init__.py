"""Importers that turn other tools' published measurements into edgeprof tables."""

from edgeprof.importers._edge_llm import edge_llm_rows, import_edge_llm
from edgeprof.importers._edgereasoning import decode_rows, import_edgereasoning, prefill_rows
from edgeprof.importers._genai_perf import genai_perf_rows, import_genai_perf
from edgeprof.importers._jetson_benchmarks import (
             WITHDRAWN_RELEASES,
             board_profile,
             import_jetson_benchmarks,
             read_figures,
)
from edgeprof.importers._llama_bench import gguf_quant, import_llama_bench, llama_bench_rows
from edgeprof.importers._vllm_bench import import_vllm_bench, vllm_bench_rows

IMPORTERS = {"edgereasoning": import_edgereasoning,
             "jetson-benchmarks": import_jetson_benchmarks}

# Tool-output importers: (path, out, *, device, model, quant, engine, tool_version,
# power_mode, batch) -> measurements path; ``device`` is required.
TOOL_IMPORTERS = {
    "llama-bench": import_llama_bench,
    "vllm-bench": import_vllm_bench,
    "genai-perf": import_genai_perf,
    "aiperf": import_genai_perf,
    "edge-llm": import_edge_llm,
}

__all__ = [
    "IMPORTERS", "TOOL_IMPORTERS", "WITHDRAWN_RELEASES", "board_profile", "decode_rows",
    "edge_llm_rows",
    "genai_perf_rows", "gguf_quant", "import_edge_llm", "import_edgereasoning",
    "import_genai_perf", "import_jetson_benchmarks", "import_llama_bench", "import_vllm_bench",
    "llama_bench_rows", "prefill_rows", "read_figures", "vllm_bench_rows",
]
