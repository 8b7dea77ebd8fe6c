"""The patient table and the event tables of the OMOP source, as ibis expressions.

Built from the row rules of :mod:`imnm_cohort.sources.omop_rules`, column by column, and
documented with their SQL in ``docs/omop.md``. Only candidates leave the database: persons
with a myositis condition, or an anti-HMGCR or anti-SRP measurement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from imnm_cohort.sources.omop_concepts import ConceptSets
from imnm_cohort.sources.omop_rules import (
    FEMALE,
    MALE,
    MISSING_DAY,
    MISSING_MONTH,
    Cdm,
    OmopOptions,
    antibody_rows,
    cancer_rows,
    ck_rows,
    drug_rows,
    emg_rows,
    myositis_condition_rows,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: The IMNM antibodies that make a person a candidate.
IMNM_ANTIGENS = ("hmgcr", "srp")
#: The columns the source leaves empty: coded data do not hold them, and the toolkit
#: never invents them.
NEVER_DERIVED = (
    "proximal_weakness",
    "weakness_course",
    "dm_rash",
    "biopsy_necrosis",
    "biopsy_inflammation",
    "biopsy_perifascicular_atrophy",
    "biopsy_rimmed_vacuoles",
    "biopsy_p62_diffuse",
    "improved_after_statin_stop",
    "hereditary_myopathy",
)


def _earlier(a: ir.DateValue, b: ir.DateValue) -> ir.DateValue:
    """The earlier of two dates, either one when the other is NULL."""
    import ibis

    return ibis.cases((a.isnull(), b), (b.isnull(), a), (a <= b, a), else_=b)


def _first(table: ir.Table, order_by: list[Any], **columns: str) -> ir.Table:
    """Each person's first row of ``table`` in ``order_by``: ``person_id`` and ``columns``
    (new name -> column of ``table``)."""
    import ibis

    ranked = table.mutate(rank=ibis.row_number().over(group_by=table.person_id, order_by=order_by))
    picked = {name: ranked[column] for name, column in columns.items()}
    return ranked.filter(ranked["rank"] == 0).select("person_id", **picked)


def _joined(who: ir.Table, parts: list[ir.Table]) -> ir.Table:
    """The persons of ``who`` with the columns of each part (one row per person, or none:
    NULL), in one join."""
    t: Any = who
    keys = []
    for i, part in enumerate(parts):
        key = f"person_key_{i}"
        renamed = part.rename({key: "person_id"})
        t = t.left_join(renamed, who.person_id == renamed[key])
        keys.append(key)
    return t.drop(*keys)


#: The row tables the patient and event tables are built from, by name (each is a rule of
#: :mod:`imnm_cohort.sources.omop_rules`; ``docs/omop.md`` shows each one's SQL).
ROW_RULES = (
    "myositis_conditions",
    "ck_measurements",
    "antibody_measurements",
    "statin_exposures",
    "immunosuppressant_exposures",
    "malignant_conditions",
    "emg_results",
)


def row_tables(cdm: Cdm, sets: ConceptSets) -> dict[str, ir.Table]:
    """The row rules' tables, by the names of :data:`ROW_RULES`."""
    return {
        "myositis_conditions": myositis_condition_rows(cdm, sets),
        "ck_measurements": ck_rows(cdm, sets),
        "antibody_measurements": antibody_rows(cdm, sets),
        "statin_exposures": drug_rows(cdm, sets["statins"]),
        "immunosuppressant_exposures": drug_rows(cdm, sets["immunosuppressants"]),
        "malignant_conditions": cancer_rows(cdm, sets),
        "emg_results": emg_rows(cdm, sets),
    }


def candidates(rows: Mapping[str, ir.Table]) -> ir.Table:
    """Rule *candidates*: the persons with a myositis condition, or an anti-HMGCR or
    anti-SRP measurement (``person_id``, each once)."""
    conditions = rows["myositis_conditions"].select("person_id")
    tests = rows["antibody_measurements"]
    tested = tests.filter(tests.antigen.isin(list(IMNM_ANTIGENS))).select("person_id")
    return conditions.union(tested).distinct()


def _antibody_status(tests: ir.Table, antigen: str) -> ir.StringValue:
    """Per person: positive when any test is positive, else negative when any is negative,
    else NULL (not tested, or only equivocal results)."""
    import ibis

    mine = tests.antigen == antigen
    positive = (mine & (tests.result == "positive")).any()
    negative = (mine & (tests.result == "negative")).any()
    return ibis.cases((positive, "positive"), (negative, "negative"), else_=ibis.null("string"))


