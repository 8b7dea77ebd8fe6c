"""``python -m imnm_cohort``: the command line."""

from imnm_cohort.cli import entry_point

if __name__ == "__main__":
    entry_point()
