"""The answer: winner, runner-ups, Pareto fronts and the cross-check, as pydantic models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgeprof.errors import DataFormatError, UserInputError
from edgeprof.estimates import Estimate
from edgeprof.search._problem import Problem, ProblemLabels
from edgeprof.units import format_bytes

#: Version of the recommendation file this edgeprof writes; ``load_recommendation`` reads
#: this version and refuses newer ones.
SCHEMA_VERSION = 1


class RecProblem(BaseModel, ProblemLabels):
    """The question a recommendation answers, as written in the file: the search's
    :class:`~edgeprof.search._problem.Problem` plus the space it ran over."""

    model_config = ConfigDict(extra="ignore")

    slo_s: float
    input_tokens: int
    memory_limit_bytes: int
    percentile: float = 95.0
    energy_budget_j: float | None = None
    semantics: str = "truncate-wrong"
    confidence: float = 0.0
    quantile: float | None = None
    space_size: int | None = None
    axes: dict[str, list[Any]] = Field(default_factory=dict)
    device: str = "unknown"
    latency_rule: str | None = None

    @classmethod
    def of(cls, problem: Problem, *, space_size: int, axes: dict[str, list[Any]],
           device: str, latency_rule: str) -> RecProblem:
        from dataclasses import asdict

        return cls(**asdict(problem), quantile=problem.quantile, space_size=space_size,
                   axes=axes, device=device, latency_rule=latency_rule)

    def describe(self) -> str:
        """One line: SLO, prompt, limits and the space searched."""
        bits = [f"SLO {self.slo_s:g} s at {self.pct_label}", f"input {self.input_tokens} tokens",
                f"memory ≤ {format_bytes(self.memory_limit_bytes)}"]
        if self.energy_budget_j:
            bits.append(f"energy ≤ {self.energy_budget_j:g} J")
        size = "?" if self.space_size is None else self.space_size
        bits.append(f"{size} configurations on {self.device}")
        return "; ".join(bits)


class RowSources(BaseModel):
    """Where a ``model/quant`` row's accuracy and latency figures come from."""

    accuracy: str
    latency: str


class RecProvenance(BaseModel):
    """What a recommendation rests on."""

    model_config = ConfigDict(extra="ignore")

    profile_hash: str
    device: str
    accuracy_source: str
    edgeprof_version: str
    timestamp: str | None = None
    accuracy_kind: str | None = None
    accuracy_benchmark: str | None = None
    concurrency: int = 1
    #: the KV cache latency and memory were predicted with (edgeprof.fit._kv_cache)
    kv_cache_dtype: str = "auto"
    sources: dict[str, RowSources] = Field(default_factory=dict)


class ConfigOut(BaseModel):
    """One configuration with predictions, each with interval and provenance."""

    model: str
    quant: str
    budget: int = Field(description="max new tokens per sample")
    samples: int = Field(description="parallel samples, majority-voted (batch = samples)")
    power_mode: str | None = None
    accuracy: Estimate
    latency_pct: Estimate = Field(description="e2e at the SLO percentile of output length")
    latency_mean: Estimate = Field(description="e2e at the mean longest-of-N output length")
    ttft: Estimate
    energy_j: Estimate | None = None
    memory_bytes: Estimate = Field(description="peak memory at output = budget, batch = N")
    output_tokens_pct: float
    output_tokens_mean: float
    constraints: dict[str, float] = Field(description="≤ 0 means met (Optuna's convention)")
    feasible: bool
    checked: dict[str, float] = Field(default_factory=dict, description="the values the "
                                      "constraints were checked at: confidence, latency_s "
                                      "(upper confidence-bound of latency_pct), memory_bytes")
    synthetic: bool = Field(False, description="a -scaled- toy model or synthetic accuracy "
                            "data: not a real model's answer quality")


class Candidate(BaseModel):
    model: str
    quant: str
    budget: int
    samples: int
    power_mode: str | None = None
    accuracy: float
    latency_s: float = Field(description="point e2e at the SLO percentile")
    latency_bound_s: float | None = Field(None, description="its upper --confidence bound, "
                                          "as checked against the SLO and used for ranking")
    energy_j: float | None = None
    memory_bytes: float = Field(description="point peak memory")
    memory_bound_bytes: float | None = Field(None, description="its upper --confidence bound, "
                                             "as checked against the memory limit")
    feasible: bool
    verdict: str = ""


class CrossCheck(BaseModel):
    enumerated: bool
    space_size: int
    optimum: Candidate | None = None
    agrees: bool | None = Field(None, description="the study's best equals the enumerated one")
    winner_source: str = Field(description="optuna-sampler | enumeration (enqueued) | none")
    sampler_best_accuracy: float | None = None
    sampler_regret: float | None = Field(
        None, description="enumerated optimum's accuracy minus the sampler's best")
    tie_rule: str = ("higher accuracy; ties: lower checked latency at the SLO percentile "
                     "(upper --confidence bound); then order")


class SearchInfo(BaseModel):
    sampler: str
    seed: int | None
    trials_requested: int
    trials_asked: int
    distinct_groups: int
    groups_total: int
    groups_feasible: int
    study_trials: int
    storage: str
    study_name: str
    accuracy_calls: int
    wall_s: float


class Recommendation(BaseModel):
    schema_version: int = SCHEMA_VERSION
    kind: str = "recommendation"
    feasible: bool
    problem: RecProblem
    winner: ConfigOut | None = None
    fastest: ConfigOut | None = Field(None, description="when nothing is feasible")
    runner_ups: list[Candidate] = Field(default_factory=list)
    pareto_latency: list[Candidate] = Field(default_factory=list)
    pareto_energy: list[Candidate] = Field(default_factory=list)
    points: list[Candidate] = Field(default_factory=list, description="evaluated, for plots")
    cross_check: CrossCheck
    search: SearchInfo
    provenance: RecProvenance
    notes: list[str] = Field(default_factory=list)
    min_slo_s: float | None = Field(None, description="when nothing is feasible: the smallest "
                                    "SLO at which a real (not -scaled-) model with accuracy "
                                    "≥ 1 % meets the other constraints")


def load_recommendation(path: str | Path) -> Recommendation:
    """A recommendation written by ``edgeprof recommend --out``; one-line errors."""
    p = Path(path)
    if not p.exists():
        raise UserInputError(f"{p} does not exist; write one with `edgeprof recommend ... "
                             f"--out recommendation.json`.")
    try:
        from edgeprof.files import read_text_checked

        text = read_text_checked(p, "recommendation", "regenerate it with `edgeprof "
                                 "recommend --out`")
        _check_version(p, text)
        return Recommendation.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise DataFormatError(f"{p} is not an edgeprof recommendation ({where}: "
                              f"{first['msg']}); regenerate it with `edgeprof recommend --out`."
                              ) from None


def _check_version(path: Path, text: str) -> None:
    """The file's ``schema_version`` by the one rule every versioned file follows
    (:func:`edgeprof.loaders.schema_version`: absent is 1, newer says upgrade)."""
    import json

    from edgeprof.loaders import schema_version

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return  # not JSON: the model's validation names the problem
    if isinstance(data, dict):
        schema_version(data, path, "recommendation", {SCHEMA_VERSION: Recommendation},
                       "regenerate it with `edgeprof recommend --out`")