def patient_rows(cdm: Cdm, rows: Mapping[str, ir.Table], options: OmopOptions) -> ir.Table:
    """The patient table (contract section 1), one row per candidate.

    Column by column (``docs/omop.md`` writes each rule out with its SQL):

    * ``patient_id``: ``person_id`` as text.
    * ``sex``: ``gender_concept_id`` 8532 female, 8507 male, anything else unknown.
    * ``birth_date``: ``birth_datetime``'s date, else year, month and day of birth (a
      missing month as July, a missing day as the 15th).
    * ``onset_date``: by ``onset_rule``; ``diagnosis_date``: the first myositis condition.
    * ``last_followup_date``: the end of the observation period that contains onset, or the
      death date when earlier; ``death_date``: the earliest death record.
    * ``ck_peak``, ``ck_uln``: the highest CK in U/L and the range_high of that measurement.
    * ``anti_hmgcr``, ``anti_srp``, ``other_msa``: from the antibody results.
    * ``statin_*``: the first statin exposure; ``statin_exposed`` = it started on or before
      onset; ``statin_stop_date`` = the last statin exposure's end.
    * ``cancer_date``, ``cancer_icd10``: the first malignant neoplasm.
    * ``emg_myopathic``: true when an EMG with a coded result (rule N1) in the observation
      period that contains onset is myopathic, false when such EMGs are there and none is,
      else empty.
    * Extra columns: ``omop_onset_source`` (condition or ck), ``omop_prior_observation_days``
      and ``omop_incident`` (at least ``lookback_days`` of observation before onset).
    """
    import ibis

    who = rows["candidates"] if "candidates" in rows else candidates(rows)
    person = cdm["person"]

    conditions = rows["myositis_conditions"]
    first_condition = conditions.group_by("person_id").agg(
        first_condition=conditions.condition_date.min()
    )
    ck = rows["ck_measurements"]
    high = ck.filter(ck.ck > options.ck_threshold)
    first_high = high.group_by("person_id").agg(first_ck_high=high.ck_date.min())
    measured = ck.filter(ck.ck.notnull())
    peak = _first(
        measured,
        [measured.ck.desc(), measured.ck_date, measured.ck_uln.desc()],
        ck_peak="ck",
        ck_uln="ck_uln",
    )

    tests = rows["antibody_measurements"]
    # other_msa: the positive antigens in alphabetical order, joined without an ordered
    # aggregate (Spark has none): one flag per antigen of the contract, then CONCAT_WS,
    # which skips NULLs on DuckDB, PostgreSQL and Spark.
    from imnm_cohort.contracts.patients import OTHER_MSA

    other = ~tests.antigen.isin(list(IMNM_ANTIGENS))
    flags = {
        f"positive_{a}": ((tests.antigen == a) & (tests.result == "positive")).any()
        for a in sorted(OTHER_MSA)
    }
    status = tests.group_by("person_id").agg(
        anti_hmgcr=_antibody_status(tests, "hmgcr"),
        anti_srp=_antibody_status(tests, "srp"),
        tested=other.any(),
        **flags,
    )
    named = ibis.literal(";").join(
        [
            ibis.cases((status[f], f.removeprefix("positive_")), else_=ibis.null("string"))
            for f in flags
        ]
    )
    status = status.select(
        "person_id",
        "anti_hmgcr",
        "anti_srp",
        named=named.nullif(""),
        tested=ibis.cases((status.tested, True), else_=ibis.null("boolean")),
    )

    statins = rows["statin_exposures"]
    first_statin = _first(
        statins,
        [statins.start_date, statins.label],
        statin_name="label",
        statin_start_date="start_date",
    )
    last_stop = statins.group_by("person_id").agg(statin_stop_date=statins.stop_date.max())

    cancers = rows["malignant_conditions"]
    first_cancer = _first(
        cancers,
        [cancers.cancer_date, cancers.icd10],
        cancer_date="cancer_date",
        cancer_icd10="icd10",
    )
    death = cdm["death"]
    deaths = death.group_by("person_id").agg(death_date=death.death_date.min())

    # Onset first (the observation period is the one that contains it), then one flat
    # join of every per-person part.
    o = _joined(who, [first_condition, first_high])
    onset = {
        "first_of": _earlier(o.first_condition, o.first_ck_high),
        "condition": o.first_condition,
        "ck": o.first_ck_high,
    }[options.onset_rule]
    onsets = o.select("person_id", onset_date=onset)
    op = cdm["observation_period"]
    within = onsets.join(
        op,
        [
            onsets.person_id == op.person_id,
            op.observation_period_start_date <= onsets.onset_date,
            op.observation_period_end_date >= onsets.onset_date,
        ],
    )
    period = within.group_by(within.person_id).agg(
        period_start=within.observation_period_start_date.min(),
        period_end=within.observation_period_end_date.max(),
    )
    # An EMG counts in the observation period that contains onset (rule P13).
    emg, own = rows["emg_results"], period.rename(period_person="person_id")
    e = emg.join(
        own,
        [
            emg.person_id == own.period_person,
            emg.emg_date >= own.period_start,
            emg.emg_date <= own.period_end,
        ],
    )
    emgs = e.group_by("person_id").agg(
        emg_yes=e.myopathic.fill_null(False).any(),
        emg_no=(~e.myopathic).fill_null(False).any(),
    )
    parts = [person, onsets, first_condition, first_high, peak, status]
    parts += [first_statin, last_stop, first_cancer, deaths, period, emgs]
    t = _joined(who, parts)

    birth = ibis.cases(
        (t.birth_datetime.notnull(), t.birth_datetime),
        else_=ibis.date(
            t.year_of_birth,
            t.month_of_birth.fill_null(MISSING_MONTH),
            ibis.cases((t.month_of_birth.isnull(), 1), else_=t.day_of_birth.fill_null(MISSING_DAY)),
        ),
    )
    prior = (t.onset_date - t.period_start).cast("int64")
    return t.select(
        patient_id=t.person_id.cast("string"),
        sex=ibis.cases(
            (t.gender_concept_id == FEMALE, "female"),
            (t.gender_concept_id == MALE, "male"),
            else_="unknown",
        ),
        birth_date=birth,
        onset_date=t.onset_date,
        diagnosis_date=t.first_condition,
        last_followup_date=_earlier(t.period_end, t.death_date),
        death_date=t.death_date,
        ck_peak=t.ck_peak,
        ck_uln=t.ck_uln,
        anti_hmgcr=t.anti_hmgcr,
        anti_srp=t.anti_srp,
        other_msa=ibis.cases(
            (t.named.notnull(), t.named), (t.tested.notnull(), "none"), else_=ibis.null("string")
        ),
        statin_exposed=ibis.cases(
            (t.statin_start_date.isnull(), False),
            (t.onset_date.isnull(), ibis.null("boolean")),
            else_=t.statin_start_date <= t.onset_date,
        ),
        statin_name=t.statin_name,
        statin_start_date=t.statin_start_date,
        statin_stop_date=t.statin_stop_date,
        cancer_date=t.cancer_date,
        cancer_icd10=t.cancer_icd10,
        emg_myopathic=ibis.cases(
            (t.emg_yes.fill_null(False), True),
            (t.emg_no.fill_null(False), False),
            else_=ibis.null("boolean"),
        ),
        omop_onset_source=ibis.cases(
            (t.onset_date.isnull(), ibis.null("string")),
            (t.onset_date == t.first_condition, "condition"),
            else_="ck",
        ),
        omop_prior_observation_days=prior,
        omop_incident=prior >= options.lookback_days,
    )


