"""The derivation rules of the OMOP source: each a function from CDM tables to an ibis
expression, run in the database.

Every rule here is documented in ``docs/omop.md`` with the SQL it compiles to
(:mod:`imnm_cohort.sources.omop_docs` writes that SQL, and a test checks that the page and
the code agree). The tables the rules read are :class:`Cdm`'s: the CDM's own tables with
lower-case column names and the types of CDM v5.4 (a number stored as text is read as a
number where it is one, as OHDSI's GiBleed sample needs), so the same rules run on CDM v5.3
and v5.4, on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from imnm_cohort.sources.omop_concepts import EMG_LABELS, ConceptSet, ConceptSets

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Onset rules (``[input] onset_rule``).
ONSET_RULES = ("first_of", "condition", "ck")
#: OMOP gender concepts (the CDM's Gender domain).
FEMALE, MALE = 8532, 8507
#: A missing month of birth is read as July, a missing day as the 15th (the middle, so
#: that the age is off by at most half a year or half a month).
MISSING_MONTH, MISSING_DAY = 7, 15

#: The CDM columns the rules read, by table, with the type each is read as.
CDM_COLUMNS: dict[str, dict[str, str]] = {
    "person": {
        "person_id": "int64",
        "gender_concept_id": "int64",
        "year_of_birth": "int64",
        "month_of_birth": "int64",
        "day_of_birth": "int64",
        "birth_datetime": "date",
    },
    "observation_period": {
        "person_id": "int64",
        "observation_period_start_date": "date",
        "observation_period_end_date": "date",
    },
    "condition_occurrence": {
        "person_id": "int64",
        "condition_concept_id": "int64",
        "condition_start_date": "date",
        "condition_source_value": "string",
        "condition_source_concept_id": "int64",
    },
    "measurement": {
        "person_id": "int64",
        "measurement_concept_id": "int64",
        "measurement_date": "date",
        "operator_concept_id": "int64",
        "value_as_number": "float64",
        "value_as_concept_id": "int64",
        "unit_concept_id": "int64",
        "range_high": "float64",
        "measurement_source_value": "string",
        "unit_source_value": "string",
    },
    "drug_exposure": {
        "person_id": "int64",
        "drug_concept_id": "int64",
        "drug_exposure_start_date": "date",
        "drug_exposure_end_date": "date",
    },
    "death": {"person_id": "int64", "death_date": "date"},
    "concept": {
        "concept_id": "int64",
        "concept_name": "string",
        "vocabulary_id": "string",
        "concept_code": "string",
    },
    "concept_relationship": {
        "concept_id_1": "int64",
        "concept_id_2": "int64",
        "relationship_id": "string",
    },
    "concept_ancestor": {"ancestor_concept_id": "int64", "descendant_concept_id": "int64"},
}
#: The vocabulary tables (in ``vocabulary_schema``); the others are in ``cdm_schema``.
VOCABULARY_TABLES = ("concept", "concept_relationship", "concept_ancestor")


#: Statin exposure windows: exposed time from the first statin on ("ever": onset during or
#: after exposure), or within exposure eras only ("current").
STATIN_WINDOWS = ("ever", "current")


@dataclass(frozen=True)
class StatinOptions:
    """The statin-population choices of ``[input.omop]``, recorded in the manifest.

    Attributes
    ----------
    persistence_gap_days : int
        Two statin exposures at most this many days apart belong to one era (30, as OHDSI's
        drug_era).
    window : {"ever", "current"}
        See :data:`STATIN_WINDOWS`.
    """

    persistence_gap_days: int = 30
    window: str = "ever"

    def to_dict(self) -> dict[str, Any]:
        return {"persistence_gap_days": self.persistence_gap_days, "statin_window": self.window}


@dataclass(frozen=True)
class OmopOptions:
    """The study's choices, recorded in the manifest.

    Attributes
    ----------
    onset_rule : str
        ``first_of`` (default): the first myositis condition or the first CK above the
        threshold, whichever comes first; ``condition``: the first myositis condition only;
        ``ck``: the first CK above the threshold only.
    ck_threshold : float
        U/L; a CK counts for onset when it is strictly above it (default 1,000).
    lookback_days : int
        Days of observation before onset for the onset to count as incident (default 365):
        the patient table's ``omop_incident``.
    """

    onset_rule: str = "first_of"
    ck_threshold: float = 1000.0
    lookback_days: int = 365

    def to_dict(self) -> dict[str, Any]:
        return {
            "onset_rule": self.onset_rule,
            "ck_threshold_u_per_l": self.ck_threshold,
            "lookback_days": self.lookback_days,
        }


@dataclass(frozen=True)
class Cdm:
    """The CDM tables the rules read (ibis tables with :data:`CDM_COLUMNS`), and whether
    ``concept_ancestor`` has rows (without them, ingredients are found through
    ``concept_relationship``)."""

    tables: Mapping[str, ir.Table]
    ancestor_rows: bool = True
    notes: tuple[str, ...] = field(default=())

    def __getitem__(self, name: str) -> ir.Table:
        return self.tables[name]


# -- concept sets -----------------------------------------------------------------------


def _normalised(column: ir.StringValue) -> ir.StringValue:
    """A source value as codes are compared: upper case, without dots and white space."""
    return column.re_replace(r"[\s.]", "").upper()


def _starts_with_any(column: ir.StringValue, codes: tuple[str, ...]) -> ir.BooleanValue:
    """Whether the value, normalised, starts with one of the codes. The raw value is first
    tested for a code's three-character category (cheap: no string is rewritten for the
    many rows of other categories), so codes are expected in upper case, as ICD-10 writes
    them."""
    import ibis

    if not codes:
        return ibis.literal(False)
    categories = list(dict.fromkeys(code[:3] for code in codes))
    near = column.startswith(categories[0])
    for category in categories[1:]:
        near |= column.startswith(category)
    value = _normalised(column)
    test = value.startswith(codes[0])
    for code in codes[1:]:
        test |= value.startswith(code)
    return (near & test).fill_null(False)


def _label_case(column: ir.Value, pairs: list[tuple[tuple[Any, ...], str]]) -> ir.StringValue:
    """``CASE WHEN column IN (...) THEN label ...`` over (values, label) pairs, in order."""
    import ibis

    cases = [(column.isin(list(values)), label) for values, label in pairs if values]
    if not cases:
        return ibis.null("string")
    return ibis.cases(*cases, else_=ibis.null("string"))


def ingredient_concepts(cdm: Cdm, concept_set: ConceptSet) -> ir.Table:
    """Rule *ingredients*: every drug concept under a set's ingredients, with its label.

    With ``concept_ancestor`` rows: the descendants of each ingredient (the ingredient
    itself included, at level 0). Without them: the ingredients themselves, the drugs that
    RxNorm's ``RxNorm has ing`` relationship links to them, and the RxNorm concepts whose
    name contains the ingredient's name (RxNorm names a clinical drug by its ingredients:
    "simvastatin 20 MG Oral Tablet").
    """
    import ibis

    labels = concept_set.labels()
    pairs = [(concept_set.ids(label), label) for label in labels]
    ids = list(concept_set.ids())
    if cdm.ancestor_rows:
        ca = cdm["concept_ancestor"]
        return (
            ca.filter(ca.ancestor_concept_id.isin(ids))
            .select(
                concept_id=ca.descendant_concept_id,
                label=_label_case(ca.ancestor_concept_id, pairs),
            )
            .distinct()
        )
    cr = cdm["concept_relationship"]
    linked = cr.filter(cr.relationship_id == "RxNorm has ing", cr.concept_id_2.isin(ids)).select(
        concept_id=cr.concept_id_1, label=_label_case(cr.concept_id_2, pairs)
    )
    concept = cdm["concept"]
    themselves = concept.filter(concept.concept_id.isin(ids)).select(
        concept_id=concept.concept_id, label=_label_case(concept.concept_id, pairs)
    )
    named = concept.filter(concept.vocabulary_id.isin(["RxNorm", "RxNorm Extension"]))
    name = named.concept_name.lower()
    named = named.select(
        concept_id=named.concept_id,
        label=ibis.cases(
            *[(name.contains(c.name.lower()), c.label) for c in concept_set.concepts if c.name],
            else_=ibis.null("string"),
        ),
    )
    named = named.filter(named.label.notnull())
    return linked.union(themselves).union(named).distinct()


def drug_rows(cdm: Cdm, concept_set: ConceptSet) -> ir.Table:
    """Rule *drugs*: the drug exposures under a set's ingredients: ``person_id``,
    ``label`` (the ingredient's or drug's name), ``start_date``, ``stop_date``."""
    de = cdm["drug_exposure"]
    found = ingredient_concepts(cdm, concept_set)
    joined = de.join(found, de.drug_concept_id == found.concept_id)
    return joined.select(
        person_id=joined.person_id,
        label=joined.label,
        start_date=joined.drug_exposure_start_date,
        stop_date=joined.drug_exposure_end_date,
    )


def myositis_condition_rows(cdm: Cdm, sets: ConceptSets) -> ir.Table:
    """Rule *myositis condition*: condition occurrences whose source value starts with one
    of the set's ICD-10-CM codes, or whose source concept is such an ICD-10-CM concept, or
    whose standard concept is what such a source concept ``Maps to``, or whose standard or
    source concept is one of the set's own concepts (a site's SNOMED concept for a
    necrotizing myopathy, say): ``person_id``, ``condition_date``."""
    myositis = sets["myositis_conditions"]
    codes = myositis.codes()
    co, concept, cr = cdm["condition_occurrence"], cdm["concept"], cdm["concept_relationship"]
    sources = concept.filter(
        concept.vocabulary_id.isin(["ICD10CM", "ICD10"]),
        _starts_with_any(concept.concept_code, codes),
    )
    standard = cr.filter(
        cr.relationship_id == "Maps to", cr.concept_id_1.isin(sources.concept_id)
    ).concept_id_2
    test = (
        _starts_with_any(co.condition_source_value, codes)
        | co.condition_source_concept_id.isin(sources.concept_id).fill_null(False)
        | co.condition_concept_id.isin(standard).fill_null(False)
    )
    if ids := list(myositis.ids()):  # no empty IN (): not every dialect accepts it
        test |= co.condition_concept_id.isin(ids) | co.condition_source_concept_id.isin(ids)
        test = test.fill_null(False)
    matched = co.filter(test)
    return matched.select(person_id=matched.person_id, condition_date=matched.condition_start_date)


def _as_written(concept_set: ConceptSet, label: str | None = None) -> list[str]:
    """A set's source codes as written (a measurement's source value is compared as it is:
    an exact match is an index or hash lookup, where rewriting every value of a table of
    tens of millions of rows is not)."""
    found = (s.code for s in concept_set.source_codes if label is None or s.label == label)
    return list(dict.fromkeys(found))


def _operator(sets: ConceptSets, m: ir.Table) -> ir.StringValue:
    ops = sets["measurement_values"].operators
    return _label_case(m.operator_concept_id, [((cid,), op) for op, cid in ops.items()])


def ck_rows(cdm: Cdm, sets: ConceptSets) -> ir.Table:
    """Rule *CK*: creatine kinase measurements (by concept, or by the LOINC code as written
    in the source value), converted to U/L: ``person_id``, ``ck_date``, ``ck`` (U/L; NULL
    for a value given as ``<`` or ``<=`` a bound, a missing value or an unknown unit), ``ck_uln``
    (range_high in U/L), ``operator``.

    The unit is read from ``unit_concept_id``, else from ``unit_source_value``; a value
    with the operator ``>`` or ``>=`` counts at its bound (the true value is at least that).
    Converted values are rounded to 3 decimals (no float noise such as 192.00000000000003).
    """
    import ibis

    ck = sets["creatine_kinase"]
    m = cdm["measurement"]
    found = m.filter(
        m.measurement_concept_id.isin(list(ck.ids())).fill_null(False)
        | m.measurement_source_value.isin(_as_written(ck)).fill_null(False)
    )
    by_concept = [(found.unit_concept_id == u.concept_id, u.to_u_per_l) for u in ck.units]
    by_text = [
        (found.unit_source_value.re_replace(r"\s", "").isin(list(u.source_values)), u.to_u_per_l)
        for u in ck.units
        if u.source_values
    ]
    factor = ibis.cases(*by_concept, *by_text, else_=ibis.null("float64"))
    operator = _operator(sets, found)
    below = operator.isin(["<", "<="]).fill_null(False)
    value = ibis.cases(
        (below, ibis.null("float64")), else_=(found.value_as_number * factor).round(3)
    )
    return found.select(
        person_id=found.person_id,
        ck_date=found.measurement_date,
        ck=value,
        ck_uln=(found.range_high * factor).round(3),
        operator=operator,
        unit_known=factor.notnull(),
    )


def antibody_rows(cdm: Cdm, sets: ConceptSets) -> ir.Table:
    """Rule *antibodies*: myositis antibody measurements by concept, by LOINC code in the
    source value, or by a concept of vocabulary LOINC whose code is one of the set's LOINC
    source codes (a site's own or a newer vocabulary's concept for the test): ``person_id``,
    ``test_date``, ``antigen``, ``method``, ``value``, ``unit``,
    ``cutoff`` (range_high), ``result``.

    The result: ``value_as_concept_id`` positive, negative or equivocal (weakly positive) by
    the value concepts of ``measurement_values``; else the value against range_high:
    positive above it (or at it with ``>``), negative at or below it (unless the operator is
    ``>`` or ``>=``); else NULL. A value given as ``<`` or ``<=`` a bound above range_high
    decides nothing.
    """
    import ibis

    antibodies, values = sets["myositis_antibodies"], sets["measurement_values"]
    m, concept = cdm["measurement"], cdm["concept"]
    ids = list(antibodies.ids())
    # A set's LOINC source code is found as a concept too: a site (or a newer vocabulary)
    # that maps the test to a LOINC concept the set does not list by id.
    loinc = concept.filter(
        concept.vocabulary_id == "LOINC", concept.concept_code.isin(_as_written(antibodies))
    ).select(loinc_id=concept.concept_id, loinc_code=concept.concept_code)
    m = m.left_join(loinc, m.measurement_concept_id == loinc.loinc_id)
    m = m.select(*[c for c in m.columns if c != "loinc_id"])
    found = m.filter(
        m.measurement_concept_id.isin(ids).fill_null(False)
        | m.measurement_source_value.isin(_as_written(antibodies)).fill_null(False)
        | m.loinc_code.notnull()
    )
    code = found.loinc_code.coalesce(found.measurement_source_value)
    antigen_cases = []
    method_cases = []
    for label in antibodies.labels():
        antigen_cases.append(
            (
                found.measurement_concept_id.isin(list(antibodies.ids(label))).fill_null(False)
                | code.isin(_as_written(antibodies, label)).fill_null(False),
                label,
            )
        )
    for c in antibodies.concepts:
        if c.method:
            method_cases.append((found.measurement_concept_id == c.id, c.method))
    for s in antibodies.source_codes:
        if s.method:
            method_cases.append((code == s.code, s.method))
    operator = _operator(sets, found)
    number, high = found.value_as_number, found.range_high
    upper = operator.isin([">", ">="]).fill_null(False)
    lower = operator.isin(["<", "<="]).fill_null(False)
    result = ibis.cases(
        (found.value_as_concept_id.isin(list(values.values["positive"])), "positive"),
        (found.value_as_concept_id.isin(list(values.values["negative"])), "negative"),
        (found.value_as_concept_id.isin(list(values.values["equivocal"])), "equivocal"),
        (number.isnull() | high.isnull(), ibis.null("string")),
        ((number > high) & ~lower, "positive"),
        ((operator == ">") & (number == high), "positive"),
        ((number <= high) & ~upper, "negative"),
        else_=ibis.null("string"),
    )
    return found.select(
        person_id=found.person_id,
        test_date=found.measurement_date,
        antigen=ibis.cases(*antigen_cases, else_=ibis.null("string")),
        method=ibis.cases(*method_cases, else_=ibis.null("string"))
        if method_cases
        else ibis.null("string"),
        value=number,
        unit=found.unit_source_value,
        cutoff=high,
        result=result,
    )


def emg_rows(cdm: Cdm, sets: ConceptSets) -> ir.Table:
    """Rule *EMG*: needle EMG studies with a coded result: measurements whose concept is one
    of the ``emg`` set's concepts labelled ``study`` or whose source value is one of its
    codes as written: ``person_id``, ``emg_date``, ``myopathic`` (true for a value concept
    labelled ``myopathic``, false for one labelled ``not_myopathic``, NULL for any other
    value or none: an "abnormal" study is not read as a myopathic one)."""
    import ibis

    study, myopathic_label, not_myopathic_label = EMG_LABELS
    emg = sets["emg"]
    m = cdm["measurement"]
    test = m.measurement_source_value.isin(_as_written(emg, study)).fill_null(False)
    if studies := list(emg.ids(study)):
        test |= m.measurement_concept_id.isin(studies).fill_null(False)
    found = m.filter(test)
    results = ((emg.ids(myopathic_label), True), (emg.ids(not_myopathic_label), False))
    cases = [
        (found.value_as_concept_id.isin(list(ids)).fill_null(False), value)
        for ids, value in results
        if ids
    ]
    myopathic = ibis.cases(*cases, else_=ibis.null("boolean")) if cases else ibis.null("boolean")
    return found.select(
        person_id=found.person_id, emg_date=found.measurement_date, myopathic=myopathic
    )


def cancer_rows(cdm: Cdm, sets: ConceptSets) -> ir.Table:
    """Rule *cancers*: condition occurrences whose ICD-10 source code (the source value,
    upper case without dots) falls in a range of ``malignant_neoplasms``: ``person_id``,
    ``cancer_date``, ``icd10`` (written with its dot after the category, ``C50.9``)."""
    import ibis

    co = cdm["condition_occurrence"]
    co = co.filter(co.condition_source_value.startswith("C").fill_null(False))
    code = _normalised(co.condition_source_value)
    category = code.substr(0, 3)
    ranges = sets["malignant_neoplasms"].ranges
    test = ibis.literal(False)
    for r in ranges:
        test |= (category >= r.low) & (category <= r.high)
    shaped = code.re_search(r"^[A-Z][0-9]{2}[0-9A-Z]{0,4}$").fill_null(False)
    found = co.filter(test.fill_null(False) & shaped)
    code = _normalised(found.condition_source_value)
    icd10 = ibis.cases((code.length() > 3, code.substr(0, 3) + "." + code.substr(3)), else_=code)
    return found.select(
        person_id=found.person_id, cancer_date=found.condition_start_date, icd10=icd10
    )
