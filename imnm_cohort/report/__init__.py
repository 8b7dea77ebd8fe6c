"""Disclosure control, figures and rendering of a run's aggregate results."""

# Sections that register themselves with the renderer.
from imnm_cohort.report import cancer_sections as cancer_sections
from imnm_cohort.report import course_tables as course_tables
from imnm_cohort.report import statin_table as statin_table
from imnm_cohort.report import titre_tables as titre_tables
