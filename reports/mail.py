"""Report emails: the message (subject, plain-text and HTML body, the PDF or HTML attached or a link) and
sending it through the mail server of one setting, `CAMPAIGN_LENS_SMTP_URL`:

    smtp://user:password@mail.example.com:587?from=reports@example.com     STARTTLS (the default), port 587
    smtps://user:password@mail.example.com?from=reports@example.com        TLS from the start, port 465
    smtp://relay.internal:25?starttls=0&from=reports@example.com           a local relay without TLS
    ...&timeout=30                                                         seconds per server reply (1-300)

User name and password are percent-encoded in the URL (`p%40ss` for `p@ss`). Every failure is a
`MailError` with one sentence that never contains the password, and says whether trying again later may
help (`temporary`: no answer, a refused connection, a 4xx reply) or not (a 5xx reply, wrong credentials).
"""

from __future__ import annotations

import email.utils
import html
import re
import smtplib
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from metrics.errors import CampaignLensError
from reports.model import Report
from reports.schedule import ScheduleError, validate_address, validate_recipients

SETTING = "CAMPAIGN_LENS_SMTP_URL"
DEFAULT_TIMEOUT = 30.0
Security = Literal["starttls", "tls", "none"]
ATTACHMENT_TYPES = {"pdf": ("application", "pdf"), "html": ("text", "html")}
TILES_IN_EMAIL = 5


class MailError(CampaignLensError):
    """A report email that could not be sent (or a mail setting that cannot be used): one sentence."""

    def __init__(self, message: str, *, temporary: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse the URL (see the module docstring); refuse what cannot work with one sentence."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise MailError(f"{SETTING} is not a URL like smtp://user:password@host:587?from=reports@example.com.") \
                from None
        if parts.scheme not in ("smtp", "smtps"):
            raise MailError(f"{SETTING} must start with smtp:// or smtps://.")
        if not parts.hostname:
            raise MailError(f"{SETTING} names no mail server host.")
        options = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = sorted(set(options) - {"from", "starttls", "timeout"})
        if unknown:
            raise MailError(f"{SETTING} has an unknown option {unknown[0]!r}; use from, starttls or timeout.")
        if not options.get("from"):
            raise MailError(f"{SETTING} needs the sender address, e.g. ?from=reports@example.com.")
        try:
            sender = validate_address(options["from"])
        except ScheduleError:
            raise MailError(f"The sender address in {SETTING} is not an address like reports@example.com.") from None
        security: Security = "tls" if parts.scheme == "smtps" else "starttls"
        if parts.scheme == "smtp" and options.get("starttls", "1").lower() in ("0", "false", "no", "off"):
            security = "none"
        try:
            timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
        except ValueError:
            timeout = -1.0
        if not 1 <= timeout <= 300:
            raise MailError(f"The timeout in {SETTING} must be between 1 and 300 seconds.")
        default_port = {"tls": 465, "starttls": 587, "none": 25}[security]
        return cls(
            host=parts.hostname, port=port or default_port, sender=sender, security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None, timeout=timeout,
        )


def smtp_settings(environ: Mapping[str, str] | None = None) -> SmtpSettings:
    """The mail server from the settings object (`models.settings`); a MailError when email is not set up."""
    from models.settings import load_settings

    url = load_settings(environ).smtp_url
    if not url:
        raise MailError(f"Email delivery is not set up; set {SETTING}, e.g. "
                        "smtp://user:password@mail.example.com:587?from=reports@example.com.")
    return SmtpSettings.from_url(url)


# --- the message -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    format: Literal["pdf", "html"]


def report_attachment(report: Report, format: Literal["pdf", "html"]) -> Attachment:
    """The report rendered as a file to attach, named after its title."""
    from reports import render_file, report_file_name

    return Attachment(report_file_name(report.cover.title, format), render_file(report, format), format)


def build_email(report: Report, *, sender: str, recipients: Iterable[str], attachment: Attachment | None = None,
                link: str | None = None, message_id: str | None = None) -> EmailMessage:
    """The email of a report: subject "Title · period", a plain-text and an HTML body with the headline and
    the first KPI tiles, and either the file attached or a link to it (an http(s) URL).

    `message_id` lets a delivery that is retried carry the same Message-ID, so mail systems can spot a
    duplicate."""
    if (attachment is None) == (link is None):
        raise ValueError("a report email carries either an attachment or a link")
    if link is not None and not re.fullmatch(r"https?://[^\s<>\"']+", link):
        raise MailError("The report link is not an http(s) address; check CAMPAIGN_LENS_PUBLIC_URL.")
    addresses = validate_recipients(recipients)
    cover = report.cover
    message = EmailMessage()
    message["Subject"] = " ".join(f"{cover.title} · {cover.period}".split())  # no line break can add a header
    message["From"] = validate_address(sender)
    message["To"] = ", ".join(addresses)
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = message_id or email.utils.make_msgid(domain=sender.rsplit("@", 1)[1])
    lines, figures = _summary(report)
    where = (f"The report is attached: {attachment.filename}." if attachment else f"Open the report: {link}")
    footer = report.branding.footer
    message.set_content("\n".join([*lines, "", report.headline, "", *figures, "", where, "", f"— {footer}", ""]))
    message.add_alternative(_html_body(report, lines, figures, attachment, link), subtype="html")
    if attachment is not None:
        maintype, subtype = ATTACHMENT_TYPES[attachment.format]
        # The HTML file is UTF-8: say so, or mail programs that show it inline read it as ASCII.
        params = {"charset": "utf-8"} if attachment.format == "html" else {}
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename,
                               params=params)
    return message


