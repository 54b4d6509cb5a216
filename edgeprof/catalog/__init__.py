"""Known model architectures and quant formats."""

from edgeprof.catalog._architectures import CATALOG, ArchSpec, canonical_name, resolve_model
from edgeprof.catalog._context import check_context, context_length, fits_context
from edgeprof.catalog._quant import NVFP4_MIN_CC, QUANT_FORMATS, QuantFormat, get_quant

__all__ = ["CATALOG", "NVFP4_MIN_CC", "QUANT_FORMATS", "ArchSpec", "QuantFormat", "canonical_name",
           "check_context", "context_length", "fits_context", "get_quant", "resolve_model"]
