"""The messaging tables' own Alembic history (outbox, inbox, dead letters, scheduled jobs, calendar
copies), written once for every service: each service's database runs it after the service's own
history, with its own version table (``alembic_version_messaging``). A change to these tables is one
revision here, not five copies.

The services' own histories created these tables before this history existed (that history stays as
it is); the first revision here creates them only where they are missing — a new service's database.
"""
