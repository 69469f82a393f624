"""The reports service: an analytical read model fed only by events, and the monthly report."""
