"""HTTP request/response types of the contracts API (not the event contracts, not the tables), one
module per area.

The bases (`In`, `Out`, `Page[T]`, `ContactIn`) are every service's, from
`aftersales_shared.schemas`.
"""
