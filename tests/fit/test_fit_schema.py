"""Profile fits are read through one pydantic schema; each problem is one named line."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from edgeprof.catalog import resolve_model
from edgeprof.device._spec import load_device_spec, profiles_dir
from edgeprof.errors import DataFormatError
from edgeprof.fit import _forms as forms
from edgeprof.fit import fit_rows
from edgeprof.fit._profile import _plain
from edgeprof.fit._schema import FitEntry, check_fits, dump_fits
from edgeprof.table import Measurement

GOOD = {"model": "qwen2.5-1.5b", "quant": "bf16", "engine": "vllm",
        "provenance": "predicted:measured-fit",
        "prefill": {"form": "a + b*I", "coef": {"overhead_s": 0.01, "s_per_tflop": 1e-12},
                    "interval": {"lo": 0.9, "hi": 1.1}, "cv_mape": 0.03, "extra_key": [1]},
        "decode": {"coef": {"step_s": 0.02, "kv_s": 1e-9}},
        "power": {"decode_energy": {"coef": {"j_per_token": 0.5}}, "prefill_power": None}}


def _bad(**change) -> list[dict]:
    entry = copy.deepcopy(GOOD)
    for dotted, value in change.items():
        *head, last = dotted.split("__")
        target = entry
        for k in head:
            target = target[k]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return [entry]


def test_every_shipped_profile_matches_the_schema() -> None:
    for path in sorted(profiles_dir().glob("*.yaml")):
        fits = yaml.safe_load(path.read_text()).get("fits") or []
        assert check_fits(fits, path) is fits
        for entry in fits:
            FitEntry.model_validate(entry)


def test_good_entry_keeps_its_extra_fields() -> None:
    entry = FitEntry.model_validate(GOOD)
    assert entry.prefill is not None and entry.prefill.coef["overhead_s"] == 0.01
    assert entry.prefill.interval is not None and entry.prefill.interval.level == 0.9
    assert entry.model_dump()["prefill"]["extra_key"] == [1]


@pytest.mark.parametrize(("change", "expected"), [
    ({"decode__coef__step_s": float("nan")}, "fits[0].decode.coef.step_s is nan, not a finite"),
    ({"prefill__coef__overhead_s": "fast"}, "fits[0].prefill.coef.overhead_s is 'fast'"),
    ({"prefill__coef__overhead_s": True}, "fits[0].prefill.coef.overhead_s is True"),
    ({"decode__coef": KeyError}, "fits[0].decode has no `coef:` mapping"),
    ({"model": KeyError}, "fits[0].model is missing or not a name"),
    ({"quant": ""}, "fits[0].quant is missing or not a name"),
    ({"provenance": "from memory"}, "fits[0].provenance"),
    ({"power__decode_energy__coef__j_per_token": float("inf")},
     "fits[0].power.decode_energy.coef.j_per_token is inf"),
    ({"prefill__interval": {"lo": "x", "hi": 1}}, "fits[0].prefill.interval.lo"),
])
def test_bad_entries_are_one_named_line(change, expected) -> None:
    with pytest.raises(DataFormatError) as info:
        check_fits(_bad(**change), "p.yaml")
    text = str(info.value)
    assert expected in text and "p.yaml" in text and "edgeprof fit" in text
    assert "\n" not in text


def test_not_a_list_or_not_mappings() -> None:
    with pytest.raises(DataFormatError, match="must be a list"):
        check_fits({"model": "x"}, "p.yaml")
    with pytest.raises(DataFormatError, match=r"fits\[1\] must be a mapping"):
        check_fits([GOOD, "x"], "p.yaml")
    assert check_fits(None, "p.yaml") == []


def test_dump_fits_writes_entries_back_as_read() -> None:
    """Shipped entries (and GOOD) survive validate → dump unchanged, key order included."""
    assert dump_fits([FitEntry.model_validate(GOOD)]) == [GOOD]
    for path in sorted(profiles_dir().glob("*.yaml")):
        fits = yaml.safe_load(path.read_text()).get("fits") or []
        dumped = _plain(dump_fits([FitEntry.model_validate(f) for f in fits]))
        assert yaml.safe_dump(dumped, sort_keys=False) == yaml.safe_dump(fits, sort_keys=False)


def test_fitted_entries_are_typed_and_dump_in_record_order() -> None:
    arch = resolve_model("qwen2.5-0.5b")
    rows = []
    for i in (32, 64, 128, 256, 512):
        for o in (8, 64):
            ttft = float(forms.prefill_time({"overhead_s": 0.01, "s_per_tflop": 2.0}, arch,
                                            np.array([i]), np.array([1]))[0])
            dec = float(forms.decode_time({"step_s": 0.02, "kv_s": 1e-6}, np.array([i]),
                                          np.array([o]), np.array([1]))[0])
            rows.append(Measurement(device="rtx-4090", engine="torch", model=arch.name,
                                    quant="fp16", input_tokens=i, output_tokens=o, batch=1,
                                    repeat=0, ttft_s=ttft, decode_s=dec, e2e_s=ttft + dec,
                                    source="synthetic"))
    (entry,) = fit_rows(rows, load_device_spec("rtx-4090"))
    assert isinstance(entry, FitEntry) and entry.decode is not None and entry.memory is None
    (d,) = dump_fits([entry])
    assert list(d) == ["model", "quant", "engine", "power_mode", "sources", "provenance",
                       "prefill", "decode", "memory", "power", "throttled_rows"]
    assert d["memory"] is None and d["power"] is None and d["throttled_rows"] is None
    assert list(d["prefill"]) == ["form", "coef", "fitted_params", "n", "fitted_on",
                                  "train_mape", "cv_mape", "extrapolation", "interval",
                                  "outliers", "pad_tokens_tried"]
