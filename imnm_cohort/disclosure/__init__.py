"""Disclosure control for aggregate outputs: declarations of what each number is, the
policy, suppression, and the reader's system that checks nothing withheld can be worked out.

The bottom layer of the package: it imports nothing of the toolkit but the vocabulary."""
