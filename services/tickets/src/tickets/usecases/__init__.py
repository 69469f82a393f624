"""Use cases of the tickets service: one module per business process, fed by HTTP and by events
alike."""
