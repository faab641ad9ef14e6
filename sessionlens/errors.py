"""Domain errors. Pages turn them into one clear message; nothing is half-written when they occur."""


class DomainError(Exception):
    """Base of every error a user can be told about. ``str(err)`` is the message for the user."""


class NotFound(DomainError):
    """The thing does not exist, or belongs to another tenant (the two look the same)."""


class PermissionDenied(DomainError):
    """The actor's role does not allow the action."""


class RuleViolation(DomainError):
    """The action is allowed but the current state forbids it (e.g. handing over a finished session)."""


class BadInput(DomainError):
    """A value the user gave cannot be used; the message names the value and what was wrong."""
