"""Table contracts: the columns, kinds, allowed values and date rules of each input table
(contract sections 1 and 6), and how raw text becomes typed values."""
