"""Typed, versioned loaders (edgeprof.loaders): sweep spec files and device spec files.

No ``schema_version`` reads as version 1 (files from before the field); a newer one is
refused saying to upgrade edgeprof; every decode, parse, missing-field or type problem is one
``Error:`` line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeprof.device import load_device_spec
from edgeprof.device._spec import profiles_dir
from edgeprof.errors import DataFormatError
from edgeprof.fit._profile import Profile
from edgeprof.sweep import build_spec, read_spec_file

MODEL = "qwen2.5-0.5b-scaled-1L"
BARE = ("name: my-board\ndisplay_name: My board\nkind: gpu\nmemory_bytes: 8000000000\n"
        "memory_bandwidth_gbs: 100\npeak_tflops: {fp16: 10}\nnative_quants: [fp16]\n")


def one_error(code: int, err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("Error: "), err
    assert "Traceback" not in err
    return lines[0]


# ----------------------------------------------------------------------- sweep spec files
@pytest.mark.parametrize("text", [
    f"models: [{MODEL}]\ninputs: 16,32\n",                                 # no version: 1
    f"schema_version: 1\nkind: sweep\nmodels: [{MODEL}]\ninputs: [16, 32]\n",
    f"sweep:\n  models: {MODEL}\n  input_tokens: 16..32\n",               # nested, aliases
])
def test_sweep_spec_file_versions_that_load(tmp_path: Path, text: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    keys = read_spec_file(f)
    assert "schema_version" not in keys and "kind" not in keys
    spec = build_spec(keys)
    assert spec.models == [MODEL] and spec.inputs == [16, 32]


def test_the_documented_spec_file_still_loads(tmp_path: Path) -> None:
    """docs/sweep.md's example, written before schema_version existed, reads as version 1."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "sweep.md").read_text()
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    f = tmp_path / "sweep.yaml"
    f.write_text(block)
    keys = read_spec_file(f)
    assert keys["models"] == ["qwen2.5-0.5b-scaled-4L", "llama-3.2-1b-scaled-2L"]
    spec = build_spec(keys)
    assert spec.inputs == [128, 256, 384, 512] and spec.timeout_per_point_s == 600.0


