"""The parts service: spare-parts master, stock per location, the movement ledger, reservations."""
