"""Serving under load: ``edgeprof load`` (see :mod:`edgeprof.load.runner`)."""

from edgeprof.load.runner import SLO, LoadRunner, RequestResult, read_lengths, summarize_level

__all__ = ["SLO", "LoadRunner", "RequestResult", "read_lengths", "summarize_level"]
