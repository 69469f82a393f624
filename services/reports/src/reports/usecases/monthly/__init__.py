"""The monthly report as data: every figure computed from the read model for one month in the
business time zone, whole company or filtered by product line, region (the dealer's) or dealer.

Which tickets a figure counts is one predicate (`FIGURES`), used both for the figure and for its
drill-down list, so the list behind a figure always has as many tickets as the figure says.

One module a part of the report; every name callers use is importable from
`reports.usecases.monthly`:
- scope: the month's window and the filters, the read model's tables and the shared names;
- loading: the month's tickets, SLA events, reopenings and backlog (`load_month`);
- figures: which tickets a figure counts (`FIGURES`) and the drill-down (`tickets_behind`);
- ticket_sections: volume, failures, Pareto, complaints, SLA, first response, times, backlog;
- fact_sections: satisfaction, engineers, dealers, follow-ups, corrective actions;
- report: the definitions, the headline and its changes, the whole report (`monthly_report`).
"""

from .figures import FIGURES, figure_tickets, tickets_behind
from .loading import MonthData, load_month
from .report import DEFINITIONS, changes_section, headline, monthly_report
from .scope import Filters, Scope, scope_of
