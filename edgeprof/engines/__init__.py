"""How tokens are produced: engines behind one interface (see :mod:`edgeprof.engines.base`)."""

from edgeprof.engines.base import Engine, RunResult, Support, engine_names, get_engine

__all__ = ["Engine", "RunResult", "Support", "engine_names", "get_engine"]
