"""Domain errors: raised by services, turned into a polite answer by the handler that called them."""


class DomainError(Exception):
    """Something the user asked for cannot be done; the handler explains why."""


class NotAllowed(DomainError):
    """The actor lacks the role for this."""


class NotFound(DomainError):
    """The thing named (a unit, a ticket) does not exist (a forged or stale button)."""


class Stale(DomainError):
    """The button belongs to a state that has moved on."""


class Refused(DomainError):
    """A rule says no, with the facts the answer should give (a distance, a time)."""

    def __init__(self, reason: str, **facts: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.facts = facts
