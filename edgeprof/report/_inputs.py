"""Find and load what a report is drawn from: a sweep folder, a profile, a recommendation.

``DIR`` is the demo layout (``DIR/sweep/``, ``DIR/profile.yaml``, ``DIR/rec.json``) or a sweep
folder itself; explicit paths win. A missing or unreadable input becomes a note for its
sections, never an error; only when nothing usable is found does :func:`gather` raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeprof.errors import DataFormatError, EdgeprofError, UserInputError
from edgeprof.table import MEASUREMENTS_FILE, Measurement, read_measurements, read_run_json
from edgeprof.telemetry._trace import TraceLine, read_power_trace

PROFILE_NAMES = ("profile.yaml", "profile.yml", "profile.json")
REC_NAMES = ("rec.json", "recommendation.json")


@dataclass
class ReportInputs:
    """Everything the sections need; ``missing`` says, per input, why it is absent."""

    root: Path | None = None
    sweep_path: Path | None = None
    rows: list[Measurement] = field(default_factory=list)
    run: dict[str, Any] | None = None
    trace: list[TraceLine] = field(default_factory=list)
    profile_path: Path | None = None
    profile: Any = None  # edgeprof.fit._profile.Profile
    rec_path: Path | None = None
    rec: Any = None  # edgeprof.search._result.Recommendation
    missing: dict[str, str] = field(default_factory=dict)  # "sweep"|"profile"|"rec" -> note

    @property
    def anything(self) -> bool:
        return bool(self.rows) or self.profile is not None or self.rec is not None


def _first(folder: Path | None, names: tuple[str, ...]) -> Path | None:
    if folder is None:
        return None
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _explicit(path: Path | None, what: str) -> Path | None:
    if path is not None and not Path(path).exists():
        raise UserInputError(f"{what} {path} does not exist; check the path.")
    return Path(path) if path is not None else None


def gather(root: Path | None = None, *, sweep: Path | None = None, profile: Path | None = None,
           recommendation: Path | None = None) -> ReportInputs:
    """Locate and load the inputs; raises :class:`UserInputError` when none is usable."""
    if root is not None and not Path(root).is_dir():
        raise UserInputError(f"{root} is not a folder; pass the folder holding sweep/, "
                             "profile.yaml and rec.json (or a sweep folder).")
    root = Path(root) if root is not None else None
    inp = ReportInputs(root=root)
    sweep = _explicit(sweep, "--sweep")
    if sweep is None and root is not None:
        sweep = root if (root / MEASUREMENTS_FILE).exists() else (
            root / "sweep" if (root / "sweep" / MEASUREMENTS_FILE).exists() else None)
    inp.profile_path = _explicit(profile, "--profile") or _first(root, PROFILE_NAMES)
    inp.rec_path = _explicit(recommendation, "--recommendation") or _first(root, REC_NAMES)
    where = str(root) if root is not None else "DIR"
    _load_sweep(inp, sweep, where)
    _load_profile(inp, where)
    _load_rec(inp, where)
    if not inp.anything:
        raise UserInputError(f"Nothing to report in {where}: no sweep folder "
                             "(measurements.jsonl), profile.yaml or rec.json; run `edgeprof "
                             "sweep --out DIR/sweep` first, or pass --sweep/--profile/"
                             "--recommendation.")
    return inp


def _load_sweep(inp: ReportInputs, sweep: Path | None, where: str) -> None:
    if sweep is None:
        inp.missing["sweep"] = (f"no sweep found: run edgeprof sweep ... --out {where}/sweep "
                                "(or pass --sweep PATH)")
        return
    inp.sweep_path = sweep
    try:
        inp.rows = read_measurements(sweep)
    except EdgeprofError:  # a damaged input is refused, not reported around
        raise
    folder = sweep if sweep.is_dir() else sweep.parent
    try:
        inp.run = read_run_json(folder)
    except DataFormatError as exc:
        inp.missing["run"] = f"{exc} Run conditions not shown."
    inp.trace = read_power_trace(folder)
    if not inp.rows:
        inp.missing["sweep"] = f"the sweep {sweep} holds no rows yet"


def _load_profile(inp: ReportInputs, where: str) -> None:
    if inp.profile_path is None:
        swept = inp.sweep_path or f"{where}/sweep"
        inp.missing["profile"] = (f"no profile found: run edgeprof fit {swept} --out "
                                  f"{where}/profile.yaml")
        return
    from edgeprof.fit._profile import Profile

    try:
        inp.profile = Profile.load(inp.profile_path)
    except EdgeprofError:  # a damaged profile is refused (one line), no page written
        raise


def _load_rec(inp: ReportInputs, where: str) -> None:
    if inp.rec_path is None:
        inp.missing["rec"] = (f"no recommendation found: run edgeprof recommend --profile "
                              f"{where}/profile.yaml --accuracy ... --budget ... --out "
                              f"{where}/rec.json")
        return
    from edgeprof.search._result import load_recommendation

    try:
        inp.rec = load_recommendation(inp.rec_path)
    except EdgeprofError:  # a damaged recommendation is refused, no page written
        raise
