"""Importers that turn other tools' published measurements into edgeprof tables."""

from edgeprof.importers.edge_llm import import_edge_llm
from edgeprof.importers.edgereasoning import import_edgereasoning
from edgeprof.importers.genai_perf import import_genai_perf
from edgeprof.importers.jetson_benchmarks import import_jetson_benchmarks
from edgeprof.importers.llama_bench import import_llama_bench
from edgeprof.importers.vllm_bench import import_vllm_bench

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

__all__ = ["IMPORTERS", "TOOL_IMPORTERS", "import_edge_llm", "import_edgereasoning",
           "import_genai_perf", "import_jetson_benchmarks", "import_llama_bench",
           "import_vllm_bench"]
