"""The one check of token lengths against a model's context length.

Every command that takes lengths (``sweep``, ``predict``, ``load``, ``recommend``) calls
:func:`check_context` where it parses them, so a prompt + output that no run could hold is
refused before any work starts, naming the option, the value, the model and its context.
"""

from __future__ import annotations

from edgeprof.catalog._architectures import ArchSpec, resolve_model
from edgeprof.errors import ContextLengthError, EdgeprofError


def context_length(model: str | ArchSpec) -> int | None:
    """The model's context length (``max_position_embeddings``); ``None`` when the name is
    not a catalog model or a local Hugging Face folder (nothing to check against)."""
    if isinstance(model, ArchSpec):
        return model.max_position
    try:
        return resolve_model(model).max_position
    except EdgeprofError:
        return None


def fits_context(model: str | ArchSpec, input_tokens: int, output_tokens: int) -> bool:
    """Whether ``input_tokens + output_tokens`` fits (an unknown model always fits)."""
    limit = context_length(model)
    return limit is None or input_tokens + output_tokens <= limit


def context_message(whose: str, limit: int, input_tokens: int, output_tokens: int, *,
                    inputs: str, outputs: str, where: str = "",
                    remedy: str = "pick a model with a longer context",
                    exceeds: str | None = None) -> str:
    """The one-line refusal: option, value, whose context (``"qwen2.5-0.5b's context
    length"``), its length and what to do (``exceeds`` replaces "<whose> of <limit>")."""
    total = input_tokens + output_tokens
    room = limit - input_tokens
    fix = (f"lower {outputs} to at most {room}" if room >= 1 else
           f"lower {inputs} below {limit}")
    return (f"{where}{inputs} {input_tokens} + {outputs} {output_tokens} = {total} tokens "
            f"exceeds {exceeds or f'{whose} of {limit}'}; {fix}, or {remedy}.")


def check_context(model: str | ArchSpec, input_tokens: int, output_tokens: int, *,
                  inputs: str = "--inputs", outputs: str = "--outputs",
                  where: str = "", limit: int | None = None,
                  limit_name: str | None = None) -> None:
    """Refuse ``input_tokens + output_tokens`` beyond the model's context length.

    ``inputs``/``outputs`` name the options (or file fields) the lengths came from and
    ``where`` prefixes the message (e.g. ``"points.csv:3: "``). ``limit`` overrides the
    catalog's figure (a server that reports its own context; ``limit_name`` then says whose,
    e.g. "the server's context length (max_model_len of m)")."""
    name = model.name if isinstance(model, ArchSpec) else str(model)
    if limit is None:
        limit = context_length(model)
        if isinstance(model, str) and limit is not None:
            name = resolve_model(model).name
    if limit is None or input_tokens + output_tokens <= limit:
        return
    whose = limit_name or f"{name}'s context length"
    remedy = ("start the server with a longer context (vLLM --max-model-len, llama.cpp -c)"
              if limit_name else "pick a model with a longer context")
    raise ContextLengthError(context_message(whose, limit, input_tokens, output_tokens,
                                             inputs=inputs, outputs=outputs, where=where,
                                             remedy=remedy))
