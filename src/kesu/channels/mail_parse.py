"""Pure: one incoming email read as kesu needs it.

Chinese mail arrives in many shapes: GB2312/GBK/GB18030 or UTF-8, quoted-printable or
base64, HTML only, headers in RFC 2047 words or raw 8-bit bytes. `parse` decodes every
one of them to text (GB2312 and GBK are read as GB18030, their superset: mail labelled
gb2312 often holds GBK characters), turns HTML into text, collects the attachments, and
says what the mail is: a customer's mail, an auto-reply, a bounce, or kesu's own mail
coming back (`kind`). `complaint_number` and `phone` find what the text names.
"""

from __future__ import annotations

import email
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message
from email.utils import parseaddr
from html.parser import HTMLParser

from kesu.channels import phones

# A complaint number (complaints.numbering): TS + Beijing date + a 6-digit sequence.
NUMBER = re.compile(r"(?<![A-Za-z0-9])(TS\d{8}\d{6})(?!\d)")
_MSGID = re.compile(r"<[^<>\s]+>")
_CHARSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
_AUTO_SUBJECT = re.compile(
    r"自动回复|自動回覆|自动答复|自動答覆|^\s*(auto(matic)?[ -]?repl(y|ied)|auto[ -]?response|"
    r"out of (the )?office|autoreply)",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"退信|系统退信|投递失败|undeliver|delivery status notification|"
    r"mail delivery (failed|subsystem)|returned mail|failure notice",
    re.I,
)
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
MAX_TEXT = 20000  # characters of body text kept (the complaint takes fewer)


@dataclass
class Attachment:
    filename: str
    data: bytes


@dataclass
class Parsed:
    message_id: str | None
    sender: str  # the address, lower case; "" when none
    sender_name: str
    subject: str
    text: str
    refs: list[str] = field(default_factory=list)  # In-Reply-To then References
    attachments: list[Attachment] = field(default_factory=list)
    kind: str = "customer"  # customer | auto_reply | bounce | own
    why: str = ""  # why it is not a customer's mail


def codec(charset: str | None) -> str:
    """A Python codec for a mail charset label (GB2312/GBK read as GB18030)."""
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _CHARSETS.get(name, name)
    try:
        "".encode(name)
    except LookupError:
        return "utf-8"
    return name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes as text in the declared charset; undeclared 8-bit text tried as UTF-8, then
    GB18030 (the two a Chinese mailbox sends); nothing ever raises."""
    if charset:
        return data.decode(codec(charset), errors="replace")
    for name in ("utf-8", "gb18030"):
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def header_text(value: object) -> str:
    """A header as text: RFC 2047 encoded words decoded with their charset; raw 8-bit
    bytes (kept by the parser as surrogates) read as UTF-8 or GB18030."""
    if value is None:
        return ""
    raw = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        raw = decode_bytes(raw.encode("ascii", "surrogateescape"), None)
    try:
        chunks = decode_header(raw)
    except Exception:  # a malformed encoded word: the header as it stands
        return " ".join(raw.split())
    out = []
    for chunk, charset in chunks:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(out).split())


class _TextOfHtml(HTMLParser):
    BLOCK = frozenset(
        {"p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "hr"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"}
        | {"title"}
    )
    SKIP = frozenset({"script", "style", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body: scripts and styles dropped, blocks on lines."""
    parser = _TextOfHtml()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # HTMLParser is lenient; anything left: tags stripped crudely
        text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    return tidy(text)


