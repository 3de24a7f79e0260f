"""Sending mail over SMTP: STARTTLS, implicit TLS ("ssl") or none; the password is never shown.

Settings come from the `[smtp]` table of the config file or `SMALLCRM_SMTP_HOST`, `_PORT`,
`_USER`, `_PASSWORD`, `_FROM`, `_SECURITY`, `_TIMEOUT` (the environment wins). Without a
`security` setting the connection is upgraded with STARTTLS when the server offers it; a password
is then only sent unencrypted to a server on this machine (loopback). A config file that holds
the password must not be readable by other users: it is refused, not merely warned about.

Stdlib only (smtplib, ssl, email); nothing here is imported until a reminder is emailed.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from smallcrm import settings
from smallcrm.errors import DeliveryFailed, Invalid
from smallcrm.textsafe import visible

__all__ = ["SECURITY", "Mailer", "SmtpSettings", "message", "smtp_settings"]

SECURITY = ("starttls", "ssl", "none")
#: Port by security mode: implicit TLS 465, submission with STARTTLS 587, plain SMTP 25.
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25, "auto": 25}
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None = field(repr=False)
    sender: str
    #: "auto" (STARTTLS when offered; the default), "starttls", "ssl" or "none".
    security: str = "auto"
    timeout: float = DEFAULT_TIMEOUT_S

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def redact(self, text: str) -> str:
        """`text` with the password (and its base64 forms, as AUTH sends it) replaced by ***."""
        if not self.password:
            return text
        secrets = {self.password}
        raw = self.password.encode("utf-8", "surrogateescape")
        secrets.add(base64.b64encode(raw).decode("ascii"))
        if self.user:
            plain = f"\0{self.user}\0{self.password}".encode("utf-8", "surrogateescape")
            secrets.add(base64.b64encode(plain).decode("ascii"))
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def _text(key: str) -> str | None:
    value = settings.setting(key)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _password() -> str | None:
    """The password from SMALLCRM_SMTP_PASSWORD, else from a config file only its owner reads."""
    from_env = os.environ.get("SMALLCRM_SMTP_PASSWORD")
    if from_env:
        return from_env
    value = settings.setting("smtp.password")
    if value is None or value == "":
        return None
    path = settings.config_path()
    _check_private(path)
    return str(value)


def _check_private(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o044:
        raise Invalid(
            f"config file {path} holds the SMTP password but other users can read it; "
            f"run `chmod 600 {path}` (or set SMALLCRM_SMTP_PASSWORD instead)"
        )


def _sender(user: str | None) -> str:
    configured = _text("smtp.from")
    if configured:
        if any(c in configured for c in "\r\n"):
            raise Invalid("smtp.from contains a line break")
        probe = EmailMessage()
        try:
            probe["From"] = configured
            parsed = probe["From"].addresses
        except Exception:  # the email package raises several types for a bad address
            parsed = ()
        if len(parsed) != 1 or "@" not in parsed[0].addr_spec:
            raise Invalid(f"smtp.from '{visible(configured)}' is not an email address")
        return configured
    if user and "@" in user:
        return user
    return f"smallcrm@{socket.gethostname() or 'localhost'}"


def smtp_settings() -> SmtpSettings:
    """Read and check the SMTP settings; raises Invalid with a message naming the setting."""
    host = _text("smtp.host") or "localhost"
    raw_security = _text("smtp.security")
    security = "auto"
    if raw_security is not None:
        security = raw_security.lower()
        if security not in SECURITY:
            raise Invalid(
                f"unknown smtp.security '{visible(raw_security)}'; "
                f"expected one of: {', '.join(SECURITY)}"
            )
    raw_port = _text("smtp.port")
    if raw_port is None:
        port = DEFAULT_PORTS[security]
    else:
        try:
            port = int(raw_port)
        except ValueError:
            port = -1
        if not 0 < port < 65536:
            raise Invalid(f"smtp.port '{visible(raw_port)}' is not a port number")
    raw_timeout = _text("smtp.timeout")
    timeout = DEFAULT_TIMEOUT_S
    if raw_timeout is not None:
        try:
            timeout = float(raw_timeout)
        except ValueError:
            timeout = -1.0
        if not timeout > 0:
            raise Invalid(f"smtp.timeout '{visible(raw_timeout)}' is not a number of seconds")
    user = _text("smtp.user")
    password = _password()
    return SmtpSettings(
        host=host,
        port=port,
        user=user,
        password=password,
        sender=_sender(user),
        security=security,
        timeout=timeout,
    )


def message(
    *, sender: str, to_name: str | None, to_addr: str, subject: str, body: str
) -> EmailMessage:
    """A plain-text message. The SMTP policy refuses CR/LF in any header, so nothing taken from
    the database can add a header; the subject should be built from counts, not stored text."""
    from email import policy
    from email.headerregistry import Address
    from email.utils import formatdate, make_msgid

    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = subject
    msg["From"] = sender
    try:
        name = visible(to_name) if to_name else ""
        msg["To"] = Address(display_name=name, addr_spec=to_addr.strip())
    except Exception:  # HeaderParseError, ValueError, IndexError for odd input
        raise DeliveryFailed(f"'{visible(to_addr)}' is not a usable email address") from None
    msg["Date"] = formatdate(localtime=True)
    domain = msg["From"].addresses[0].domain or "localhost"
    msg["Message-ID"] = make_msgid(idstring="smallcrm", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    msg["X-Mailer"] = "smallcrm"
    msg.set_content(body, charset="utf-8", cte="quoted-printable")
    return msg


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _reason(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return f"{error.smtp_code} {' '.join(str(text).split())}"
    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


class Mailer:
    """One SMTP connection per run, opened on the first message and reused for the next ones.

    Every failure is a DeliveryFailed whose message names the server and the reason, with the
    password redacted. A server that cannot be reached is tried once per run, not per message.
    """

    def __init__(self, config: SmtpSettings) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        self._used = False
        self._broken: str | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, text: str) -> DeliveryFailed:
        return DeliveryFailed(self.config.redact(visible(text)))

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        context = ssl.create_default_context()
        try:
            if cfg.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        except (OSError, smtplib.SMTPException) as error:
            raise self._fail(
                f"cannot connect to SMTP server {cfg.where}: {_reason(error)}"
            ) from None
        try:
            self._handshake(smtp, context)
        except BaseException:
            try:
                smtp.close()
            except OSError:
                pass
            raise
        return smtp

    def _handshake(self, smtp: smtplib.SMTP, context: ssl.SSLContext) -> None:
        cfg = self.config
        encrypted = cfg.security == "ssl"
        try:
            smtp.ehlo()
            offers_tls = smtp.has_extn("starttls")
            if cfg.security == "starttls" and not offers_tls:
                raise self._fail(
                    f"SMTP server {cfg.where} does not offer STARTTLS "
                    "(smtp.security is starttls; use ssl or none if that is intended)"
                )
            if cfg.security in ("starttls", "auto") and offers_tls:
                smtp.starttls(context=context)
                smtp.ehlo()
                encrypted = True
            if cfg.user:
                if not encrypted and cfg.security == "auto" and not _is_loopback(cfg.host):
                    raise self._fail(
                        f"SMTP server {cfg.where} does not offer STARTTLS; refusing to send the "
                        "password unencrypted (set smtp.security to ssl, or to none to allow it)"
                    )
                if smtp.has_extn("auth"):
                    smtp.login(cfg.user, cfg.password or "")
        except DeliveryFailed:
            raise
        except smtplib.SMTPAuthenticationError as error:
            raise self._fail(
                f"SMTP server {cfg.where} refused the login of user '{cfg.user}': {_reason(error)}"
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise self._fail(f"SMTP server {cfg.where}: {_reason(error)}") from None

    def _connection(self) -> smtplib.SMTP:
        if self._broken:
            raise DeliveryFailed(self._broken)
        if self._smtp is not None and self._used:
            try:  # a connection idle since the last message may have been dropped
                code, _ = self._smtp.noop()
                if code != 250:
                    raise smtplib.SMTPServerDisconnected("no answer to NOOP")
            except (OSError, smtplib.SMTPException):
                self._drop()
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except DeliveryFailed as error:
                self._broken = str(error)
                raise
            self._used = False
        return self._smtp

    def send(self, msg: EmailMessage) -> None:
        """Send one message; raises DeliveryFailed (password-free) when it was not accepted."""
        smtp = self._connection()
        self._used = True
        where = self.config.where
        try:
            refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as error:
            details = "; ".join(
                f"{visible(addr)}: {_reason(smtplib.SMTPResponseException(code, text))}"
                for addr, (code, text) in error.recipients.items()
            )
            raise self._fail(f"SMTP server {where} refused the recipient ({details})") from None
        except smtplib.SMTPSenderRefused as error:
            raise self._fail(
                f"SMTP server {where} refused the sender "
                f"{visible(self.config.sender)}: {_reason(error)}"
            ) from None
        except smtplib.SMTPResponseException as error:
            raise self._fail(f"SMTP server {where} refused the message: {_reason(error)}") from None
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            raise self._fail(f"SMTP server {where}: {_reason(error)}") from None
        if refused:
            shown = ", ".join(visible(addr) for addr in refused)
            raise self._fail(f"SMTP server {where} refused the recipient {shown}")

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            try:
                smtp.close()
            except OSError:
                pass
