"""The measurements table: one row per measured point and repeat (DESIGN.md, data contract 1).

Times are seconds, memory bytes, power watts, energy joules; the unit is in every name. A
quantity that was not measured is ``None`` (never 0). A failed point is a row with its
``status`` and ``error``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1

# The contract's minimum columns, in order: any tool's CSV with these can be imported.
CONTRACT_COLUMNS: tuple[str, ...] = (
    "device", "engine", "model", "quant", "input_tokens", "output_tokens", "batch", "repeat",
    "ttft_s", "decode_s", "tbt_s", "e2e_s", "peak_mem_bytes", "avg_power_w", "energy_j",
    "status", "error",
)


class Status(StrEnum):
    OK = "ok"
    OOM = "oom"
    UNSUPPORTED = "unsupported"
    ERROR = "error"
    KILLED = "killed"  # the process died mid-point without a row (see sweep/store.py)


class QuantImpl(StrEnum):
    """How the quant format was executed."""

    NATIVE = "native"  # real low-precision kernels on this hardware
    EMULATED = "emulated"  # run in software (e.g. dequantize then matmul): a labeled stand-in
    NONE = "none"  # not run (unsupported / error)


class Measurement(BaseModel):
    """One measured point and repeat.

    ``ttft_s`` is the time to the first token (prefill plus the first sample); ``decode_s``
    covers the remaining ``output_tokens - 1`` tokens; ``tbt_s`` is their median time between
    tokens; ``e2e_s`` is prefill to last token. ``token_times_s`` keeps every per-token time.
    """

    model_config = ConfigDict(extra="allow", use_enum_values=True)

    device: str
    engine: str
    model: str
    quant: str
    input_tokens: int = Field(ge=1)
    output_tokens: int = Field(ge=1)
    batch: int = Field(ge=1)
    repeat: int = Field(ge=0)
    ttft_s: float | None = Field(default=None, gt=0)
    decode_s: float | None = Field(default=None, ge=0)
    tbt_s: float | None = Field(default=None, ge=0)
    e2e_s: float | None = Field(default=None, gt=0)
    peak_mem_bytes: int | None = Field(default=None, ge=0)
    avg_power_w: float | None = None
    energy_j: float | None = None
    status: Status = Status.OK
    error: str | None = None

    # edgeprof's own columns (optional for imported data)
    quant_impl: QuantImpl | None = None
    power_mode: str | None = None
    # requests in flight at once (``edgeprof load``); 1 for a sweep, and for older tables
    concurrency: int = Field(default=1, ge=1)
    token_times_s: list[float] | None = None
    weight_bytes: int | None = None
    prefill_power_w: float | None = None
    decode_power_w: float | None = None
    prefill_energy_j: float | None = None
    decode_energy_j: float | None = None
    idle_power_w: float | None = None
    power_source: str | None = None
    flags: list[str] = Field(default_factory=list)
    source: str = "measured"  # measured | imported:<tool>
    timestamp: str | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _status_lower(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v

    @property
    def key(self) -> tuple:
        """Identity of the point (used for resume and de-duplication)."""
        return point_key(self.model_dump())

    @property
    def ok(self) -> bool:
        return self.status == Status.OK


def point_key(row: dict[str, Any]) -> tuple:
    key: tuple = (
        row["device"], row["engine"], row["model"], row["quant"], int(row["input_tokens"]),
        int(row["output_tokens"]), int(row["batch"]), int(row["repeat"]),
        row.get("power_mode") or "",
    )
    concurrency = int(row.get("concurrency") or 1)
    return key if concurrency == 1 else (*key, concurrency)  # sweep keys stay as they were


class RunConditions(BaseModel):
    """The conditions a measurements file was taken under (``run.json`` beside it)."""

    model_config = ConfigDict(extra="allow")

    schema_version: int = SCHEMA_VERSION
    edgeprof_version: str
    device: str = Field(description="device name, e.g. cpu-amd-epyc or jetson-agx-orin-64gb")
    device_fingerprint: dict[str, Any] = Field(default_factory=dict)
    power_mode: str | None = None
    clocks: dict[str, Any] | None = None
    engine: str | None = None
    library_versions: dict[str, str] = Field(default_factory=dict)
    started_at: str | None = None
    sweep_spec: dict[str, Any] | None = None
    device_spec: dict[str, Any] | None = Field(
        default=None, description="the DeviceSpec measured on (what `edgeprof fit` uses when "
        "the device is not a shipped profile)")
    telemetry: dict[str, Any] | None = None
