"""Where rows come from: the :class:`~imnm_cohort.sources.base.Source` protocol and the
registry of sources by ``[input] kind`` (:data:`~imnm_cohort.sources.base.SOURCES`): files
(CSV, Excel, Parquet, SPSS, Stata, SAS), DuckDB and SQL databases (through ibis) and a REDCap
project, each read as text so that nothing is coerced before validation."""
