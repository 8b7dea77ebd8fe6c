"""How the stages run over the data: in memory, or in batches of rows."""
