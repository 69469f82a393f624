"""Use cases of the notifications service: one module per process, fed by messaging, HTTP and the
worker."""
