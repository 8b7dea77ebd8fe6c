"""Writing files safely: atomic tables and texts, and escaping for Markdown and HTML."""
