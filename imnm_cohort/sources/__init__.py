"""Where rows come from: files today (CSV, Excel, Parquet, SPSS, Stata, SAS), read as
text so that nothing is coerced before validation."""
