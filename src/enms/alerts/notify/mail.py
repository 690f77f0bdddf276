"""The e-mail channel: one plain-text message per notification over SMTP, with retries.

Standard library only (``smtplib`` + ``email.message.EmailMessage``). Settings:
``ENMS_NOTIFICATIONS__SMTP_HOST`` / ``SMTP_PORT`` / ``SMTP_STARTTLS`` (upgrade the
connection before logging in) / ``SMTP_USERNAME`` + ``SMTP_PASSWORD`` (login when a user is
set) / ``EMAIL_FROM`` / ``EMAIL_TO``. Each attempt is bounded by
``WEBHOOK_TIMEOUT_SECONDS`` (the one network timeout setting). Connection failures,
timeouts and 4xx SMTP replies (temporary, RFC 5321) are retried like the webhook; 5xx
replies (permanent: recipient refused, authentication failed) are not.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from enms.alerts.notify.attempts import AttemptFailed, Outcome, with_retries


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to send (the password is never logged)."""

    host: str
    port: int
    starttls: bool
    username: str | None
    password: str | None
    sender: str
    recipients: tuple[str, ...]

    @property
    def logged_target(self) -> str:
        """The delivery log's target: the recipients and the server, no credentials."""
        return f"{', '.join(self.recipients)} via {self.host}:{self.port}"


def build_message(target: SmtpTarget, *, subject: str, body: str, at: float) -> EmailMessage:
    """The message: From/To/Subject/Date/Message-ID headers and a UTF-8 plain-text body."""
    message = EmailMessage()
    message["From"] = target.sender
    message["To"] = ", ".join(target.recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(at, usegmt=True)
    message["Message-ID"] = make_msgid(domain=target.sender.rpartition("@")[2] or None)
    message.set_content(body)
    return message


def send(
    target: SmtpTarget,
    message: EmailMessage,
    *,
    timeout_s: float,
    retries: int,
    backoff_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Hand ``message`` to the SMTP server until it is accepted or fails for good."""

    def attempt() -> int | None:
        _attempt(target, message, timeout_s)
        return None

    return with_retries(attempt, retries=retries, backoff_seconds=backoff_seconds, sleep=sleep)


def _attempt(target: SmtpTarget, message: EmailMessage, timeout_s: float) -> None:
    try:
        with smtplib.SMTP(target.host, target.port, timeout=timeout_s) as smtp:
            if target.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if target.username:
                smtp.login(target.username, target.password or "")
            refused = smtp.send_message(message, to_addrs=list(target.recipients))
    except smtplib.SMTPRecipientsRefused as error:
        raise AttemptFailed(
            f"all recipients refused: {_refusals(error.recipients)}", retryable=False
        ) from None
    except smtplib.SMTPResponseException as error:
        code = int(error.smtp_code)
        reply = error.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        raise AttemptFailed(
            f"SMTP {code} {text}".strip(), retryable=400 <= code < 500, code=code
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        # disconnected, refused connection, timeout, TLS failure: worth another attempt
        raise AttemptFailed(f"{type(error).__name__}: {error}", retryable=True) from None
    if refused:
        # some recipients took it; the others are named so someone can fix the address
        raise AttemptFailed(f"accepted, but refused for: {_refusals(refused)}", retryable=False)


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {reply.decode('utf-8', 'replace')})"
        for address, (code, reply) in refused.items()
    )
