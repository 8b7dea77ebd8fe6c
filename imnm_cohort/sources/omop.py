"""An OMOP CDM v5.3 or v5.4 database as a source (``[input] kind = "omop"``).

The source derives the patient table (contract section 1) and the event tables (section 6)
from the CDM's person, observation_period, condition_occurrence, measurement,
drug_exposure and death tables and its vocabulary tables, by the concept sets of
:mod:`imnm_cohort.sources.omop_concepts` and the rules of
:mod:`imnm_cohort.sources.omop_rules` and :mod:`imnm_cohort.sources.omop_patients`. The
rules run in the database; only the candidates' rows leave it. ``docs/omop.md`` writes
every rule out with its SQL.

Settings::

    [input]
    kind = "omop"
    url = "duckdb:///cdm.duckdb"     # or postgres://user@host/db, or "spark"
    cdm_schema = "cdm"               # optional: the schema of the clinical tables
    vocabulary_schema = "vocab"      # optional: the schema of the vocabulary tables
    password_env = "CDM_PASSWORD"    # optional (PostgreSQL)
    concept_sets = "site-concepts.toml"  # optional: the site's additions to the sets
    master = "local[2]"              # optional, with url = "spark"
    [input.omop]
    onset_rule = "first_of"          # or "condition", "ck"
    ck_threshold = 1000              # U/L
    lookback_days = 365
    persistence_gap_days = 30        # statin eras: exposures at most this far apart join
    statin_window = "ever"           # or "current": exposed time from the first statin on,
                                     # or within exposure eras only

The source's preferred criteria set is ``ehr2026`` (:data:`DEFAULT_CRITERIA`): a pipeline
that names none classifies coded data by the EHR phenotype, and the report says so.

Column names are matched ignoring case (OHDSI's GiBleed sample has upper-case names), and
a concept id, a number or a date stored as text is read as one where it is one (GiBleed
stores ``value_as_number`` as text). A missing table or column, a column of a type that
cannot hold its values, an unreachable database: one line naming the source, exit code 1.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from imnm_cohort.errors import ConfigError, ExtractError, quoted
from imnm_cohort.sources.base import SOURCES, slices
from imnm_cohort.sources.omop_concepts import ConceptSets, load_concept_sets
from imnm_cohort.sources.omop_rules import (
    CDM_COLUMNS,
    ONSET_RULES,
    STATIN_WINDOWS,
    VOCABULARY_TABLES,
    Cdm,
    OmopOptions,
    StatinOptions,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    import pyarrow as pa
    from ibis.backends import BaseBackend

_log = logging.getLogger(__name__)

#: How the fingerprint is computed (recorded in the manifest).
FINGERPRINT_METHOD = (
    "sha256 of the derived patient table as CSV, the concept set versions and the options, v1"
)
#: The warning when concept_ancestor is empty.
NO_ANCESTORS = (
    "concept_ancestor is empty: statins and immunosuppressants are found by their "
    "ingredient concept ids, RxNorm's 'RxNorm has ing' relationships and RxNorm drug names "
    "that contain an ingredient's name, not by the vocabulary's hierarchy"
)
_KNOWN = (
    "url",
    "cdm_schema",
    "vocabulary_schema",
    "password_env",
    "concept_sets",
    "master",
    "omop",
)
_OPTIONS = (
    "onset_rule",
    "ck_threshold",
    "lookback_days",
    "persistence_gap_days",
    "statin_window",
)
#: The criteria set a run on an OMOP database uses when its pipeline names none.
DEFAULT_CRITERIA = "ehr2026"
_NUMBER = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_DATE = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _options(value: Any) -> OmopOptions:
    """``[input.omop]`` checked."""
    if value is None:
        return OmopOptions()
    if not isinstance(value, dict):
        raise ConfigError(
            "omop must be a table ([input.omop]) of onset_rule, ck_threshold, lookback_days"
        )
    unknown = sorted(set(value) - set(_OPTIONS))
    if unknown:
        raise ConfigError(
            f"unknown key '{unknown[0]}' in [input.omop]; known keys: {', '.join(_OPTIONS)}"
        )
    defaults = OmopOptions()
    rule = value.get("onset_rule", defaults.onset_rule)
    if rule not in ONSET_RULES:
        raise ConfigError(
            f"[input.omop] onset_rule must be one of {', '.join(ONSET_RULES)}, not {rule!r}"
        )
    threshold = value.get("ck_threshold", defaults.ck_threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
        raise ConfigError("[input.omop] ck_threshold must be a number of U/L above 0")
    lookback = value.get("lookback_days", defaults.lookback_days)
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 0:
        raise ConfigError("[input.omop] lookback_days must be a whole number of days, 0 or more")
    return OmopOptions(rule, float(threshold), lookback)


def _statin_options(value: Any) -> StatinOptions:
    """The statin-population choices of ``[input.omop]`` checked (defaults without them)."""
    value = value if isinstance(value, dict) else {}
    defaults = StatinOptions()
    gap = value.get("persistence_gap_days", defaults.persistence_gap_days)
    if isinstance(gap, bool) or not isinstance(gap, int) or gap < 0:
        raise ConfigError(
            "[input.omop] persistence_gap_days must be a whole number of days, 0 or more"
        )
    window = value.get("statin_window", defaults.window)
    if window not in STATIN_WINDOWS:
        known = ", ".join(STATIN_WINDOWS)
        raise ConfigError(f"[input.omop] statin_window must be one of {known}, not {window!r}")
    return StatinOptions(gap, window)


class OmopSource:
    """An OMOP CDM database: the patient table and the event tables derived from it.

    Parameters
    ----------
    url : str
        ``duckdb:///path`` (relative to the pipeline's folder), ``postgres://...`` (no
        password in it), or ``spark``.
    cdm_schema, vocabulary_schema : str or None
        Where the clinical and the vocabulary tables are (None: the default schema).
    password_env : str or None
        The environment variable holding the password (PostgreSQL).
    concept_sets : ConceptSets
        The toolkit's sets with a site's additions.
    options : OmopOptions
        The study's choices.
    master : str or None
        Spark's master URL with ``url = "spark"``; None uses the active session.
    base : Path or None
        The folder a relative DuckDB path is read from (the pipeline file's; None: the
        working directory).
    statin : StatinOptions or None
        The statin-population choices (persistence gap, window); the defaults when None.
    """

    kind: ClassVar[str] = "omop"
    #: :meth:`tables` gives the event tables a run validates (``stages.has_tables``).
    derives_event_tables: ClassVar[bool] = True
    #: A pipeline that names no criteria set classifies an OMOP database by this one.
    default_criteria: ClassVar[str] = DEFAULT_CRITERIA

    def __init__(
        self,
        url: str,
        *,
        cdm_schema: str | None = None,
        vocabulary_schema: str | None = None,
        password_env: str | None = None,
        concept_sets: ConceptSets | None = None,
        options: OmopOptions | None = None,
        master: str | None = None,
        base: Path | None = None,
        statin: StatinOptions | None = None,
    ) -> None:
        url = url.removeprefix("omop+")  # the command line's omop+duckdb:///cdm.duckdb
        self.url, self.password_env, self.master = url, password_env, master
        self.cdm_schema, self.vocabulary_schema = cdm_schema, vocabulary_schema
        self.concept_sets = concept_sets or load_concept_sets()
        self.options = options or OmopOptions()
        self.statin = statin or StatinOptions()
        parts = urllib.parse.urlsplit(url)
        self.backend = "spark" if url == "spark" else parts.scheme.split("+")[-1]
        if self.backend in ("postgresql",):
            self.backend = "postgres"
        if self.backend not in ("duckdb", "postgres", "spark"):
            raise ConfigError(
                'kind = "omop" reads url = "duckdb:///file.duckdb", "postgres://host/db" or '
                f'"spark", not a url of scheme {parts.scheme or "(none)"!r}'
            )
        self.path: Path | None = None
        self.host, self.database = parts.hostname or "", parts.path.lstrip("/")
        if self.backend == "duckdb":
            raw = url.split("://", 1)[1]
            raw = raw[1:] if raw.startswith("/") else raw
            self.path = (
                (base or Path.cwd()) / raw if raw and not Path(raw).is_absolute() else Path(raw)
            )
            self.database = self.path.name
        if self.backend == "postgres":
            from imnm_cohort.sources.sql import _url_parts

            _url_parts(url)  # refuses a password in the URL
        where = self.database or "(default)"
        self._name = f"OMOP CDM ({self.backend}) {where}" + (
            f" at {self.host}" if self.host else ""
        )
        self._derived: dict[str, pd.DataFrame] | None = None
        self._facts: dict[str, Any] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], base: Path) -> OmopSource:
        """The ``[input]`` settings of ``kind = "omop"`` (see the module's description).

        Raises
        ------
        ConfigError
            A key missing, unknown or of the wrong type; a password in the URL; a concept
            set file that cannot be used.
        """
        unknown = sorted(set(settings) - set(_KNOWN))
        if unknown:
            raise ConfigError(
                f"unknown key '{unknown[0]}' for kind = \"omop\"; known keys: {', '.join(_KNOWN)}"
            )
        url = settings.get("url")
        if not isinstance(url, str) or not url:
            raise ConfigError(
                'kind = "omop" needs url = "duckdb:///cdm.duckdb" (or postgres://..., or "spark")'
            )
        for key in ("cdm_schema", "vocabulary_schema", "password_env", "concept_sets", "master"):
            value = settings.get(key)
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(f'kind = "omop": {key} must be text')
        concept_file = settings.get("concept_sets")
        return cls(
            url,
            cdm_schema=settings.get("cdm_schema"),
            vocabulary_schema=settings.get("vocabulary_schema"),
            password_env=settings.get("password_env"),
            concept_sets=load_concept_sets(base / concept_file if concept_file else None),
            options=_options(settings.get("omop")),
            master=settings.get("master"),
            base=base,
            statin=_statin_options(settings.get("omop")),
        )

    # -- the Source protocol ----------------------------------------------------------

    @property
    def name(self) -> str:
        """How messages name the source."""
        return self._name

    @property
    def label(self) -> str:
        """A short name for reports and the manifest."""
        return f"omop:{self.database or self.backend}"

    def __repr__(self) -> str:
        return f"OmopSource({self._name!r})"

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The candidates' patient table as text cells (every contract column, then the
        source's own ``omop_*`` columns), ordered by ``patient_id``; no rows when the
        database has no candidate.

        Raises
        ------
        ExtractError
            The database cannot be used (one line naming the source and the problem).
        """
        frame = self._derive()["patients"]
        if columns is None:
            return frame.copy()
        out = frame[list(columns)].copy()
        out.attrs = dict(frame.attrs)
        return out

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """The rows of :meth:`read` in frames of ``rows`` rows."""
        return slices(self.read(), rows)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The event tables (contract section 6) of the candidates, as text cells:
        ``visits``, ``antibody_tests``, ``treatments``, ``cancers``."""
        derived = self._derive()
        return {name: derived[name].copy() for name in derived if name != "patients"}

    def fingerprint(self) -> str:
        """SHA-256 of the derived patient table (as CSV), the concept sets' versions and the
        options: equal database content and choices, equal fingerprint."""
        frame = self._derive()["patients"]
        content = json.dumps(
            {
                "patients": frame.to_csv(index=False),
                "concept_sets": self.concept_sets.versions(),
                "options": self.options.to_dict(),
            },
            sort_keys=True,
        )
        return hashlib.sha256(content.encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Where the database is (no user or password), the schemas, the options, the
        concept sets' versions, the counts and the warnings of the derivation."""
        derived = self._derive()
        return {
            "kind": self.kind,
            "backend": self.backend,
            **({"host": self.host} if self.host else {}),
            "database": self.database,
            "cdm_schema": self.cdm_schema or "(default)",
            "vocabulary_schema": self.vocabulary_schema or "(default)",
            "options": self.options.to_dict(),
            "statin_population": self.statin.to_dict(),
            "concept_sets": self.concept_sets.versions(),
            "candidates": len(derived["patients"]),
            "event_rows": {name: len(derived[name]) for name in derived if name != "patients"},
            "ck_without_unit": self._facts.get("ck_without_unit", 0),
            "concept_ancestor": "used" if self._facts.get("ancestor_rows") else "empty",
            "warnings": list(self._facts.get("warnings", ())),
            "rows": len(derived["patients"]),
            "fingerprint_method": FINGERPRINT_METHOD,
        }

    def ingredients(self) -> dict[str, int]:
        """The statin ingredients: label -> RxNorm ingredient concept id."""
        return {c.label: c.id for c in self.concept_sets["statins"].concepts}

    @contextmanager
    def population_tables(
        self,
    ) -> Iterator[tuple[dict[str, ir.Table], Callable[[pd.DataFrame], ir.Table]]]:
        """The CDM tables the statin-population analysis reads, bound to an open connection
        for the ``with`` block: ``person``, ``observation_period``, ``drug_exposure`` and,
        as ``concept_ancestor``, each ingredient's drug concepts by the rule *ingredients*
        (the hierarchy, else RxNorm's relationships and names: one rule for the patient
        table and the population); and how a small frame enters the database (a memtable,
        or on PostgreSQL, whose session is read-only, rows written into the query). Any
        failure is one line naming the source.

        Raises
        ------
        ExtractError
            The database cannot be used.
        """
        import ibis
        import pandas as pd

        from imnm_cohort.sources.omop_rules import ingredient_concepts

        statins = self.concept_sets["statins"]
        ingredients = self.ingredients()
        with self._failures(), self._connected() as con:
            cdm = self.cdm(con)
            small = _values_of(con) if con.name == "postgres" else ibis.memtable
            ids = small(
                pd.DataFrame(
                    {"label": list(ingredients), "ingredient_id": list(ingredients.values())}
                )
            )
            found = ingredient_concepts(cdm, statins).join(ids, "label")
            ancestry = found.select(
                ancestor_concept_id=found.ingredient_id, descendant_concept_id=found.concept_id
            ).distinct()
            tables = {
                "person": cdm["person"],
                "observation_period": cdm["observation_period"],
                "drug_exposure": self._drug_exposure(con),
                "concept_ancestor": ancestry,
            }
            yield tables, small

    def _drug_exposure(self, con: BaseBackend) -> ir.Table:
        """``drug_exposure`` with what the eras read besides the rules' columns:
        ``drug_exposure_id`` and ``days_supply`` (NULL where a CDM lacks them: an exposure
        without an end date then ends on its start day)."""
        import ibis

        where, columns = self.cdm_schema, dict(CDM_COLUMNS["drug_exposure"])
        extra = ("drug_exposure_id", "days_supply")
        table = self._table(con, "drug_exposure", where, columns)
        listed = con.list_tables(database=where) if where else con.list_tables()
        name = next(n for n in listed if n.lower() == "drug_exposure")
        raw = con.table(name, database=where) if where else con.table(name)
        if all(c in {n.lower() for n in raw.columns} for c in extra):
            return self._table(con, "drug_exposure", where, columns | dict.fromkeys(extra, "int64"))
        return table.mutate(**{c: ibis.null("int64") for c in extra})

    # -- the database's side ----------------------------------------------------------

    def _derive(self) -> dict[str, pd.DataFrame]:
        if self._derived is None:
            with self._failures(), self._connected() as con:
                self._derived = self._run(con)
        return self._derived

    def _run(self, con: BaseBackend) -> dict[str, pd.DataFrame]:
        from imnm_cohort.sources.omop_patients import (
            CDM_PREFIX,
            OUTPUTS,
            derivation_sql,
            with_steps,
        )

        cdm = self.cdm(con)
        dialect = "spark" if con.name == "pyspark" else con.name
        steps = {
            f"{CDM_PREFIX}{name}": str(con.compile(table)) for name, table in cdm.tables.items()
        }
        steps |= derivation_sql(self.concept_sets, self.options, cdm.ancestor_rows, con.name)
        steps["ck_without_unit"] = (
            'SELECT count(*) AS n FROM "ck_measurements" WHERE NOT "unit_known"'
            if dialect != "spark"
            else "SELECT count(*) AS n FROM `ck_measurements` WHERE NOT `unit_known`"
        )
        if con.name == "duckdb":
            steps = _materialised(con, steps, dialect)
        counted = _fetch(con, with_steps(steps, "ck_without_unit", dialect))
        self._facts = {
            "ancestor_rows": cdm.ancestor_rows,
            "warnings": cdm.notes,
            "ck_without_unit": int(counted.column(0)[0].as_py() or 0),
        }
        for note in cdm.notes:
            _log.warning("%s: %s", self.name, note)
        out = {}
        for name in OUTPUTS:
            frame = _text(_fetch(con, with_steps(steps, name, dialect)))
            keys = list(frame.columns[:3]) if name != "patients" else ["patient_id"]
            out[name] = frame.sort_values(keys, kind="stable").reset_index(drop=True)
        out["patients"] = _with_contract_columns(out["patients"])
        return out

    def cdm(self, con: BaseBackend) -> Cdm:
        """The CDM's tables as the rules read them: lower-case names, CDM v5.4 types.

        Raises
        ------
        ExtractError
            A table or a column missing, or a column of a type that cannot hold its values.
        """
        import ibis

        tables: dict[str, ir.Table] = {}
        notes = []
        for table, columns in CDM_COLUMNS.items():
            schema = self.vocabulary_schema if table in VOCABULARY_TABLES else self.cdm_schema
            try:
                tables[table] = self._table(con, table, schema, columns)
            except ExtractError as exc:
                if table != "death":
                    raise
                # Many CDMs hold no deaths; an unusable death table is said, not fatal.
                notes.append(f"{str(exc).split(': ', 1)[1]}: no death dates are derived")
                person = tables["person"]
                tables[table] = person.filter(ibis.literal(False)).select(
                    "person_id", death_date=ibis.null("date")
                )
        ancestor_rows = int(con.execute(tables["concept_ancestor"].limit(1).count())) > 0
        if not ancestor_rows:
            notes.append(NO_ANCESTORS)
        return Cdm(tables, ancestor_rows, tuple(notes))

    def _table(
        self, con: BaseBackend, table: str, schema: str | None, columns: Mapping[str, str]
    ) -> ir.Table:
        listed = con.list_tables(database=schema) if schema else con.list_tables()
        names = {n.lower(): n for n in listed}
        where = f"{schema}.{table}" if schema else table
        if table not in names:
            raise ExtractError(
                f"{self.name}: no table {where} (an OMOP CDM table the source reads)"
            )
        raw = con.table(names[table], database=schema) if schema else con.table(names[table])
        found = {n.lower(): n for n in raw.columns}
        missing = [c for c in columns if c not in found]
        if missing:
            raise ExtractError(
                f"{self.name}: table {where} has no column {missing[0]} "
                "(OMOP CDM v5.3 and v5.4 have it)"
            )
        return raw.select(
            **{c: _typed(raw[found[c]], kind, self.name, where, c) for c, kind in columns.items()}
        )

    @contextmanager
    def _connected(self) -> Iterator[BaseBackend]:
        con = self._connect()
        try:
            yield con
        finally:
            # A Spark session is the process's (ibis' disconnect stops it): it stays for the
            # next connection (the statin population after the derivation).
            if con.name != "pyspark":
                with suppress(Exception):
                    con.disconnect()

    def _connect(self) -> BaseBackend:
        import ibis

        if self.backend == "duckdb":
            assert self.path is not None
            if not self.path.is_file():
                raise ExtractError(f"{self.name}: file not found ({self.path})")
            return ibis.duckdb.connect(self.path, read_only=True)
        if self.backend == "spark":
            from imnm_cohort.sources.spark import SparkSettings, SparkSource

            session = SparkSource(SparkSettings(self.master, "omop", None)).session()
            return ibis.pyspark.connect(session)
        import os

        from imnm_cohort.sources.sql import CONNECT_TIMEOUT

        extra: dict[str, Any] = {
            "options": "-c default_transaction_read_only=on",
            "connect_timeout": CONNECT_TIMEOUT,
        }
        if self.password_env is not None:
            password = os.environ.get(self.password_env, "")
            if not password:
                raise ConfigError(
                    f"{self.name}: the password is read from the environment variable "
                    f"{self.password_env}, which is not set or empty"
                )
            extra["password"] = password
        return ibis.connect(self.url, **extra)

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """Any error of the database or its driver as one line naming the source."""
        import os

        try:
            yield
        except (ExtractError, ConfigError):
            raise
        except Exception as exc:  # drivers raise many unrelated types
            secret = os.environ.get(self.password_env, "") if self.password_env else ""
            raise ExtractError(
                f"{self.name}: the database refused the derivation ({quoted(exc, secret)})"
            ) from None


def _typed(column: ir.Value, kind: str, name: str, where: str, column_name: str) -> ir.Value:
    """A CDM column read as the rules read it (``int64``, ``float64``, ``date``, ``string``);
    text holding numbers or dates is read where it holds one, NULL elsewhere; a floating
    NaN is NULL."""
    import ibis

    dtype = column.type()
    if kind == "string":
        return column if dtype.is_string() else column.cast("string")
    if dtype.is_string():
        text = column.cast("string")
        pattern = _DATE if kind == "date" else _NUMBER
        value = text.strip().substr(0, 10) if kind == "date" else text.strip()
        target = "float64" if kind == "float64" else kind
        read = value.cast(target)
        if kind == "int64":
            read = value.cast("float64").cast("int64")
        return ibis.cases((text.re_search(pattern), read), else_=ibis.null(kind))
    if kind == "date" and dtype.is_timestamp():
        return column.date()
    if kind == "date" and dtype.is_date():
        return column
    if kind == "int64" and dtype.is_integer():
        return column  # any width compares as a concept id
    if kind == "float64" and dtype.is_floating():
        # NaN is no value (DuckDB and PostgreSQL hold it, and order it above every number:
        # a NaN CK would count as above any threshold).
        return ibis.ifelse(column.isnan(), ibis.null("float64"), column)
    if kind in ("int64", "float64") and (dtype.is_numeric() or dtype.is_boolean()):
        return column.cast(kind)
    raise ExtractError(
        f"{name}: column {column_name} of table {where} is of type {dtype}, which cannot hold "
        f"{'dates' if kind == 'date' else 'numbers'}"
    )


def _values_of(con: BaseBackend) -> Callable[[pd.DataFrame], ir.Table]:
    """A small frame of integers and text as a table written into the query
    (``SELECT ... FROM (VALUES ...)``): no temporary table, so a read-only session can use
    it."""

    def sql_value(value: Any) -> str:
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        return str(int(value))

    def small(frame: pd.DataFrame) -> ir.Table:
        names = [str(c) for c in frame.columns]
        kinds = ["TEXT" if frame[c].dtype == object else "BIGINT" for c in frame.columns]
        # Given its schema, ibis asks the database nothing (no view to describe the query).
        schema = {
            n: "string" if k == "TEXT" else "int64" for n, k in zip(names, kinds, strict=True)
        }
        typed = ", ".join(f'CAST(NULL AS {k}) AS "{n}"' for n, k in zip(names, kinds, strict=True))
        if not len(frame):
            return con.sql(f"SELECT {typed} WHERE FALSE", schema=schema)
        rows = ", ".join(
            "(" + ", ".join(sql_value(v) for v in row) + ")"
            for row in frame.itertuples(index=False)
        )
        head = ", ".join(f'"{n}"' for n in names)
        pairs = zip(names, kinds, strict=True)
        cast = ", ".join(f'CAST(t."{n}" AS {k}) AS "{n}"' for n, k in pairs)
        return con.sql(f"SELECT {cast} FROM (VALUES {rows}) AS t({head})", schema=schema)

    return small


def _materialised(con: BaseBackend, steps: dict[str, str], dialect: str) -> dict[str, str]:
    """On DuckDB, each row rule and the candidates as a temporary table of the session (a
    read-only database allows them), so that the outputs read them rather than scanning
    measurement again for each output; the steps left to run as common table expressions
    are returned."""
    from imnm_cohort.sources.omop_patients import CDM_PREFIX, OUTPUTS, with_steps

    tables = {n: sql for n, sql in steps.items() if n.startswith(CDM_PREFIX)}
    rest = {n: sql for n, sql in steps.items() if n not in tables}
    for name in [n for n in rest if n not in OUTPUTS and n != "ck_without_unit"]:
        sql = with_steps({**tables, name: rest.pop(name)}, name, dialect)
        con.con.execute(f'CREATE TEMPORARY TABLE "{name}" AS {sql}')
    return {**tables, **rest}


def _fetch(con: BaseBackend, sql: str) -> pa.Table:
    """The rows of a statement as an Arrow table, read without creating anything in the
    database (a read-only session cannot create the view ibis would make of it)."""
    import pyarrow as pa

    if con.name == "duckdb":
        return con.con.execute(sql).to_arrow_reader(100_000).read_all()
    if con.name == "postgres":
        with con.con.cursor() as cursor:
            cursor.execute(sql)
            names = [d.name for d in cursor.description]
            rows = cursor.fetchall()
        columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] if rows else []
        if not rows:
            columns = [[] for _ in names]
        return pa.table({n: pa.array(c) for n, c in zip(names, columns, strict=True)})
    return pa.Table.from_pandas(con._session.sql(sql).toPandas(), preserve_index=False)


