"""Report emails sent to a real SMTP server the test starts (aiosmtpd on 127.0.0.1), read back as the
recipient's mail program would, and every way sending fails turned into one sentence."""

from __future__ import annotations

import socket
from datetime import date

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from metrics.schema import conform
from reports import Branding, ReportOptions, build_report
from reports.mail import MailError, SmtpSettings, build_email, report_attachment, send, smtp_settings
from tests.smtp_server import free_port, smtp_server

SENDER = "reports@agency.example"
HOSTILE_TITLE = "<script>alert(1)</script> report"


@pytest.fixture
def server():
    """A plain SMTP server without STARTTLS that accepts user 'agency' with password 'p@ss word'."""

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"agency", b"p@ss word")
        return AuthResult(success=ok, handled=False)  # let the server send 235 or 535

    with smtp_server(authenticator=authenticate, auth_require_tls=False) as running:
        yield running


@pytest.fixture(scope="module")
def report():
    """A report without charts (its dates hold no rows), so no chart engine starts."""
    frame = conform(__import__("polars").DataFrame({"date": [date(2026, 5, 1)], "spend": [10.0]}))
    return build_report(frame, ReportOptions(title=HOSTILE_TITLE, client="Acme", date_from=date(2026, 6, 1),
                                             date_to=date(2026, 6, 30)), Branding(footer="Northwind Agency"))


def local(port: int, extra: str = "") -> SmtpSettings:
    return SmtpSettings.from_url(f"smtp://127.0.0.1:{port}?starttls=0&from={SENDER}&timeout=5{extra}")


