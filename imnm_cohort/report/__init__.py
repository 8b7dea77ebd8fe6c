"""Rendering of a run's disclosure-controlled results: the report's sections and tables
(:mod:`~imnm_cohort.report.render`, :mod:`~imnm_cohort.report.manuscript`) and its figures
(:mod:`~imnm_cohort.report.figures`).

Importing the package imports nothing else: the modules that register sections are
listed in :data:`~imnm_cohort.report.render.SECTION_MODULES` and imported when the sections
are first read."""
