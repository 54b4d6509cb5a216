"""Deployment manifests: the recommended configuration as engine launch settings."""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports
from edgeprof.manifest._build import build_manifest, write_manifest
from edgeprof.manifest._schema import MANIFEST_SCHEMA_VERSION, Manifest
from edgeprof.manifest._validate import problems

if TYPE_CHECKING:
    from edgeprof.manifest._shell import join, roundtrip_problem

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "join": "edgeprof.manifest._shell",
    "roundtrip_problem": "edgeprof.manifest._shell",
}

__all__ = [
    "MANIFEST_SCHEMA_VERSION", "Manifest", "build_manifest", "join", "problems",
    "roundtrip_problem", "write_manifest",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