def _text(table: pa.Table) -> pd.DataFrame:
    """Typed cells as an extract's text cells, column by column in Arrow: dates
    ``YYYY-MM-DD``, booleans ``true``/``false``, numbers as Arrow writes them (``1000``,
    ``1234.5``), missing cells missing."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_boolean(column.type):
            column = pc.if_else(column, "true", "false")
        elif pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
            column = pc.strftime(column.cast(pa.timestamp("s")), format="%Y-%m-%d")
        columns.append(column.cast(pa.large_string()))
    text = pa.table(columns, names=table.column_names)
    frame: pd.DataFrame = text.to_pandas(
        types_mapper={pa.large_string(): pd.StringDtype("pyarrow")}.get
    )
    return frame


def _with_contract_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Every contract column in the contract's order (those the source never derives
    empty, and listed in ``attrs["absent_columns"]`` as a file's absent columns are), then
    the source's own ``omop_*`` columns."""
    import pandas as pd

    from imnm_cohort.contracts.patients import CONTRACT_COLUMNS

    absent = [c for c in CONTRACT_COLUMNS if c not in frame.columns]
    empty = pd.Series(pd.NA, index=frame.index, dtype=pd.StringDtype("pyarrow"))
    ordered = {c: frame[c] if c in frame.columns else empty for c in CONTRACT_COLUMNS}
    ordered |= {c: frame[c] for c in frame.columns if c not in CONTRACT_COLUMNS}
    out = pd.DataFrame(ordered, index=frame.index)
    out.attrs["absent_columns"] = absent
    return out


SOURCES["omop"] = OmopSource.from_settings
