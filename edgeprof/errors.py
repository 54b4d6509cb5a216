"""One root exception with narrow subclasses; every message names the way out.

The CLI turns an :class:`EdgeprofError` into ``Error: <message>`` on stderr and exits with
the error's ``exit_code``; nothing else is printed (set ``EDGEPROF_DEBUG=1`` for the
traceback).
"""

from __future__ import annotations


class EdgeprofError(Exception):
    """Root of every error edgeprof raises on purpose."""

    exit_code: int = 1


class UserInputError(EdgeprofError, ValueError):
    """Bad input from the user: a flag, a spec file, a model name. Exit code 2."""

    exit_code = 2


class UnknownModelError(UserInputError, KeyError):
    """A model name that is neither in the catalog nor a local Hugging Face folder."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownQuantError(UserInputError):
    """A quant format name edgeprof does not know."""


class DataFormatError(UserInputError):
    """A file that does not follow the format it claims (measurements, profile, traces)."""


class NotFittedError(EdgeprofError, AttributeError):
    """A model used for prediction before ``fit`` was called."""


class UnsupportedError(EdgeprofError):
    """A combination the hardware or engine cannot run (recorded as status ``unsupported``;
    at the CLI, exit 2: the request asks for what this machine cannot do)."""

    exit_code = 2


class MissingDependencyError(EdgeprofError):
    """An optional package is needed; the message says which extra to install."""

    exit_code = 3


class InfeasibleError(EdgeprofError):
    """No configuration meets the constraints (for example an SLO nothing meets). Exit 4."""

    exit_code = 4


class EngineOOM(EdgeprofError):
    """The engine ran out of device or host memory (recorded as status ``oom``)."""


class ContextLengthError(UserInputError):
    """Input + output tokens beyond a model's context length (exit 2); the message names the
    option, the value, the model and its context length (``edgeprof.catalog._context``)."""
