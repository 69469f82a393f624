"""HTTP request/response types of the dealers API (not the event contracts, not the tables), one module per area.

The bases (`In`, `Out`, `Page[T]`, `ContactIn`, `Phone`) are every service's, from `aftersales_shared.schemas`.
"""
