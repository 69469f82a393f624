"""Use cases of the parts service: one function per thing a user does."""