def tidy(text: str) -> str:
    """Spaces collapsed in each line, at most one blank line in a row, no NULs."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _payload_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    return decode_bytes(data, part.get_content_charset())


def _filename(part: Message) -> str | None:
    name = part.get_param("filename", header="content-disposition") or part.get_param("name")
    if name is None:
        return None
    if isinstance(name, tuple):  # RFC 2231: (charset, language, value)
        charset, _, value = name
        return decode_bytes(value.encode("latin-1", "replace"), charset or "utf-8")
    return header_text(name)


def _walk(msg: Message) -> tuple[str, str, list[Attachment]]:
    plain, markup, files = [], [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        name = _filename(part)
        if disposition == "attachment" or (name and not ctype.startswith("text/")):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                files.append(Attachment(name or "附件", data))
        elif ctype == "text/plain":
            plain.append(_payload_text(part))
        elif ctype == "text/html":
            markup.append(_payload_text(part))
    return "\n\n".join(plain), "\n\n".join(markup), files


def message_ids(value: str) -> list[str]:
    return _MSGID.findall(value or "")


def _domain(msgid: str | None) -> str:
    return (msgid or "").strip("<>").rpartition("@")[2].lower()


def classify(msg: Message, sender: str, subject: str, own_domain: str) -> tuple[str, str]:
    """(kind, why): own (kesu's own mail back), bounce, auto_reply, or customer."""
    msgid = header_text(msg.get("Message-ID"))
    if msg.get("X-Kesu-Message-Id") is not None:
        return "own", "X-Kesu-Message-Id"
    if (
        own_domain
        and msgid
        and _domain(msgid) == own_domain.lower()
        and sender.endswith("@" + own_domain.lower())
    ):
        return "own", "Message-ID@" + own_domain
    local = sender.partition("@")[0]
    if msg.get_content_type() == "multipart/report" or any(
        p.get_content_type() == "message/delivery-status" for p in msg.walk()
    ):
        return "bounce", "multipart/report"
    if (msg.get("Return-Path") or "").strip() == "<>":
        return "bounce", "Return-Path <>"
    if local in _BOUNCE_SENDERS or not sender:
        return "bounce", "sender " + (local or "<>")
    if _BOUNCE_SUBJECT.search(subject):
        return "bounce", "subject"
    auto = (msg.get("Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return "auto_reply", "Auto-Submitted: " + auto
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if msg.get(name) is not None:
            return "auto_reply", name
    precedence = (msg.get("Precedence") or "").strip().lower()
    if precedence in ("auto_reply", "bulk", "junk", "list"):
        return "auto_reply", "Precedence: " + precedence
    if msg.get("List-Id") is not None or msg.get("List-Unsubscribe") is not None:
        return "auto_reply", "mailing list"
    if _AUTO_SUBJECT.search(subject):
        return "auto_reply", "subject"
    return "customer", ""


def parse(raw: bytes, own_domain: str = "") -> Parsed:
    """Everything kesu reads of one mail; never raises on a malformed one."""
    msg = email.message_from_bytes(raw)
    subject = header_text(msg.get("Subject"))
    name, address = parseaddr(header_text(msg.get("From")))
    if not address:
        address = parseaddr(header_text(msg.get("Sender")))[1]
    sender = address.strip().lower() if "@" in address else ""
    try:
        plain, markup, files = _walk(msg)
    except Exception:  # a broken MIME structure: the raw body as text
        payload = msg.get_payload()
        plain, markup, files = (payload if isinstance(payload, str) else ""), "", []
    text = tidy(plain) if plain.strip() else html_to_text(markup)
    refs = message_ids(header_text(msg.get("In-Reply-To"))) + message_ids(
        header_text(msg.get("References"))
    )
    ids = message_ids(header_text(msg.get("Message-ID")))
    kind, why = classify(msg, sender, subject, own_domain)
    return Parsed(
        message_id=ids[0] if ids else None,
        sender=sender,
        sender_name=name,
        subject=subject,
        text=text[:MAX_TEXT],
        refs=list(dict.fromkeys(refs)),
        attachments=files,
        kind=kind,
        why=why,
    )


def complaint_number(subject: str, text: str = "") -> str | None:
    """The complaint number a mail names: in the subject first (kesu's mail carries
    `[TS…]`), else in the first lines of the text (a quoted reply)."""
    found = NUMBER.search(subject) or NUMBER.search(text[:2000])
    return found.group(1) if found else None


_PHONE_CANDIDATE = re.compile(r"(?<![\d])(?:\+?86[\s-]?)?[\d][\d\s()\-]{6,18}\d(?![\d])")


def phone(text: str) -> str | None:
    """The first mainland mobile (else landline with area code) in the text, normalised."""
    mobile = landline = None
    for m in _PHONE_CANDIDATE.finditer(text):
        number = phones.digits(m.group(0)).removeprefix("86")
        if phones.is_mobile(number):
            mobile = mobile or number
            break
        if landline is None and phones.is_landline(number):
            landline = number
    return mobile or landline


def body_digest(raw: bytes) -> str:
    """The SHA-256 of a mail's body (after the header block, line ends normalised): the
    same mail by SMTP and by IMAP (transport headers differ) has the same digest."""
    body = raw.replace(b"\r\n", b"\n")
    _, sep, rest = body.partition(b"\n\n")
    return hashlib.sha256(rest if sep else body).hexdigest()
