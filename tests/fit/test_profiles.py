"""Every shipped device profile loads, cites its figures, and passes physical sanity rules."""

from __future__ import annotations

import pytest
import yaml

from edgeprof.catalog._quant import QUANT_FORMATS
from edgeprof.device import DeviceSpec, list_device_names, load_device_spec
from edgeprof.device._spec import profiles_dir

NAMES = list_device_names()
REQUIRED = {
    "jetson-orin-nano-4gb", "jetson-orin-nano-8gb", "jetson-orin-nx-8gb", "jetson-orin-nx-16gb",
    "jetson-agx-orin-32gb", "jetson-agx-orin-64gb", "jetson-agx-thor",
    "rtx-4060", "rtx-4090", "rtx-a6000", "l4", "h200-sxm", "l40s",
}


def _cc(spec: DeviceSpec) -> float:
    assert spec.compute_capability, f"{spec.name}: compute_capability missing"
    return float(spec.compute_capability)


def test_required_profiles_are_shipped() -> None:
    assert set(NAMES) >= REQUIRED, f"missing: {sorted(REQUIRED - set(NAMES))}"


@pytest.mark.parametrize("name", NAMES)
def test_profile_loads_and_names_itself(name: str) -> None:
    data = yaml.safe_load((profiles_dir() / f"{name}.yaml").read_text())
    assert data["kind"] == "profile" and data["schema_version"] == 1
    spec = load_device_spec(name)
    assert spec.name == name
    assert spec.label == "spec"
    assert spec.kind in ("jetson", "gpu")


@pytest.mark.parametrize("name", NAMES)
def test_every_figure_has_a_source(name: str) -> None:
    spec = load_device_spec(name)
    src = spec.sources
    for key in ("memory_bytes", "memory_bandwidth_gbs", "compute_capability", "tdp_w"):
        assert src.get(key, "").strip(), f"{name}: no source for {key}"
    for dtype in spec.peak_tflops:
        assert (src.get(f"peak_tflops.{dtype}") or src.get("peak_tflops", "")).strip(), (
            f"{name}: no source for peak_tflops.{dtype}"
        )
    if spec.power_modes:
        for mode in spec.power_modes:
            assert mode.source or src.get("power_modes", "").strip(), (
                f"{name}: no source for power mode {mode.name}"
            )


@pytest.mark.parametrize("name", NAMES)
def test_compute_sanity(name: str) -> None:
    spec = load_device_spec(name)
    peaks = spec.peak_tflops
    assert {"fp32", "fp16", "int8"} <= set(peaks), f"{name}: needs fp32, fp16, int8 peaks"
    assert all(v > 0 for v in peaks.values())
    assert peaks["fp16"] >= peaks["fp32"], f"{name}: fp16 < fp32"
    assert peaks.get("bf16", peaks["fp16"]) == pytest.approx(peaks["fp16"], rel=0.01)
    if _cc(spec) >= 7.0:  # tensor cores
        assert peaks["int8"] >= peaks["fp16"], f"{name}: int8 < fp16 on a tensor-core part"
    has_fp8 = _cc(spec) >= 8.9
    assert ("fp8" in peaks) == has_fp8, f"{name}: fp8 peak iff compute capability >= 8.9"
    assert ("fp8" in spec.native_quants) == has_fp8, f"{name}: native fp8 iff CC >= 8.9"
    if has_fp8:
        assert peaks["fp8"] >= peaks["fp16"]


