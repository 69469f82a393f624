"""Test support shared by every Aftersales service's tests: fixtures (pytest plugin), clock, NATS
users, helpers."""
