"""Device names: the shipped profile a user's spelling means, or a one-line error."""

from __future__ import annotations

import pytest

from edgeprof.device._spec import list_device_names, load_device_spec, resolve_device_name
from edgeprof.errors import UserInputError
from edgeprof.fit import Profile


@pytest.mark.parametrize(("given", "shipped"), [
    ("h100-sxm", "h100-sxm"), ("h100", "h100-sxm"), ("H100 SXM", "h100-sxm"),
    ("NVIDIA H200", "h200-sxm"), ("a100", "a100-sxm4-80gb"), ("agx-thor", "jetson-agx-thor"),
    ("NVIDIA Jetson AGX Thor", "jetson-agx-thor"), ("orin-nx-16gb", "jetson-orin-nx-16gb"),
    ("Jetson_Orin_Nano_8GB", "jetson-orin-nano-8gb"), ("L40S", "l40s"), ("l4", "l4"),
    ("H100 NVL", "h100-nvl"), ("NVIDIA H100", "h100-sxm"), ("L40", "l40"),
])
def test_a_spelling_with_one_meaning_resolves(given: str, shipped: str) -> None:
    assert resolve_device_name(given) == shipped
    assert load_device_spec(given).name == shipped
    assert Profile.load(given).device.name == shipped


@pytest.mark.parametrize(("given", "choices"), [
    ("jetson-agx-orin", {"jetson-agx-orin-32gb", "jetson-agx-orin-64gb"}),
    ("orin-nx", {"jetson-orin-nx-8gb", "jetson-orin-nx-16gb"}),
    ("rtx", {"rtx-3090", "rtx-4060", "rtx-4090", "rtx-a6000"}),
])
def test_an_ambiguous_name_lists_its_choices(given: str, choices: set[str]) -> None:
    with pytest.raises(UserInputError, match="fits several profiles") as err:
        resolve_device_name(given)
    named = set(str(err.value).split(": ", 1)[1].split("; ")[0].split(", "))
    assert named == choices


def test_an_exact_name_wins_over_longer_ones_that_start_with_it() -> None:
    # "l4" is a profile and a prefix of "l40s"; the exact name is meant
    assert {"l4", "l40s"} <= set(list_device_names())
    assert resolve_device_name("L4") == "l4"


def test_an_unknown_name_says_what_is_shipped() -> None:
    with pytest.raises(UserInputError, match="Unknown device 'tpu-v5'; known: a100-sxm4-80gb"):
        resolve_device_name("tpu-v5")