@pytest.mark.parametrize("name", NAMES)
def test_memory_and_quants(name: str) -> None:
    spec = load_device_spec(name)
    assert spec.memory_bytes >= 2**32
    assert 20 < spec.memory_bandwidth_gbs < 10000  # the B200's HBM3e: 7.7 TB/s
    assert set(spec.native_quants) <= set(QUANT_FORMATS), f"{name}: unknown native quant"
    assert {"fp32", "fp16"} <= set(spec.native_quants)


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("jetson-")])
def test_jetson_power_modes(name: str) -> None:
    spec = load_device_spec(name)
    assert spec.kind == "jetson"
    assert spec.power_modes, f"{name}: a Jetson profile needs power modes"
    assert spec.default_power_mode and spec.power_mode(spec.default_power_mode) is not None
    names = [m.name.lower() for m in spec.power_modes]
    assert len(names) == len(set(names)), f"{name}: duplicate mode names"
    top = spec.power_mode(spec.default_power_mode)
    assert top is not None and top.gpu_tflops_scale == 1.0
    for mode in spec.power_modes:
        assert mode.id is not None and mode.id >= 0
        if mode.gpu_tflops_scale is not None:
            assert 0 < mode.gpu_tflops_scale <= 1.0
        if mode.memory_bandwidth_gbs is not None:
            assert mode.memory_bandwidth_gbs <= spec.memory_bandwidth_gbs
        if mode.emc_max_freq_mhz and mode.emc_max_freq_mhz < 3000:
            assert mode.memory_bandwidth_gbs is not None, f"{name} {mode.name}: EMC capped"
        if mode.power_cap_w is not None and spec.tdp_w is not None:
            assert mode.power_cap_w <= spec.tdp_w


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("jetson-")])
def test_tflops_scale_matches_clock_and_tpcs(name: str) -> None:
    """gpu_tflops_scale = (enabled TPCs / top TPCs) x (GPU clock / top clock) where both known."""
    spec = load_device_spec(name)
    top = spec.power_mode(spec.default_power_mode)
    assert top is not None
    top_tpcs = getattr(top, "gpu_tpcs", None)
    for mode in spec.power_modes:
        if mode.gpu_tflops_scale is None or mode.gpu_max_freq_mhz is None:
            continue
        assert top.gpu_max_freq_mhz
        tpcs = getattr(mode, "gpu_tpcs", None)
        tpc_ratio = tpcs / top_tpcs if tpcs and top_tpcs else 1.0
        expected = tpc_ratio * mode.gpu_max_freq_mhz / top.gpu_max_freq_mhz
        assert mode.gpu_tflops_scale == pytest.approx(expected, abs=2e-3), (name, mode.name)


def test_desktop_profiles_have_no_power_modes() -> None:
    for name in NAMES:
        spec = load_device_spec(name)
        if spec.kind == "gpu":
            assert not spec.power_modes and spec.default_power_mode is None


def test_super_modes_need_jetpack_62() -> None:
    for name in ("jetson-orin-nano-8gb", "jetson-orin-nano-4gb", "jetson-orin-nx-8gb",
                 "jetson-orin-nx-16gb"):
        mode = load_device_spec(name).power_mode("MAXN_SUPER")
        assert mode is not None and getattr(mode, "jetpack", None) == ">=6.2"
    nano = load_device_spec("jetson-orin-nano-8gb")
    assert nano.peak_tflops["int8"] * 2 == pytest.approx(67, abs=0.5)  # NVIDIA: 67 sparse TOPS


def test_thor_is_blackwell_with_fp8_and_fp4() -> None:
    thor = load_device_spec("jetson-agx-thor")
    assert thor.memory_bytes == 128 * 2**30 and thor.memory_bandwidth_gbs == 273
    assert "fp8" in thor.native_quants and thor.peak_tflops["fp4"] > thor.peak_tflops["fp8"]


def test_orin_family_carries_transferred_calibration_with_spec_interval() -> None:
    """Nano/NX/AGX-32GB use the AGX Orin 64GB efficiencies but keep the wide spec interval."""
    from edgeprof.fit import Profile
    from edgeprof.fit._roofline import SPEC_INTERVAL

    nano = Profile.load("jetson-orin-nano-8gb")
    assert nano.calibration["transferred_from"] == "jetson-agx-orin-64gb"
    e2e = nano.predict("qwen2.5-1.5b", "int8", 512, 256).e2e_s
    assert "calibrated on jetson-agx-orin-64gb" in e2e.note
    assert e2e.hi / e2e.value >= SPEC_INTERVAL[1] - 1e-6
    raw = Profile(nano.device, [], None)
    slower = raw.predict("qwen2.5-1.5b", "int8", 512, 256).e2e_s.value
    assert slower > e2e.value  # default efficiencies are lower than the calibrated ones


def test_h200_is_an_h100_with_more_memory_and_bandwidth() -> None:
    """Same GH100 compute, 141 GB HBM3e at 4.8 TB/s; spec decode follows the bandwidth."""
    from edgeprof.fit import Profile

    h100, h200 = load_device_spec("h100-sxm"), load_device_spec("h200-sxm")
    assert h200.peak_tflops == h100.peak_tflops
    assert h200.memory_bandwidth_gbs / h100.memory_bandwidth_gbs == pytest.approx(4.8 / 3.35)
    assert h200.memory_bytes > h100.memory_bytes
    dec = {n: Profile.load(n).predict("llama-3.1-8b", "bf16", 512, 256).decode_s.value
           for n in ("h100-sxm", "h200-sxm")}
    assert dec["h200-sxm"] < dec["h100-sxm"]


