"""Complaints as a process (投诉处理, seeds 002 第九条 and 000 投诉处理确认书): every complaint
ticket has a complaint record from the moment it is opened — its level, its owner (a supervisor,
never nobody) and the clocks of its steps: acknowledgement → the time limit told to the customer →
investigation (findings) → a proposed resolution, which the customer accepts or rejects through a
single-use link (or staff record the answer: who, when, how). A rejection escalates: one level up
(a serious complaint goes to management) and the clocks restart for a new proposal. Each missed
step is announced once (ComplaintOverdue); a complaint ticket is completed only after an accepted
resolution.

One module a part of the process; every name callers use is importable from
`tickets.usecases.complaints`:
- opening: the record written with the ticket, owners, level changes, reassignment;
- clock: the step clocks, their scheduled jobs and the overdue announcement;
- steps: acknowledgement, the time limit, findings, the proposal and its link;
- answers: the customer's answer as staff record it, escalation, completion with the ticket;
- link: the confirmation page (投诉处理确认书) behind the link, its form and signature;
- reading: one complaint, the list, overdue steps, signatures, the audit trail.
"""

from .answers import CustomerAnswer, close_with_ticket, record_answer, reopen_with_ticket
from .clock import STEP_DUE, job_key, step_overdue
from .link import (
    LINK_ACTOR,
    REASON_MAX,
    SIGNER_MAX,
    LinkExpired,
    LinkSuperseded,
    LinkUnknown,
    LinkUsed,
    PageAnswer,
    PageAnswerInvalid,
    answer_by_link,
    by_token,
    check_link_open,
    confirmation_content,
    open_link,
    validate_page_answer,
)
from .opening import (
    NewComplaint,
    change_level,
    check_owner,
    intake_owner,
    open_complaints,
    reassign,
)
from .reading import (
    ENTITY,
    ComplaintFilters,
    get_complaint,
    history,
    list_complaints,
    overdue_stages,
    signatures,
)
from .steps import LimitTold, acknowledge, propose, record_findings, tell_limit
