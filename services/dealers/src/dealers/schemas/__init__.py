"""HTTP request/response types of the dealers API, one module per area.

Not the event contracts, not the tables. The bases (`In`, `Out`, `Page[T]`, `ContactIn`, `Phone`)
are every service's, from `aftersales_shared.schemas`.
"""
