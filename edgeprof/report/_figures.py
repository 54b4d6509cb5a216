"""Matplotlib (Agg) figures turned into ``data:`` URIs, so the report embeds them."""

from __future__ import annotations

import base64
import io
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100
STATUS_COLORS = {"ok": "#4c9a5f", "error": "#c8553d", "oom": "#8e44ad", "killed": "#5b2c6f",
                 "unsupported": "#9aa3ad", "mixed": "#e0a526", "missing": "#b9c9dc"}
PHASE_COLORS = {"idle": "#9aa3ad", "prefill": "#e07b39", "decode": "#2f6db5",
                "between": "#c9ced4"}


RC = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 10,
      "xtick.labelsize": 10, "ytick.labelsize": 10}


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def style() -> AbstractContextManager[Any]:
    """Fonts sized for a report page, for figures made inside the ``with`` block."""
    return pyplot().rc_context(RC)


def to_data_uri(fig: Figure, dpi: int = DPI) -> str:
    """Render ``fig`` as PNG into a base64 ``data:`` URI and close it."""
    plt = pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
