"""Use cases of the reports service: the read model fed by events (facts) and the monthly report
(monthly), one module per area."""
