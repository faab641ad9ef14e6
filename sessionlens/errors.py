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


#: What a person reads when the database cannot be reached or refused (down, restarting, a wrong
#: URL): not their doing, and trying again in a moment may be all it takes. The pages and the
#: sign-in form both say it; the details go to the server log.
DATABASE_UNAVAILABLE = (
    "Sessionlens cannot use its database just now. Reload the page in a moment, and tell your "
    "administrator if it goes on; the server log says why."
)
