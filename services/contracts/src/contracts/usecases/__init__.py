"""Use cases of the contracts service, one module per business process: each an async function
taking the session, a command, the actor, `now` (time is an input) and whatever else it needs."""
