"""The measurements table (data contract 1): schema and file formats."""

from edgeprof.table._io import (
    MEASUREMENTS_FILE,
    RUN_FILE,
    append_row,
    read_measurements,
    read_run_conditions,
    read_run_json,
    write_measurements,
    write_run_conditions,
)
from edgeprof.table._schema import (
    CONTRACT_COLUMNS,
    SCHEMA_VERSION,
    Measurement,
    QuantImpl,
    RunConditions,
    Status,
    point_key,
)

__all__ = [
    "CONTRACT_COLUMNS", "MEASUREMENTS_FILE", "RUN_FILE", "SCHEMA_VERSION", "Measurement",
    "QuantImpl", "RunConditions", "Status", "append_row", "point_key", "read_measurements",
    "read_run_conditions", "read_run_json", "write_measurements", "write_run_conditions",
]
