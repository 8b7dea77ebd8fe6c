"""The options of the course analyses as one value, read from a pipeline's
``[analysis.course.NAME]`` sections.

Each course analysis takes an options dataclass of its own (:class:`CkCourseOptions`,
:class:`StrengthOptions`, :class:`ResponseOptions`, :class:`TreatmentOptions`,
:class:`RelapseDefinition`, :class:`TitreOptions`). :class:`CourseOptions` holds one of
each (the toolkit's defaults unless a pipeline sets them) and :func:`course_options` reads
them from a pipeline's sections, strictly: an unknown section or key, a value of the wrong
type or out of range is a :class:`~imnm_cohort.errors.ConfigError` naming the key.

The run's minimum count of patients (``[disclosure] min_cell_count``) and the confidence
level are not options of a section: the first is the run's disclosure setting, the second
is 95% throughout the report.

Example::

    [analysis.course.response]
    change = "baseline"          # percent change relative to baseline for every measure
    baseline_window_days = [-60, 30]
    partial = true               # a missing measure scores 0: a documented lower bound

    [analysis.course.relapse]
    k = 3                        # a CK above 3 x ULN after a normal CK
    mcf_months = [12, 24, 36]
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from imnm_cohort.analysis.ck_course import CkCourseOptions
from imnm_cohort.analysis.course import STATISTICS
from imnm_cohort.analysis.relapse import RelapseDefinition
from imnm_cohort.analysis.response_course import ResponseOptions
from imnm_cohort.analysis.strength import StrengthOptions
from imnm_cohort.analysis.titres import TitreOptions
from imnm_cohort.analysis.treatments import TreatmentOptions
from imnm_cohort.errors import ConfigError

#: The relapse MCF's months when a pipeline names none (as :func:`relapse` has them).
MCF_MONTHS: tuple[float, ...] = (6.0, 12.0, 24.0, 36.0, 48.0, 60.0)
#: Fields of the options that are the run's, not a section's.
_RUN_FIELDS = ("min_count", "alpha")
#: The largest number a month, a day or a multiple may be (a century; 1000 x ULN).
_MAX = {"months": 1200.0, "days": 36_525.0, "percent": 100.0, "k": 1000.0}
#: ``horizon_months = "all"``: every visit enters the growth model.
ALL = "all"


@dataclass(frozen=True)
class CourseOptions:
    """The options of every course analysis (the toolkit's defaults unless set).

    Attributes
    ----------
    ck_course, strength, response, treatments, relapse, titres
        Each analysis's options; ``min_count`` is replaced by the run's at run time.
    mcf_months : tuple of float
        The months at which the relapses' mean cumulative function is given.
    given : tuple of str
        The sections a pipeline set (the manifest records those, with every option of
        each).
    """

    ck_course: CkCourseOptions = field(default_factory=CkCourseOptions)
    strength: StrengthOptions = field(default_factory=StrengthOptions)
    response: ResponseOptions = field(default_factory=ResponseOptions)
    treatments: TreatmentOptions = field(default_factory=TreatmentOptions)
    relapse: RelapseDefinition = field(default_factory=RelapseDefinition)
    titres: TitreOptions = field(default_factory=TitreOptions)
    mcf_months: tuple[float, ...] = MCF_MONTHS
    given: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The sections a pipeline set, each with every option it then has (JSON-ready;
        for the manifest). Empty when it set none."""
        out: dict[str, Any] = {}
        for name in self.given:
            values = {
                f.name: _plain(getattr(getattr(self, name), f.name))
                for f in dataclasses.fields(getattr(self, name))
                if f.name not in _RUN_FIELDS
            }
            if name == "relapse":
                values["mcf_months"] = list(self.mcf_months)
            out[name] = values
        return out


#: Section name -> the options type it sets.
SECTIONS: dict[str, type] = {
    "ck_course": CkCourseOptions,
    "strength": StrengthOptions,
    "response": ResponseOptions,
    "treatments": TreatmentOptions,
    "relapse": RelapseDefinition,
    "titres": TitreOptions,
}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def option_keys(name: str) -> tuple[str, ...]:
    """The keys a section ``[analysis.course.NAME]`` takes."""
    keys = tuple(f.name for f in dataclasses.fields(SECTIONS[name]) if f.name not in _RUN_FIELDS)
    return (*keys, "mcf_months") if name == "relapse" else keys


def _limit(key: str) -> float | None:
    """The largest value a key may have, from its unit (None: no unit known)."""
    if key == "k":
        return _MAX["k"]
    for unit in ("months", "days", "percent"):
        if key.endswith(unit):
            return _MAX[unit]
    return None


def _number(where: str, value: Any, key: str, *, signed: bool = False) -> float:
    """A finite number within the key's range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} {key} must be a number, not {type(value).__name__}")
    hi = _limit(key)
    lo = -hi if signed and hi is not None else 0.0
    if not math.isfinite(value) or value < lo or (hi is not None and value > hi):
        span = f"from {lo:g} to {hi:g}" if hi is not None else "0 or more"
        raise ConfigError(f"{where} {key} = {value!r} is out of range; give a number {span}")
    return float(value)


def _value(where: str, key: str, value: Any, hint: Any) -> Any:
    """``value`` as the field's type ``hint`` wants it (lists become tuples)."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = next(a for a in args if a is not type(None))
        if inner is float and isinstance(value, str):
            if value != ALL:
                raise ConfigError(f'{where} {key} must be a number or "{ALL}", not {value!r}')
            return None
        return _value(where, key, value, inner)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} {key} must be true or false, not {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} {key} must be text, not {type(value).__name__}")
        return value
    if hint in (int, float):
        number = _number(where, value, key)
        if hint is int and not number.is_integer():
            raise ConfigError(f"{where} {key} must be a whole number, not {value!r}")
        return int(number) if hint is int else number
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list) or not value:
            raise ConfigError(f"{where} {key} must be a list of one value or more")
        if len(args) == 2 and args[1] is Ellipsis:
            item = args[0]
            if item is str:
                if not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"{where} {key} must be a list of text values")
                return tuple(value)
            return tuple(_number(where, v, key) for v in value)
        if len(value) != len(args):
            raise ConfigError(f"{where} {key} must be a list of {len(args)} numbers")
        return tuple(_number(where, v, key, signed=True) for v in value)
    raise ConfigError(f"{where} {key} cannot be set")  # pragma: no cover - every field typed