@pytest.mark.parametrize(("text", "needle"), [
    (f"schema_version: 2\nmodels: [{MODEL}]\n",
     "has schema_version 2, newer than this edgeprof"),
    (f"schema_version: one\nmodels: [{MODEL}]\n",
     "field 'schema_version' must be an integer like 1; got 'one'"),
    (f"models: [{MODEL}]\nrepeats: many\n", "field 'repeats': Input should be a valid integer"),
    (f"models: [{MODEL}]\nwarmup: [1]\n", "field 'warmup'"),
    (f"models: [{MODEL}]\nqaunts: [fp32]\n", "has an unknown field 'qaunts' (known: engine"),
    ("models: [gpt-17]\n", "field 'models': Unknown model 'gpt-17'"),
    (f"models: [{MODEL}]\ninputs: [16, many]\n", "field 'inputs': --inputs must be a list"),
    (f"models: [{MODEL}]\nengine_options: [1]\n", "field 'engine_options'"),
    (f"models: [{MODEL}]\nkind: profile\n", "field 'kind'"),
    ("sweep: 5\n", "field 'sweep' must be a mapping"),
    ("- a\n- b\n", "holds a list, not a mapping of sweep keys"),
    (f"models: [{MODEL}\n", "is not valid YAML/JSON"),
])
def test_bad_sweep_spec_files(run_cli, tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    code, _, err = run_cli("sweep", "--spec", str(f), "--dry-run")
    line = one_error(code, err)
    assert needle in line and str(f) in line, line
    with pytest.raises(DataFormatError):
        read_spec_file(f)


def test_newer_sweep_spec_says_to_upgrade(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(f"schema_version: 7\nmodels: [{MODEL}]\n")
    code, _, err = run_cli("sweep", "--spec", str(f), "--dry-run")
    assert "upgrade edgeprof (pip install -U edgeprof)" in one_error(code, err)


def test_binary_sweep_spec(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_bytes(b"\xff\xfe\x00models")
    code, _, err = run_cli("sweep", "--spec", str(f), "--dry-run")
    assert "is not UTF-8 text" in one_error(code, err)


# ---------------------------------------------------------------------- device spec files
def test_shipped_profiles_and_unversioned_copies_load(tmp_path: Path) -> None:
    for shipped in sorted(profiles_dir().glob("*.yaml")):
        spec = load_device_spec(shipped.stem)
        assert spec.name == shipped.stem
        old = tmp_path / shipped.name  # as written before schema_version existed
        old.write_text("".join(line for line in shipped.read_text().splitlines(True)
                               if not line.startswith("schema_version")))
        assert load_device_spec(old) == spec


def test_bare_device_spec_file(tmp_path: Path) -> None:
    f = tmp_path / "my.yaml"
    f.write_text(BARE)
    spec = load_device_spec(f)
    assert spec.name == "my-board" and spec.kind == "gpu"
    f.write_text("schema_version: 1\n" + BARE)
    assert load_device_spec(f) == spec  # schema_version is not a figure of the device


def test_a_rewritten_spec_file_is_read_again_and_copies_are_independent(
        tmp_path: Path) -> None:
    """Specs are parsed once per file content: a rewrite of the same size (as fast as the
    file system's clock can go) is still seen, and changing a returned spec changes no
    later load."""
    f = tmp_path / "my.yaml"
    f.write_text(BARE)
    first = load_device_spec(f)
    f.write_text(BARE.replace("memory_bandwidth_gbs: 100", "memory_bandwidth_gbs: 200"))
    assert load_device_spec(f).memory_bandwidth_gbs == 200
    first.memory_bandwidth_gbs = 1.0
    f.write_text(BARE)
    assert load_device_spec(f).memory_bandwidth_gbs == 100


def test_every_shipped_yaml_reads_the_same_with_the_c_parser() -> None:
    """``edgeprof.files.load_yaml`` (libyaml's parser where PyYAML has it) gives exactly
    what the pure-Python safe loader gives on every YAML file edgeprof ships."""
    import yaml

    from edgeprof.files import load_yaml

    root = Path(__file__).resolve().parents[1]
    files = sorted([*root.glob("profiles/*.yaml"), *root.glob("edgeprof/**/*.yaml")])
    assert len(files) > 10
    for f in files:
        text = f.read_text()
        assert load_yaml(text) == yaml.safe_load(text), f.name


@pytest.mark.parametrize(("text", "needle"), [
    ("schema_version: 2\n" + BARE, "has schema_version 2, newer than this edgeprof"),
    ("schema_version: true\n" + BARE, "field 'schema_version' must be an integer"),
    (BARE.replace("memory_bytes: 8000000000", "memory_bytes: lots"),
     "field 'memory_bytes': Input should be a valid integer"),
    (BARE.replace("memory_bytes: 8000000000\n", ""), "lacks the field 'memory_bytes'"),
    (BARE.replace("{fp16: 10}", "{fp16: .inf}"), "non-finite number (inf) at peak_tflops.fp16"),
    (BARE.replace("{fp16: 10}", "{fp16: fast}"), "field 'peak_tflops.fp16'"),
    (BARE + "power_modes: [{id: 1}]\n", "lacks the field 'power_modes[0].name'"),
    ("schema_version: 1\nkind: profile\ndevice: 5\n", "field 'device' must be a mapping"),
    ("schema_version: 1\nkind: profile\ndevice:\n  name: x\n", "lacks the field "
     "'device.display_name'"),
    ("- 1\n", "not a mapping"),
    ("device: {name: [\n", "is not valid YAML/JSON"),
])
def test_bad_device_spec_files(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "my.yaml"
    f.write_text(text)
    with pytest.raises(DataFormatError) as exc:
        load_device_spec(f)
    assert needle in str(exc.value) and str(f) in str(exc.value), str(exc.value)
    assert "\n" not in str(exc.value)


def test_bad_device_file_through_the_cli(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "my.yaml"
    f.write_text("schema_version: 1\nkind: profile\ndevice:\n" + "".join(
        f"  {line}\n" for line in BARE.replace("memory_bandwidth_gbs: 100",
                                               "memory_bandwidth_gbs: -1").splitlines()))
    code, _, err = run_cli("predict", "--profile", str(f), "--model", "qwen2.5-0.5b", "--quant",
                           "fp16", "--input-tokens", "64", "--output-tokens", "16")
    line = one_error(code, err)
    assert "field 'device.memory_bandwidth_gbs': Input should be greater than 0" in line


def test_profile_newer_version_says_to_upgrade(tmp_path: Path) -> None:
    shipped = profiles_dir() / "jetson-orin-nano-8gb.yaml"
    f = tmp_path / "p.yaml"
    f.write_text(shipped.read_text().replace("schema_version: 1", "schema_version: 9"))
    with pytest.raises(DataFormatError, match="upgrade edgeprof"):
        Profile.load(f)
