"""Refit the shipped AGX Orin 64GB profile's `fits:` and efficiency factors from the
published EdgeReasoning data, the way its provenance says it was made
(`edgeprof import edgereasoning <reference> --out er && edgeprof fit er`).

    python scripts/orin_profile.py [--reference DIR]          # print what would change
    python scripts/orin_profile.py --write                    # rewrite the profiles

Rewrites, in place and keeping every comment and the device section: the `fits:` list of
profiles/jetson-agx-orin-64gb.yaml, its `calibration:` efficiency factors (the keys after
the engines block, which benchmarks/calibration.py --write owns), and the same factors in
every profile whose calibration says `transferred_from: jetson-agx-orin-64gb`.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from edgeprof.device import load_device_spec
from edgeprof.fit import Profile, fit_rows
from edgeprof.fit._profile import _plain
from edgeprof.importers import import_edgereasoning
from edgeprof.table import read_measurements

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT.parent / "shared/reference/edgereasoning-jetson-agx-orin"
DEVICE = "jetson-agx-orin-64gb"
FACTORS = ("compute_eff", "bandwidth_eff", "kv_bandwidth_eff", "decode_overhead_s",
           "prefill_overhead_s")


def refit(reference: Path) -> Profile:
    with tempfile.TemporaryDirectory() as tmp:
        import_edgereasoning(reference, tmp)
        rows = read_measurements(Path(tmp))
    spec = load_device_spec(DEVICE)
    return Profile.from_fits(spec, fit_rows(rows, spec))


def _dump(obj: Any) -> str:
    return yaml.safe_dump(_plain(obj), sort_keys=False, width=100)


def splice_fits(text: str, fits: list[dict[str, Any]]) -> str:
    head, rest = text.split("\nfits:\n", 1)
    tail = rest[rest.index("\ncalibration:\n"):]
    return head + "\n" + _dump({"fits": fits}).rstrip("\n") + tail


def splice_factors(text: str, cal: dict[str, Any], with_fitted_on: bool) -> str:
    for key in FACTORS:
        text, n = re.subn(rf"(?m)^  {key}: .*$", f"  {key}: {_plain(cal[key])!r}", text)
        if n != 1:
            raise SystemExit(f"expected one top-level calibration `{key}:` line, found {n}")
    if with_fitted_on:
        block = _dump({"fitted_on": cal["fitted_on"]})
        text = re.sub(r"(?m)^  fitted_on:\n(?:  - .*\n)+",
                      "".join(f"  {line}\n" for line in block.splitlines()), text)
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=REF)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    prof = refit(args.reference)
    cal = prof.calibration or {}
    targets = {ROOT / "profiles" / f"{DEVICE}.yaml": True}
    for path in sorted((ROOT / "profiles").glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        if (data.get("calibration") or {}).get("transferred_from") == DEVICE:
            targets[path] = False
    for path, own in targets.items():
        old = path.read_text()
        new = splice_factors(splice_fits(old, prof.fits) if own else old, cal, own)
        print(f"{path.relative_to(ROOT)}: {'changed' if new != old else 'unchanged'}")
        if args.write and new != old:
            path.write_text(new)
    print({k: cal.get(k) for k in FACTORS})


if __name__ == "__main__":
    main()