def event_tables(rows: Mapping[str, ir.Table]) -> dict[str, ir.Table]:
    """The event tables of contract section 6, for the candidates only.

    * ``visits``: one row per person and day with a CK: the day's highest CK in U/L and
      the highest range_high of that day.
    * ``antibody_tests``: one row per antibody measurement.
    * ``treatments``: one row per exposure to an immunosuppressant ingredient.
    * ``cancers``: one row per malignant neoplasm condition (the first and the later ones).
    """
    import ibis

    who = rows["candidates"] if "candidates" in rows else candidates(rows)

    def theirs(table: ir.Table) -> ir.Table:
        return table.semi_join(who, "person_id")

    ck = theirs(rows["ck_measurements"])
    ck = ck.filter(ck.ck.notnull())
    visits = ck.group_by(["person_id", "ck_date"]).agg(ck=ck.ck.max(), ck_uln=ck.ck_uln.max())
    visits = visits.select(
        patient_id=visits.person_id.cast("string"),
        visit_date=visits.ck_date,
        ck=visits.ck,
        ck_uln=visits.ck_uln,
    )
    tests = theirs(rows["antibody_measurements"])
    tests = tests.select(
        patient_id=tests.person_id.cast("string"),
        test_date=tests.test_date,
        antigen=tests.antigen,
        method=tests.method,
        value=tests.value,
        unit=tests.unit,
        cutoff=tests.cutoff,
        grade=ibis.null("string"),
        result=tests.result,
    )
    drugs = theirs(rows["immunosuppressant_exposures"])
    treatments = drugs.select(
        patient_id=drugs.person_id.cast("string"),
        drug=drugs.label,
        start_date=drugs.start_date,
        stop_date=drugs.stop_date,
        dose_mg_per_day=ibis.null("float64"),
    )
    cancers = theirs(rows["malignant_conditions"])
    cancers = cancers.select(
        patient_id=cancers.person_id.cast("string"),
        cancer_date=cancers.cancer_date,
        icd10=cancers.icd10,
    )
    return {
        "visits": visits,
        "antibody_tests": tests,
        "treatments": treatments,
        "cancers": cancers,
    }


