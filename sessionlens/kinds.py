"""The kinds of things Sessionlens knows: plans, roles, channels, modes, author kinds, markers, log
kinds and job states.

They belong to the domain (the screens need them as much as the tables do), and this module
imports nothing, so every layer may use it: ``db/models.py`` stores them as plain strings.
"""

from __future__ import annotations

import enum


class Plan(enum.StrEnum):
    FREE = "free"
    PAID = "paid"


class Role(enum.StrEnum):
    ADMIN = "admin"
    LEAD = "lead"
    OPERATOR = "operator"
    VIEWER = "viewer"
    USER = "user"  # signed in, but no access to sessions until an admin grants a role


class Channel(enum.StrEnum):
    WEB = "web"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    EMAIL = "email"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    INTERCOM = "intercom"
    CHATWOOT = "chatwoot"
    SIP = "sip"
    TWILIO = "twilio"
    INFOBIP = "infobip"
    BIRD = "bird"
    MOBILE = "mobile"


class Mode(enum.StrEnum):
    """Who drives the conversation: the AI, a human agent, or a human agent helped by Copilot."""

    AI = "ai"
    HUMAN = "human"
    COPILOT = "copilot"


class Initiator(enum.StrEnum):
    CLIENT = "client"
    AI = "ai"
    HUMAN = "human"


class AuthorKind(enum.StrEnum):
    CUSTOMER = "customer"
    AI = "ai"
    HUMAN = "human"
    COPILOT_DRAFT = "copilot_draft"
    PRIVATE_NOTE = "private_note"
    SYSTEM = "system"


class SystemEvent(enum.StrEnum):
    STARTED = "started"
    TRANSFER = "transfer"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class HandoffTrigger(enum.StrEnum):
    """What asked for a handover: a person in the console, the agent runtime's own rule, or the
    customer (the last two come through the API)."""

    MANUAL = "manual"
    AUTOMATIC = "automatic"
    CUSTOMER_REQUEST = "customer_request"


class LogKind(enum.StrEnum):
    SYSTEM = "system"
    TRACE = "trace"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    #: Taken off the queue by an operator (`sessionlens jobs cancel`); its audio is kept.
    CANCELLED = "cancelled"
