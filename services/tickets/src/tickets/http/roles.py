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
# finance also reads one ticket and its progress log (GET /tickets/{no}, …/progress: what it
# invoices), never the lists, the queue or the search — see access.visible_to
INTAKE = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.DEALER, Role.PARTNER)
HANDLERS = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.ENGINEER, Role.DEALER)
DESK = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR)
# the fault catalogue and ticket analyses: the technical department and supervisors
QUALITY_EDITORS = (Role.TECHNICAL, Role.SERVICE_SUPERVISOR)
# classifications and the audit trail: company staff, never dealers, engineers or customers
STAFF = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.MANAGER, Role.TECHNICAL)
# corrective actions are read by the departments that own them, too
ACTION_READERS = (*STAFF, Role.DELIVERY, Role.SALES, Role.SALES_MANAGER)
# who writes knowledge articles from completed tickets (the technical department reviews them)
AUTHORS = (Role.ENGINEER, Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.TECHNICAL)
# complaints: the service desk and management take the steps and record the customer's answer;
# supervisors and management change a complaint's level and owner
COMPLAINT_DESK = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.MANAGER)
COMPLAINT_LEADS = (Role.SERVICE_SUPERVISOR, Role.MANAGER)
