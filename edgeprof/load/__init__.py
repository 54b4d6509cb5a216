"""Serving under load: ``edgeprof load`` (see :mod:`edgeprof.load._runner`)."""

from edgeprof.load._runner import SLO, LoadRunner, RequestResult, read_lengths, summarize_level

__all__ = ["SLO", "LoadRunner", "RequestResult", "read_lengths", "summarize_level"]
