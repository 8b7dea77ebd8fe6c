"""Validation of an input table against its contract: valid rows, and every other row
quarantined with its reasons."""
