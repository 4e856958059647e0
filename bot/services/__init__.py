"""Use cases: each takes the update's session, calls storage and writes outbox rows."""
