"""Table contracts: the columns, kinds, allowed values, rules, key and unit of each input
table (:class:`~imnm_cohort.contracts.table.TableContract`): the patient table (contract
section 1, :mod:`~imnm_cohort.contracts.patients`), the reference-rate file
(:mod:`~imnm_cohort.contracts.rates`); and how raw text becomes typed values."""
