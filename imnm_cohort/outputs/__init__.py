"""Output formats of a run: one writer per format, in one registry.

:data:`~imnm_cohort.outputs.registry.FORMATS` maps each format name that a pipeline file may
list under ``[output] formats`` to its writer. A new format is one new module and one entry
there. Writers receive the run's :class:`~imnm_cohort.outputs.registry.RunOutputs`: the
disclosure-controlled summary and the report built from it; only the ``csv`` writer sees the
patient-level tables.
"""

from imnm_cohort.outputs.registry import FORMATS, OutputFormat, RunOutputs, write_outputs

__all__ = ["FORMATS", "OutputFormat", "RunOutputs", "write_outputs"]
