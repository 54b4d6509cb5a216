"""Device spec files (``profiles/<name>.yaml``, or your own ``--device my-device.yaml``):
a typed, versioned loader.

A file is a profile (``schema_version``, ``kind: profile``, ``device:`` holding the spec and
maybe ``fits:``) or a bare spec mapping. ``schema_version`` picks the model
(:data:`DEVICE_FILE_VERSIONS`; absent means 1, as files written before the field existed);
a missing field, a wrong type or a non-finite figure is one error naming the file and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from edgeprof.device._spec import DeviceSpec
from edgeprof.errors import DataFormatError
from edgeprof.files import check_finite_tree, load_mapping
from edgeprof.loaders import load_versioned, schema_version, validate

WHAT = "device spec file"
HINT = "fix the file (fields: DeviceSpec in edgeprof/device/_spec.py, examples in profiles/)"


class DeviceSpecFileV1(BaseModel):
    """Version 1: the spec under ``device:``; a profile's other sections pass through."""

    model_config = ConfigDict(extra="allow")

    schema_version: Literal[1] = 1
    device: DeviceSpec


DEVICE_FILE_VERSIONS: dict[int, type[DeviceSpecFileV1]] = {1: DeviceSpecFileV1}


def read_device_spec_file(path: Path) -> DeviceSpec:
    """The :class:`DeviceSpec` in ``path``; one-line errors naming the file and the field."""
    data = load_mapping(path, WHAT, HINT)
    if "device" not in data:  # a bare spec: its own `kind:` is the device kind (jetson, gpu…)
        schema_version(data, path, WHAT, DEVICE_FILE_VERSIONS, HINT)
        bare = {k: v for k, v in data.items() if k != "schema_version"}
        check_finite_tree(bare, path, WHAT)
        return validate(DeviceSpec, bare, path, WHAT, HINT)
    if not isinstance(data["device"], dict):
        raise DataFormatError(f"The {WHAT} {path}: field 'device' must be a mapping of the "
                              f"device's figures; {HINT}.")
    check_finite_tree(data["device"], path, WHAT, "device")
    return load_versioned(data, path, WHAT, DEVICE_FILE_VERSIONS, HINT).device