def test_l40s_dense_figures_are_half_the_sparse_data_sheet() -> None:
    spec = load_device_spec("l40s")
    sparse = {"fp16": 733, "bf16": 733, "fp8": 1466}  # NVIDIA L40S data sheet, with sparsity
    for dtype, value in sparse.items():
        assert spec.peak_tflops[dtype] == pytest.approx(value / 2, rel=0.015)  # 362.05 vs 366.5
    assert spec.memory_bandwidth_gbs == 864 and spec.tdp_w == 350
    assert spec.memory_bandwidth_gbs / load_device_spec("l4").memory_bandwidth_gbs > 2.8


def test_cuda_names_map_to_the_new_profiles() -> None:
    from edgeprof.device.nvidia._gpus import gpu_profile

    assert gpu_profile("NVIDIA H200") == "h200-sxm"
    assert gpu_profile("NVIDIA H200 NVL") is None  # PCIe card, other clocks and TDP
    assert gpu_profile("NVIDIA L40S") == "l40s"
    assert gpu_profile("NVIDIA L40") == "l40" and gpu_profile("NVIDIA L4") == "l4"
    assert gpu_profile("NVIDIA H100 NVL") == "h100-nvl"
    assert gpu_profile("NVIDIA H100 80GB HBM3") == "h100-sxm"
    assert gpu_profile("NVIDIA GH200 480GB") is None  # not an H200: no GH200 profile
    assert gpu_profile("NVIDIA B200") == "b200-sxm" and gpu_profile("NVIDIA GB200") is None


def test_b200_spec_is_aiconfigurators_system_file() -> None:
    """AIConfigurator's systems/b200_sxm.yaml: 7.7 TB/s, 180 GiB, dense BF16 2250, FP8 and
    INT8 4500, FP4 9000 TFLOPS, 1000 W, sm_100; FP32 80 (ml-engineering's dense table)."""
    b = load_device_spec("b200-sxm")
    assert b.memory_bandwidth_gbs == 7700 and b.memory_bytes == 180 * 2**30
    assert (b.peak_tflops["bf16"], b.peak_tflops["fp8"], b.peak_tflops["fp4"]) == \
        (2250, 4500, 9000)
    assert b.compute_capability == "10.0" and b.tdp_w == 1000
    assert b.peak_tflops["fp32"] == 80 and "nvfp4" in b.native_quants


def test_l40_and_h100_nvl_specs_are_their_data_sheets_dense_figures() -> None:
    """L40: the L40S's memory at half its tensor rate; H100 NVL: more bandwidth than the
    SXM, less compute (dense = half of NVIDIA's with-sparsity figures)."""
    l40, l40s = load_device_spec("l40"), load_device_spec("l40s")
    assert l40.memory_bandwidth_gbs == l40s.memory_bandwidth_gbs == 864
    assert l40.peak_tflops["fp8"] == pytest.approx(l40s.peak_tflops["fp8"] / 2, rel=0.02)
    nvl, sxm = load_device_spec("h100-nvl"), load_device_spec("h100-sxm")
    assert nvl.peak_tflops["fp8"] == pytest.approx(3341 / 2)  # 3,341 with sparsity
    assert nvl.memory_bandwidth_gbs == 3900 > sxm.memory_bandwidth_gbs
    assert nvl.peak_tflops["fp16"] < sxm.peak_tflops["fp16"]


def test_a_fit_of_a_format_without_native_kernels_is_labeled_emulated():
    """CONTRACTS: a non-native format is predicted only from its own measurements, as
    ``emulated`` (the AGX Orin's Ampere GPU has no FP8 kernels)."""
    import copy

    from edgeprof.fit._profile import Profile

    shipped = Profile.load("jetson-agx-orin-64gb")
    assert "fp8" not in shipped.device.native_quants
    entry = copy.deepcopy(next(f for f in shipped.fits if f.get("prefill") and f.get("decode")))
    native = shipped.predict(entry["model"], entry["quant"], 256, 128)
    entry["quant"] = "fp8"
    profile = Profile(shipped.device, [*shipped.fits, entry], shipped.calibration,
                      shipped.provenance)
    emulated = profile.predict(entry["model"], "fp8", 256, 128)
    assert native.e2e_s.provenance == "predicted:measured-fit"
    assert emulated.e2e_s.provenance == "emulated"
    assert "no native kernels" in (emulated.e2e_s.note or "")
