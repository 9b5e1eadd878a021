"""A local SMTP server for tests (aiosmtpd on 127.0.0.1), keeping what it receives.

    with smtp_server() as (inbox, port):
        ...  # smtp://127.0.0.1:{port}?starttls=0&from=... ; inbox.messages holds the parsed emails

Addresses at `refused.example` are refused (550); set `inbox.refuse_data` to a reply such as
"421 4.3.0 Try again later" to refuse every message until it is set back to None, and `inbox.delay`
to make each message take that many seconds (so concurrent senders overlap).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []
        self.refuse_data: str | None = None
        self.delay = 0.0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.envelopes.append(envelope)
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]


@contextmanager
def smtp_server(inbox: Inbox | None = None, **options) -> Iterator[tuple[Inbox, int]]:
    """Start a plain SMTP server (no TLS) on a free local port; `options` go to aiosmtpd's Controller."""
    inbox = inbox or Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()
