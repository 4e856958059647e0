"""Getting updates in (the inbox) and messages out (the outbox) without losing any."""
