"""Where rows come from: files (CSV, Excel, Parquet, SPSS, Stata, SAS) and a REDCap project
over its API (:mod:`imnm_cohort.sources.redcap`), read as text so that nothing is coerced
before validation."""
