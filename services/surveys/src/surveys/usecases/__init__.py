"""Use cases of the surveys service: one module per business process, fed by HTTP and by
messaging."""
