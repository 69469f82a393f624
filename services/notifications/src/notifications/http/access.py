"""Who may read and who may change what the notifications API shows."""

from aftersales_shared.auth import Role

READERS = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.MANAGER)
WRITERS = (Role.SERVICE_SUPERVISOR, Role.MANAGER)