#: The prefix of the CDM tables as the rules read them (lower-case names, CDM v5.4 types):
#: ``cdm_person`` is the database's person table so read.
CDM_PREFIX = "cdm_"
#: The tables the source fetches, in order.
OUTPUTS = ("patients", "visits", "antibody_tests", "treatments", "cancers")


#: Compiled derivations by their inputs (compiling takes seconds; the SQL depends only on
#: the concept sets, the options, the ancestor fallback and the dialect).
_COMPILED: dict[tuple[str, OmopOptions, bool, str], dict[str, str]] = {}


def derivation_sql(
    sets: ConceptSets, options: OmopOptions, ancestor_rows: bool, dialect: str
) -> dict[str, str]:
    """Every step of the derivation as its own SQL statement, by name, in order.

    Each row rule (:data:`ROW_RULES`) reads the ``cdm_*`` tables; ``candidates`` reads the
    row rules; each output (:data:`OUTPUTS`) reads the ``cdm_*`` tables, the row rules and
    ``candidates``. Run as one statement, each step is a common table expression of the
    next (:func:`with_steps`); ``docs/omop.md`` shows these same statements.
    """
    key = (repr(sets), options, ancestor_rows, dialect)
    if key not in _COMPILED:
        _COMPILED[key] = _compile(sets, options, ancestor_rows, dialect)
    return dict(_COMPILED[key])


def _compile(
    sets: ConceptSets, options: OmopOptions, ancestor_rows: bool, dialect: str
) -> dict[str, str]:
    import ibis

    from imnm_cohort.sources.omop_rules import CDM_COLUMNS

    cdm = Cdm(
        {t: ibis.table(c, name=f"{CDM_PREFIX}{t}") for t, c in CDM_COLUMNS.items()},
        ancestor_rows,
    )
    built = row_tables(cdm, sets)
    steps = {name: ibis.to_sql(expr, dialect=dialect) for name, expr in built.items()}
    named = {name: ibis.table(expr.schema(), name=name) for name, expr in built.items()}
    who = candidates(named)
    steps["candidates"] = ibis.to_sql(who, dialect=dialect)
    named["candidates"] = ibis.table(who.schema(), name="candidates")
    steps["patients"] = ibis.to_sql(patient_rows(cdm, named, options), dialect=dialect)
    for name, expr in event_tables(named).items():
        steps[name] = ibis.to_sql(expr, dialect=dialect)
    return steps


def with_steps(steps: Mapping[str, str], final: str, dialect: str) -> str:
    """One statement: the steps other than the outputs as common table expressions, then
    ``final``'s own SQL (``dialect`` is sqlglot's: ``duckdb``, ``postgres``, ``spark``)."""
    import sqlglot as sg

    before = [n for n in steps if n not in OUTPUTS and n != final]
    ctes = ",\n".join(
        f"{sg.to_identifier(n, quoted=True).sql(dialect)} AS (\n{steps[n]}\n)"
        for n in [*before, final]
    )
    # ``final`` is a CTE too: its own SQL may begin with a WITH of its own.
    return f"WITH {ctes}\nSELECT * FROM {sg.to_identifier(final, quoted=True).sql(dialect)}"
