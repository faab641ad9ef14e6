"""The channel catalogue: display name and icon of each channel kind of the spec."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Channel


@dataclass(frozen=True)
class ChannelInfo:
    kind: str
    name: str
    icon: str  # an emoji: icon fonts are not loaded inside the grid's iframe


CHANNELS: dict[str, ChannelInfo] = {
    c.kind: c
    for c in (
        ChannelInfo(Channel.WEB, "Web", "🌐"),
        ChannelInfo(Channel.WHATSAPP, "WhatsApp", "🟢"),
        ChannelInfo(Channel.TELEGRAM, "Telegram", "✈️"),
        ChannelInfo(Channel.EMAIL, "Email", "✉️"),
        ChannelInfo(Channel.FACEBOOK, "Facebook", "📘"),
        ChannelInfo(Channel.INSTAGRAM, "Instagram", "📸"),
        ChannelInfo(Channel.INTERCOM, "Intercom", "💠"),
        ChannelInfo(Channel.CHATWOOT, "Chatwoot", "🦉"),
        ChannelInfo(Channel.SIP, "Sip (voice)", "📞"),
        ChannelInfo(Channel.TWILIO, "Twilio", "☎️"),
        ChannelInfo(Channel.INFOBIP, "Infobip", "📶"),
        ChannelInfo(Channel.BIRD, "Bird Api Service", "🐦"),
        ChannelInfo(Channel.MOBILE, "Mobile", "📱"),
    )
}

#: Channels whose sessions carry the customer's IP (and so a location).
WEB_CHANNELS = frozenset({Channel.WEB, Channel.MOBILE})
#: Channels whose sessions can carry a call recording.
VOICE_CHANNELS = frozenset({Channel.SIP, Channel.TWILIO})


def channel_info(kind: str) -> ChannelInfo:
    return CHANNELS.get(kind) or ChannelInfo(kind, kind.title(), "💬")
