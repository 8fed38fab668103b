"""PII redaction formatter: e-mail addresses and public IP addresses replaced by placeholders.

``PiiRedactor`` (name ``pii``) never drops a document. It replaces

- e-mail addresses (``local@domain.tld``) with ``email_placeholder`` (``<EMAIL>``);
- IPv4 and IPv6 addresses that are publicly routable with ``ip_placeholder``
  (``<IP_ADDRESS>``). Candidates found by regex are parsed with the standard library's
  ``ipaddress``: private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback, link-local,
  shared (100.64/10), documentation, multicast, unspecified and otherwise reserved
  addresses are left as they are (``ip.is_global`` and not multicast; for IPv6 also inside
  the global-unicast block 2000::/3; an IPv4-mapped IPv6 is judged by its IPv4). Strings that
  are not valid addresses (``999.1.1.1``, ``01.02.03.04``, version numbers like
  ``1.2.3.4.5``) are not touched.

The verdict carries the new text and the counts ``emails_redacted`` and ``ips_redacted``
(added up in stats.json). ``rewrites_in_annotate`` is set: annotate mode keeps documents,
it does not keep PII.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import ClassVar

from pipeline.filters.base import DocumentFilter, Verdict, keep
from pipeline.filters.text_stats import check_flag
from pipeline.records import Document

# Each pattern starts with a character class (lookbehinds come after the first character), so
# the regex engine can skip ahead quickly on text without candidates.
EMAIL_RE = re.compile(
    r"[A-Za-z0-9](?<![\w.%+-][A-Za-z0-9])[A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w-])"
)
IPV4_RE = re.compile(r"\d(?<![\w.]\d)\d{0,2}(?:\.\d{1,3}){3}(?!\w|\.\d)")
IPV6_RE = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.\w)"
)
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def is_public_ip(candidate: str) -> bool:
    """True for a valid, publicly routable IPv4/IPv6 address (see module docstring)."""
    try:
        ip = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip not in _GLOBAL_UNICAST:
            return False
    return ip.is_global and not ip.is_multicast


@dataclass
class PiiRedactor(DocumentFilter):
    """Replace e-mails and public IPs with placeholders; never drops (see module docstring)."""

    name: ClassVar[str] = "pii"
    rewrites_in_annotate: ClassVar[bool] = True

    email_placeholder: str = "<EMAIL>"
    ip_placeholder: str = "<IP_ADDRESS>"
    redact_emails: bool = True
    redact_ips: bool = True

    def __post_init__(self) -> None:
        for name in ("email_placeholder", "ip_placeholder"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{self.name}.{name} must be a string, got {getattr(self, name)!r}")
        check_flag(self.name, "redact_emails", self.redact_emails)
        check_flag(self.name, "redact_ips", self.redact_ips)

    def evaluate(self, doc: Document) -> Verdict:
        text = doc.text
        n_emails = n_ips = 0
        if self.redact_emails and "@" in text:
            text, n_emails = EMAIL_RE.subn(self.email_placeholder, text)
        if self.redact_ips:
            ips = 0

            def sub_ip(m: re.Match[str]) -> str:
                nonlocal ips
                if is_public_ip(m.group(0)):
                    ips += 1
                    return self.ip_placeholder
                return m.group(0)

            if "::" in text or text.count(":") >= 7:  # IPv6 first: may embed an IPv4 (::ffff:1.2.3.4)
                text = IPV6_RE.sub(sub_ip, text)
            if "." in text:
                text = IPV4_RE.sub(sub_ip, text)
            n_ips = ips
        signals = {"emails_redacted": n_emails, "ips_redacted": n_ips}
        return keep(signals, text=text, emails_redacted=n_emails, ips_redacted=n_ips)
