"""Concept sets for OMOP CDM databases: versioned, cited data that ship with the toolkit.

Each set is one TOML file of ``imnm_cohort/data/concepts/`` with its ``name``, ``version``,
``title``, ``sources`` and its members:

* ``[[concepts]]``: OMOP concept ids (``id``, ``code``, ``vocabulary``, ``name``; ``label``
  the antigen, ingredient or drug it stands for; ``method`` an antibody assay;
  ``descendants`` true to take its descendants in ``concept_ancestor``);
* ``[[source_codes]]``: codes matched against a row's source value, for data delivered
  unmapped (concept 0): a LOINC code in ``measurement_source_value`` or an ICD-10-CM code in
  ``condition_source_value``;
* ``[[ranges]]``: ICD-10 categories from ``low`` to ``high`` (malignant neoplasms);
* ``[[units]]``: a measurement's units and their factor to U/L;
* ``[values]`` and ``[operators]``: how a measurement's qualitative value and its operator read.

A site extends the sets in a file of its own (``[input] concept_sets = "FILE"``): a
``version`` and, under ``[NAME]`` for a set's name, more ``concepts``, ``source_codes``,
``ranges`` or ``units``. They are added to the toolkit's, never replace them, and the run's
manifest records both versions. ``imnm-cohort concepts`` prints what a run would use.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from imnm_cohort.errors import ConfigError

#: The toolkit's sets, by the role each plays in the derivation.
SET_NAMES = (
    "myositis_conditions",
    "creatine_kinase",
    "myositis_antibodies",
    "measurement_values",
    "statins",
    "immunosuppressants",
    "malignant_neoplasms",
    "emg",
)
_MEMBERS = ("concepts", "source_codes", "ranges", "units")
#: The labels of the ``emg`` set: a study, and its two coded results.
EMG_LABELS = ("study", "myopathic", "not_myopathic")


def allowed_labels(name: str) -> tuple[str, ...] | None:
    """The labels a set's members may carry, for the sets whose rules read the label as a
    value (an antigen, an EMG's role); None where any label goes (an ingredient's name)."""
    if name == "emg":
        return EMG_LABELS
    if name == "myositis_antibodies":
        from imnm_cohort.contracts.patients import OTHER_MSA

        return ("hmgcr", "srp", *OTHER_MSA)
    return None


def normalise_code(code: str) -> str:
    """A code as it is compared: upper case, without dots, spaces and hyphens kept
    (``"g72.49"`` -> ``"G7249"``; LOINC's ``"2157-6"`` stays ``"2157-6"``)."""
    return re.sub(r"[.\s]", "", code).upper()


@dataclass(frozen=True)
class Concept:
    """One OMOP concept of a set."""

    id: int
    name: str = ""
    code: str = ""
    vocabulary: str = ""
    label: str = ""
    method: str = ""
    atc: str = ""
    descendants: bool = False


@dataclass(frozen=True)
class SourceCode:
    """A code matched against a row's source value (data delivered unmapped)."""

    code: str
    vocabulary: str = ""
    label: str = ""
    method: str = ""
    name: str = ""


@dataclass(frozen=True)
class CodeRange:
    """ICD-10 categories ``low`` to ``high`` (the first three characters, inclusive)."""

    low: str
    high: str
    vocabulary: str = ""
    name: str = ""


@dataclass(frozen=True)
class Unit:
    """A measurement unit and its factor to U/L."""

    concept_id: int
    name: str
    source_values: tuple[str, ...]
    to_u_per_l: float


@dataclass(frozen=True)
class ConceptSet:
    """One versioned concept set, with a site's additions when it has any.

    Attributes
    ----------
    name, version, title : str
    sources : tuple of str
        Where each member comes from.
    concepts, source_codes, ranges, units : tuple
        The members (see the module's description).
    values : mapping
        ``{"positive": (...), "negative": (...), "equivocal": (...)}`` value concepts.
    operators : mapping
        ``{"<": id, ...}`` operator concepts.
    files : tuple of str
        The files the set was read from (the toolkit's, then a site's).
    """

    name: str
    version: str
    title: str
    sources: tuple[str, ...]
    concepts: tuple[Concept, ...] = ()
    source_codes: tuple[SourceCode, ...] = ()
    ranges: tuple[CodeRange, ...] = ()
    units: tuple[Unit, ...] = ()
    values: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    operators: Mapping[str, int] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    note: str = ""

    def ids(self, label: str | None = None) -> tuple[int, ...]:
        """The concept ids (of one label), in the file's order, each once."""
        found = (c.id for c in self.concepts if label is None or c.label == label)
        return tuple(dict.fromkeys(found))

    def codes(self, label: str | None = None) -> tuple[str, ...]:
        """The source codes (of one label), normalised, each once."""
        found = (
            normalise_code(s.code) for s in self.source_codes if label is None or s.label == label
        )
        return tuple(dict.fromkeys(found))

    def labels(self) -> tuple[str, ...]:
        """Every label of the set's concepts and codes, in order of first appearance."""
        found = [c.label for c in self.concepts] + [s.label for s in self.source_codes]
        return tuple(dict.fromkeys(x for x in found if x))


@dataclass(frozen=True)
class ConceptSets:
    """The concept sets a run uses: the toolkit's, with a site's additions.

    Attributes
    ----------
    sets : mapping
        Every set by name.
    site_file, site_version : str
        The site's file and its version (empty without one).
    """

    sets: Mapping[str, ConceptSet]
    site_file: str = ""
    site_version: str = ""

    def __getitem__(self, name: str) -> ConceptSet:
        return self.sets[name]

    def __iter__(self) -> Iterator[ConceptSet]:
        return iter(self.sets.values())

    def versions(self) -> dict[str, Any]:
        """The versions for a manifest: each set's, and the site file's."""
        out: dict[str, Any] = {s.name: s.version for s in self}
        if self.site_file:
            out["site_file"] = self.site_file
            out["site_version"] = self.site_version
        return out


def _text(value: Any, where: str, key: str, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ConfigError(f"{where}: '{key}' must be text")
    return value


def _integer(value: Any, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: '{key}' must be a whole number (a concept id)")
    return value


def _rows(value: Any, where: str, key: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of tables ([[{key}]])")
    return value


def _members(data: Mapping[str, Any], where: str) -> dict[str, tuple[Any, ...]]:
    """The members of a set (or of a site's additions to it) read from TOML data."""
    concepts = tuple(
        Concept(
            id=_integer(row.get("id"), where, "id"),
            name=_text(row.get("name"), where, "name"),
            code=_text(row.get("code"), where, "code"),
            vocabulary=_text(row.get("vocabulary"), where, "vocabulary"),
            label=_text(row.get("label"), where, "label"),
            method=_text(row.get("method"), where, "method"),
            atc=_text(row.get("atc"), where, "atc"),
            descendants=bool(row.get("descendants", False)),
        )
        for row in _rows(data.get("concepts"), where, "concepts")
    )
    codes = tuple(
        SourceCode(
            code=_text(row.get("code"), where, "code", required=True),
            vocabulary=_text(row.get("vocabulary"), where, "vocabulary"),
            label=_text(row.get("label"), where, "label"),
            method=_text(row.get("method"), where, "method"),
            name=_text(row.get("name"), where, "name"),
        )
        for row in _rows(data.get("source_codes"), where, "source_codes")
    )
    ranges = tuple(
        CodeRange(
            low=normalise_code(_text(row.get("low"), where, "low", required=True)),
            high=normalise_code(_text(row.get("high"), where, "high", required=True)),
            vocabulary=_text(row.get("vocabulary"), where, "vocabulary"),
            name=_text(row.get("name"), where, "name"),
        )
        for row in _rows(data.get("ranges"), where, "ranges")
    )
    units = []
    for row in _rows(data.get("units"), where, "units"):
        factor = row.get("to_u_per_l")
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
            raise ConfigError(f"{where}: 'to_u_per_l' must be a number above 0")
        values = row.get("source_values", [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigError(f"{where}: 'source_values' must be a list of texts")
        units.append(
            Unit(
                concept_id=_integer(row.get("concept_id"), where, "concept_id"),
                name=_text(row.get("name"), where, "name"),
                source_values=tuple(values),
                to_u_per_l=float(factor),
            )
        )
    return {"concepts": concepts, "source_codes": codes, "ranges": ranges, "units": tuple(units)}


def _read(path: Path | Any, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: not a valid TOML file ({exc})") from None


def _toolkit_set(name: str) -> ConceptSet:
    where = f"concepts/{name}.toml"
    data = _read(resources.files("imnm_cohort") / "data" / "concepts" / f"{name}.toml", where)
    values = {
        key: tuple(_integer(v, where, key) for v in ids)
        for key, ids in (data.get("values") or {}).items()
    }
    operators = {key: _integer(v, where, key) for key, v in (data.get("operators") or {}).items()}
    return ConceptSet(
        name=_text(data.get("name"), where, "name", required=True),
        version=_text(data.get("version"), where, "version", required=True),
        title=_text(data.get("title"), where, "title"),
        sources=tuple(data.get("sources", ())),
        values=values,
        operators=operators,
        files=(where,),
        note=_text(data.get("note"), where, "note"),
        **_members(data, where),
    )


def load_concept_sets(site_file: Path | None = None) -> ConceptSets:
    """The toolkit's concept sets, extended by a site's file when one is given.

    Parameters
    ----------
    site_file : Path or None
        A TOML file with a ``version`` and, under ``[NAME]`` for a set's name, more
        ``concepts``, ``source_codes``, ``ranges`` or ``units``.

    Raises
    ------
    ConfigError
        A file that cannot be read or is not valid TOML; a set the toolkit does not have;
        a member of the wrong shape (one line naming the file and the key).
    """
    sets = {name: _toolkit_set(name) for name in SET_NAMES}
    if site_file is None:
        return ConceptSets(sets)
    where = str(site_file)
    data = _read(site_file, where)
    version = data.pop("version", None)
    if not isinstance(version, str) or not version:
        raise ConfigError(f'{where}: needs version = "..." (the site\'s version of its sets)')
    for name, additions in data.items():
        if name not in sets:
            raise ConfigError(
                f"{where}: [{name}] is not a concept set; the sets are: {', '.join(SET_NAMES)}"
            )
        if not isinstance(additions, dict) or set(additions) - set(_MEMBERS):
            extra = sorted(set(additions) - set(_MEMBERS)) if isinstance(additions, dict) else []
            raise ConfigError(
                f"{where}: [{name}] may add only {', '.join(_MEMBERS)}"
                + (f", not {extra[0]!r}" if extra else "")
            )
        added = _members(additions, f"{where} [{name}]")
        allowed = allowed_labels(name)
        for member in (*added["concepts"], *added["source_codes"]):
            if allowed is not None and member.label not in allowed:
                raise ConfigError(
                    f"{where}: [{name}] label {member.label!r} is not one of: "
                    f"{', '.join(allowed)} (a member without one of these is never read)"
                )
        base = sets[name]
        merged: dict[str, Any] = {key: (*getattr(base, key), *added[key]) for key in _MEMBERS}
        sets[name] = replace(base, files=(*base.files, where), **merged)
    return ConceptSets(sets, site_file=where, site_version=version)


def describe_sets(sets: ConceptSets) -> list[str]:
    """The sets as lines of text for people (``imnm-cohort concepts``)."""
    lines = []
    for s in sets:
        lines.append(f"{s.name} {s.version}: {s.title}")
        lines.append(f"  files: {', '.join(s.files)}")
        for c in s.concepts:
            extra = ", ".join(
                x
                for x in (
                    f"{c.vocabulary} {c.code}".strip(),
                    c.label,
                    c.method,
                    c.atc,
                    "with descendants" if c.descendants else "",
                )
                if x
            )
            lines.append(f"  concept {c.id}: {c.name}" + (f" ({extra})" if extra else ""))
        for sc in s.source_codes:
            extra = ", ".join(x for x in (sc.label, sc.method) if x)
            lines.append(
                f"  source code {sc.vocabulary} {sc.code}: {sc.name}"
                + (f" ({extra})" if extra else "")
            )
        for r in s.ranges:
            lines.append(f"  source codes {r.vocabulary} {r.low}-{r.high}: {r.name}")
        for u in s.units:
            shown = ", ".join(u.source_values)
            lines.append(f"  unit {u.concept_id} {u.name} ({shown}): x {u.to_u_per_l:g} to U/L")
        for key, ids in s.values.items():
            lines.append(f"  {key}: {', '.join(str(i) for i in ids)}")
        for op, cid in s.operators.items():
            lines.append(f"  operator {op}: {cid}")
        if s.note:
            lines.append(f"  note: {s.note}")
        lines.extend(f"  source: {text}" for text in s.sources)
    if sets.site_file:
        lines.append(f"site file: {sets.site_file} (version {sets.site_version})")
    return lines
