"""Deployment manifests: the recommended configuration as engine launch settings."""

from edgeprof.manifest.build import build_manifest, write_manifest
from edgeprof.manifest.schema import MANIFEST_SCHEMA_VERSION, Manifest
from edgeprof.manifest.validate import problems

__all__ = ["MANIFEST_SCHEMA_VERSION", "Manifest", "build_manifest",
           "problems", "write_manifest"]
