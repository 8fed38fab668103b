"""robots.txt as RFC 9309 says, on protego: which paths our user agent may fetch, and the
Crawl-delay of its group.

How a fetch of ``/robots.txt`` turns into a policy (RFC 9309, section 2.3.1):
- 2xx: the body is parsed; an HTML page or garbage has no valid rules, so everything is allowed;
- 4xx ("unavailable"), except 429: no restrictions;
- 5xx, 429, a timeout or a network error ("unreachable"): complete disallow;
- redirects are followed (up to five hops) by the fetcher before we get here.
Only the first ``MAX_ROBOTS_BYTES`` are parsed (the RFC asks for at least 500 KiB).
"""

from __future__ import annotations

from dataclasses import dataclass

from protego import Protego

MAX_ROBOTS_BYTES = 512 * 1024


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: ``Foo-Bot/1.0 (+url)`` -> ``Foo-Bot``."""
    token = user_agent.strip().split("/", 1)[0].split(" ", 1)[0]
    return token or user_agent


@dataclass
class RobotsPolicy:
    """The rules of one origin for one user agent."""

    state: str  # parsed | unavailable | unreachable
    agent: str
    detail: str = ""
    _parser: Protego | None = None

    @classmethod
    def from_response(cls, status: int | None, body: bytes, agent: str, detail: str = "") -> RobotsPolicy:
        """Build the policy from the HTTP status (None = no response at all) and body."""
        if status is None or status == 429 or status >= 500:
            return cls("unreachable", agent, detail or (f"HTTP {status}" if status else "no response"))
        if 400 <= status < 500:
            return cls("unavailable", agent, f"HTTP {status}")
        if not 200 <= status < 300:
            return cls("unreachable", agent, f"HTTP {status} (redirects not resolved)")
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
        try:
            parser = Protego.parse(text)
        except Exception as exc:  # noqa: BLE001 - garbage in must not stop the crawl; treat as no rules
            return cls("unavailable", agent, f"unparseable robots.txt ({exc})")
        return cls("parsed", agent, detail, parser)

    def allowed(self, url: str) -> bool:
        if self.state == "unreachable":
            return False
        if self._parser is None:
            return True
        return bool(self._parser.can_fetch(url, self.agent))

    def crawl_delay(self) -> float | None:
        """Seconds between requests that our group asks for (None when it does not say)."""
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(self.agent)
        rate = self._parser.request_rate(self.agent)
        if rate is not None and getattr(rate, "requests", 0):
            per = rate.seconds / rate.requests
            delay = max(delay or 0.0, per)
        return float(delay) if delay is not None else None

    def disallow_reason(self) -> str:
        return "robots_unreachable" if self.state == "unreachable" else "robots_disallowed"
