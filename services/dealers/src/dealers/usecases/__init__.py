"""Use cases of the dealers service: one module per business process (see each docstring)."""
