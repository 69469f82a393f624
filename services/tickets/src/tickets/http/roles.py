"""Which roles each group of endpoints admits (the guards; finer rules live in the use cases)."""

from aftersales_shared.auth import Role

READERS = (
    Role.SERVICE_AGENT,
    Role.SERVICE_SUPERVISOR,
    Role.ENGINEER,
    Role.DEALER,
    Role.MANAGER,
    Role.TECHNICAL,
)
INTAKE = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.DEALER, Role.PARTNER)
HANDLERS = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.ENGINEER, Role.DEALER)
DESK = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR)
# who writes knowledge articles from completed tickets (the technical department reviews them)
AUTHORS = (Role.ENGINEER, Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.TECHNICAL)
