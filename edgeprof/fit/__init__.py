"""Latency, memory and power models: forms, robust fitting, held-out error, profiles."""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports
from edgeprof.fit._pipeline import choose_prefill, fit_rows
from edgeprof.fit._profile import BATCH_LOG_WIDEN_PER_DOUBLING, Prediction, Profile

if TYPE_CHECKING:
    from edgeprof.fit._calibrate import (
        MIN_DEVICE_FIGURES,
        Obs,
        fit_terms,
        fit_with_devices,
        held_out,
        observations,
        summarize,
        terms_for_figure,
    )
    from edgeprof.fit._concurrency import ConcurrentProfile, factors, fit_concurrency
    from edgeprof.fit._engine_terms import (
        ENGINES,
        UnknownEngineError,
        normalize_engine,
        predict_times,
    )
    from edgeprof.fit._fitters import DecodeEnergyModel, DecodeModel, PrefillModel
    from edgeprof.fit._forms import (
        PAD_TOKENS,
        TILE_TOKENS,
        decode_time,
        prefill_tflops,
        prefill_time,
        ramp_energy,
    )
    from edgeprof.fit._roofline import (
        DEFAULT_CALIBRATION,
        SPEC_INTERVAL,
        bandwidth,
        calibrate,
        peak_flops,
    )
    from edgeprof.fit._schema import FitEntry, check_fits, dump_fits

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "ConcurrentProfile": "edgeprof.fit._concurrency",
    "DEFAULT_CALIBRATION": "edgeprof.fit._roofline",
    "DecodeEnergyModel": "edgeprof.fit._fitters",
    "DecodeModel": "edgeprof.fit._fitters",
    "ENGINES": "edgeprof.fit._engine_terms",
    "FitEntry": "edgeprof.fit._schema",
    "MIN_DEVICE_FIGURES": "edgeprof.fit._calibrate",
    "Obs": "edgeprof.fit._calibrate",
    "PAD_TOKENS": "edgeprof.fit._forms",
    "PrefillModel": "edgeprof.fit._fitters",
    "SPEC_INTERVAL": "edgeprof.fit._roofline",
    "TILE_TOKENS": "edgeprof.fit._forms",
    "UnknownEngineError": "edgeprof.fit._engine_terms",
    "bandwidth": "edgeprof.fit._roofline",
    "calibrate": "edgeprof.fit._roofline",
    "check_fits": "edgeprof.fit._schema",
    "decode_time": "edgeprof.fit._forms",
    "dump_fits": "edgeprof.fit._schema",
    "factors": "edgeprof.fit._concurrency",
    "fit_concurrency": "edgeprof.fit._concurrency",
    "fit_terms": "edgeprof.fit._calibrate",
    "fit_with_devices": "edgeprof.fit._calibrate",
    "held_out": "edgeprof.fit._calibrate",
    "normalize_engine": "edgeprof.fit._engine_terms",
    "observations": "edgeprof.fit._calibrate",
    "peak_flops": "edgeprof.fit._roofline",
    "predict_times": "edgeprof.fit._engine_terms",
    "prefill_tflops": "edgeprof.fit._forms",
    "prefill_time": "edgeprof.fit._forms",
    "ramp_energy": "edgeprof.fit._forms",
    "summarize": "edgeprof.fit._calibrate",
    "terms_for_figure": "edgeprof.fit._calibrate",
}

__all__ = [
    "BATCH_LOG_WIDEN_PER_DOUBLING",
    "DEFAULT_CALIBRATION",
    "ENGINES",
    "MIN_DEVICE_FIGURES",
    "PAD_TOKENS",
    "SPEC_INTERVAL",
    "TILE_TOKENS",
    "ConcurrentProfile",
    "DecodeEnergyModel",
    "DecodeModel",
    "FitEntry",
    "Obs",
    "Prediction",
    "PrefillModel",
    "Profile",
    "UnknownEngineError",
    "bandwidth",
    "calibrate",
    "check_fits",
    "choose_prefill",
    "decode_time",
    "dump_fits",
    "factors",
    "fit_concurrency",
    "fit_rows",
    "fit_terms",
    "fit_with_devices",
    "held_out",
    "normalize_engine",
    "observations",
    "peak_flops",
    "predict_times",
    "prefill_tflops",
    "prefill_time",
    "ramp_energy",
    "summarize",
    "terms_for_figure",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