def _check_months(where: str, key: str, months: Any) -> None:
    """Landmarks and grid times above 0 and in increasing order; bin edges from 0."""
    if not isinstance(months, tuple) or not key.endswith("months"):
        return
    if key.startswith("bins"):
        if len(months) < 2 or any(b <= a for a, b in itertools.pairwise(months)):
            raise ConfigError(f"{where} {key} must be two bin edges or more, increasing")
        return
    if min(months) <= 0 or any(b <= a for a, b in itertools.pairwise(months)):
        raise ConfigError(f"{where} {key} must be months above 0, increasing")


def _section(name: str, given: Any, where: str) -> tuple[Any, tuple[float, ...] | None]:
    """The options of one section, and for ``relapse`` the MCF's months (None if not given)."""
    if not isinstance(given, dict):
        raise ConfigError(f"{where} must be a section ([analysis.course.{name}])")
    keys = option_keys(name)
    unknown = sorted(set(given) - set(keys))
    if unknown:
        raise ConfigError(f"{where} unknown key '{unknown[0]}'; known keys: " + ", ".join(keys))
    cls = SECTIONS[name]
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    mcf = None
    for key, raw in given.items():
        hint = tuple[float, ...] if key == "mcf_months" else hints[key]
        value = _value(where, key, raw, hint)
        _check_months(where, key, value)
        if key == "statistic" and value not in STATISTICS:
            raise ConfigError(f"{where} statistic must be one of: {', '.join(STATISTICS)}")
        if key == "mcf_months":
            mcf = value
        else:
            values[key] = value
    try:
        return cls(**values), mcf
    except (ConfigError, ValueError) as exc:
        raise ConfigError(f"{where} {exc}") from None


def course_options(given: Any, where: str = "") -> CourseOptions:
    """The course analyses' options from a pipeline's ``[analysis.course]`` table.

    Parameters
    ----------
    given : dict
        Section name (``ck_course``, ``strength``, ``response``, ``treatments``,
        ``relapse``, ``titres``) -> its keys and values, as TOML reads them.
    where : str
        What the messages name first (the pipeline file).

    Returns
    -------
    CourseOptions

    Raises
    ------
    ConfigError
        An unknown section or key, a value of the wrong type or out of range (one line,
        naming the section and the key).
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(given, dict):
        raise ConfigError(f"{prefix}[analysis] course must be a section ([analysis.course.NAME])")
    unknown = sorted(set(given) - set(SECTIONS))
    if unknown:
        raise ConfigError(
            f"{prefix}unknown section [analysis.course.{unknown[0]}]; known sections: "
            + ", ".join(f"[analysis.course.{s}]" for s in SECTIONS)
        )
    options: dict[str, Any] = {}
    for name in SECTIONS:
        if name not in given:
            continue
        value, mcf = _section(name, given[name], f"{prefix}[analysis.course.{name}]")
        options[name] = value
        if mcf is not None:
            options["mcf_months"] = mcf
    return CourseOptions(**options, given=tuple(n for n in SECTIONS if n in given))


__all__ = ["ALL", "MCF_MONTHS", "SECTIONS", "CourseOptions", "course_options", "option_keys"]