def _summary(report: Report) -> tuple[list[str], list[str]]:
    cover = report.cover
    lines = [cover.title]
    if cover.client:
        lines.append(f"Prepared for {cover.client}")
    lines.append(f"Period: {cover.period}" + (f" (compared with {cover.comparison})" if cover.comparison else ""))
    figures = [f"{t.label}: {t.exact}" + (f" ({t.change})" if t.change else "") for t in report.tiles[:TILES_IN_EMAIL]]
    return lines, figures


def _html_body(report: Report, lines: list[str], figures: list[str], attachment: Attachment | None,
               link: str | None) -> str:
    escape = html.escape
    accent = report.branding.accent  # validated #RRGGBB
    heading, *details = lines
    where = (f"<p>The report is attached: <b>{escape(attachment.filename)}</b>.</p>" if attachment else
             f'<p><a href="{escape(link or "")}" style="color:{accent}">Open the report</a></p>')
    items = "".join(f"<li>{escape(f)}</li>" for f in figures)
    return (
        '<!DOCTYPE html><html><body style="font-family:Arial,sans-serif;color:#212529">'
        f'<h2 style="color:{accent};margin:0 0 4px">{escape(heading)}</h2>'
        + "".join(f'<p style="margin:0;color:#495057">{escape(d)}</p>' for d in details)
        + f'<p style="font-weight:bold;margin:16px 0">{escape(report.headline)}</p>'
        + (f"<ul>{items}</ul>" if items else "") + where
        + f'<p style="color:#868e96;font-size:12px">{escape(report.branding.footer)}</p></body></html>'
    )


# --- sending ---------------------------------------------------------------------------------------------


def send(message: EmailMessage, smtp: SmtpSettings) -> dict[str, str]:
    """Send `message` to its To addresses. Returns the addresses the server refused (address → reply) when
    it accepted others; raises MailError when nothing was sent."""
    server_name = f"{smtp.host}:{smtp.port}"
    context = ssl.create_default_context()
    try:
        if smtp.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=context)
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            refused = client.send_message(message)
    except smtplib.SMTPNotSupportedError:
        raise MailError(f"The mail server at {server_name} does not offer STARTTLS; use smtps:// or, for a "
                        f"local relay only, ?starttls=0 in {SETTING}.") from None
    except smtplib.SMTPAuthenticationError:
        raise MailError(f"The mail server at {server_name} refused the user name or password in {SETTING}.") \
            from None
    except smtplib.SMTPSenderRefused as error:
        reply = _reply(error.smtp_code, error.smtp_error)
        raise MailError(f"The mail server refused the sender {smtp.sender} ({reply}).",
                        temporary=_temporary(error.smtp_code)) from None
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        first = next(iter(error.recipients.items()))
        raise MailError(f"The mail server refused every recipient ({first[0]}: {_reply(*first[1])}).",
                        temporary=all(_temporary(c) for c in codes)) from None
    except smtplib.SMTPResponseException as error:
        raise MailError(f"The mail server at {server_name} answered {_reply(error.smtp_code, error.smtp_error)}.",
                        temporary=_temporary(error.smtp_code)) from None
    except (TimeoutError, socket.timeout):
        raise _no_answer(server_name, smtp.timeout) from None
    except smtplib.SMTPServerDisconnected as error:
        if "timed out" in str(error):  # smtplib reports a reply that never came as a lost connection
            raise _no_answer(server_name, smtp.timeout) from None
        raise MailError(f"The mail server at {server_name} closed the connection; try again later.",
                        temporary=True) from None
    except ssl.SSLError as error:
        raise MailError(f"The TLS connection to the mail server at {server_name} failed ({error.reason or error}).",
                        temporary=False) from None
    except (smtplib.SMTPException, OSError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise MailError(f"Could not reach the mail server at {server_name} ({reason}); try again later.",
                        temporary=True) from None
    return {address: _reply(code, text) for address, (code, text) in refused.items()}


def _no_answer(server_name: str, timeout: float) -> MailError:
    return MailError(f"The mail server at {server_name} did not answer within {timeout:g} seconds; try again "
                     "later.", temporary=True)


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())[:120]}"


def _temporary(code: int) -> bool:
    return 400 <= code < 500