def test_the_pdf_arrives_attached_with_a_summary(server, report):
    inbox, port = server
    attachment = report_attachment(report, "pdf")
    message = build_email(report, sender=SENDER, recipients=["client@acme.example", "boss@acme.example"],
                          attachment=attachment)
    assert send(message, local(port)) == {}
    [received] = inbox.messages
    assert received["Subject"] == f"{HOSTILE_TITLE} · 1 – 30 Jun 2026"
    assert received["From"] == SENDER and received["To"] == "client@acme.example, boss@acme.example"
    assert sorted(inbox.envelopes[0].rcpt_tos) == ["boss@acme.example", "client@acme.example"]
    text = received.get_body(("plain",)).get_content()
    assert report.headline in text and "attached: script-alert-1-script-report.pdf" in text
    html = received.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; report" in html
    [part] = list(received.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == attachment.filename
    assert part.get_content() == attachment.content and attachment.content.startswith(b"%PDF-")


def test_a_link_email_carries_the_link_and_no_file(server, report):
    inbox, port = server
    link = "https://reports.agency.example/?share=abc123"
    send(build_email(report, sender=SENDER, recipients=["client@acme.example"], link=link,
                     message_id="<delivery-42@agency.example>"), local(port))
    [received] = inbox.messages
    assert list(received.iter_attachments()) == []
    assert f"Open the report: {link}" in received.get_body(("plain",)).get_content()
    assert f'href="{link}"' in received.get_body(("html",)).get_content()
    assert received["Message-ID"] == "<delivery-42@agency.example>"  # a retried delivery keeps its id


def test_a_link_that_is_not_http_is_refused(report):
    with pytest.raises(MailError, match="not an http"):
        build_email(report, sender=SENDER, recipients=["client@acme.example"], link="javascript:alert(1)")


def test_login_with_the_urls_credentials(server, report):
    inbox, port = server
    message = build_email(report, sender=SENDER, recipients=["client@acme.example"], link="https://x.example/r")
    send(message, SmtpSettings.from_url(f"smtp://agency:p%40ss%20word@127.0.0.1:{port}?starttls=0&from={SENDER}"))
    assert len(inbox.messages) == 1
    with pytest.raises(MailError, match="refused the user name or password") as caught:
        send(message, SmtpSettings.from_url(f"smtp://agency:wrong-secret@127.0.0.1:{port}?starttls=0&from={SENDER}"))
    assert "wrong-secret" not in str(caught.value) and not caught.value.temporary
    assert len(inbox.messages) == 1


def test_some_refused_recipients_are_reported_and_the_rest_receive_it(server, report):
    inbox, port = server
    message = build_email(report, sender=SENDER, recipients=["client@acme.example", "gone@refused.example"],
                          link="https://x.example/r")
    assert send(message, local(port)) == {"gone@refused.example": "550 5.1.1 no such mailbox"}
    assert inbox.envelopes[0].rcpt_tos == ["client@acme.example"]
    only_refused = build_email(report, sender=SENDER, recipients=["gone@refused.example"], link="https://x.example/r")
    with pytest.raises(MailError, match="refused every recipient") as caught:
        send(only_refused, local(port))
    assert not caught.value.temporary  # a 5xx reply: trying again will not help


def test_starttls_is_required_unless_switched_off(server, report):
    inbox, port = server
    message = build_email(report, sender=SENDER, recipients=["client@acme.example"], link="https://x.example/r")
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        send(message, SmtpSettings.from_url(f"smtp://agency:p%40ss%20word@127.0.0.1:{port}?from={SENDER}"))
    assert inbox.messages == []  # the password never crossed an unencrypted connection


def test_a_server_that_does_not_answer_times_out_as_a_temporary_failure(report):
    with socket.socket() as silent:  # listens, never speaks: the greeting never comes
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        message = build_email(report, sender=SENDER, recipients=["client@acme.example"], link="https://x.example/r")
        with pytest.raises(MailError, match="did not answer within 1 seconds") as caught:
            send(message, SmtpSettings.from_url(f"smtp://127.0.0.1:{port}?starttls=0&from={SENDER}&timeout=1"))
    assert caught.value.temporary


def test_no_server_is_a_temporary_failure(report):
    message = build_email(report, sender=SENDER, recipients=["client@acme.example"], link="https://x.example/r")
    with pytest.raises(MailError, match="Could not reach the mail server") as caught:
        send(message, local(free_port()))
    assert caught.value.temporary


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://u:p%40ss@mail.example.com?from=r@example.com",
     dict(host="mail.example.com", port=587, security="starttls", username="u", password="p@ss")),
    ("smtps://mail.example.com?from=r@example.com", dict(port=465, security="tls", username=None)),
    ("smtp://relay:2525?starttls=0&from=r@example.com&timeout=7.5", dict(port=2525, security="none", timeout=7.5)),
    ("smtp://relay?starttls=0&from=r@example.com", dict(port=25)),
])
def test_the_smtp_url(url, expected):
    parsed = SmtpSettings.from_url(url)
    assert {key: getattr(parsed, key) for key in expected} == expected
    assert parsed.sender == "r@example.com"
    assert "p@ss" not in repr(parsed)


@pytest.mark.parametrize(("url", "phrase"), [
    ("http://mail.example.com?from=r@example.com", "must start with smtp:// or smtps://"),
    ("smtp://mail.example.com", "needs the sender address"),
    ("smtp://mail.example.com?from=not-an-address", "sender address"),
    ("smtp://mail.example.com?from=r@example.com&tls=1", "unknown option 'tls'"),
    ("smtp://mail.example.com?from=r@example.com&timeout=0", "between 1 and 300"),
    ("smtp://mail.example.com:99999?from=r@example.com", "is not a URL"),
    ("smtp://?from=r@example.com", "names no mail server"),
])
def test_an_unusable_smtp_url_is_refused_with_one_sentence(url, phrase):
    with pytest.raises(MailError, match=phrase):
        SmtpSettings.from_url(url)


def test_the_setting_is_read_from_the_environment():
    assert smtp_settings({"CAMPAIGN_LENS_SMTP_URL": "smtps://m.example.com?from=r@example.com"}).port == 465
    with pytest.raises(MailError, match="Email delivery is not set up; set CAMPAIGN_LENS_SMTP_URL"):
        smtp_settings({})
