"""Polite HTTP: robots.txt, a per-host delay, retries with backoff, and one clear reason per failure.

Every request the scraper makes goes through `Fetcher.get`:
- robots.txt is read once per host (with our User-Agent) and obeyed; a disallowed URL raises
  `FetchError("robots_disallowed")` without touching the network;
- requests to one host are spaced by `max(delay, Crawl-delay)`, across all threads;
- timeouts, connection errors, 429 and 5xx are retried with exponential backoff, and a
  `Retry-After` header (seconds or an HTTP date) replaces the backoff and holds the whole host;
- bodies are read with a byte cap, so a huge or endless response cannot fill the disk or memory.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

from core.config import ScrapeSettings

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, *range(500, 600)})


class FetchError(Exception):
    """A request that did not yield a usable response; `reason` is a short key for the summary."""

    def __init__(self, reason: str, url: str, detail: str = ""):
        super().__init__(f"{reason}: {url}" + (f" ({detail})" if detail else ""))
        self.reason, self.url, self.detail = reason, url, detail


@dataclass(frozen=True)
class Fetched:
    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff: base, 2·base, 4·base, … capped at `cap` (attempt counts from 0)."""
    return min(cap, base * (2**attempt))


def classify_request_error(exc: requests.RequestException) -> str:
    """`timeout` or `connection_error` for a failed request (read timeouts while streaming arrive wrapped)."""
    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        return "timeout"
    return "connection_error"


class HostThrottle:
    """Spaces requests per host: each request reserves the next free slot, so threads queue politely."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._clock, self._sleep = clock, sleep
        self._next_free: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str, delay: float) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next_free.get(host, now))
            self._next_free[host] = start + delay
        if start > now:
            self._sleep(start - now)

    def hold(self, host: str, seconds: float) -> None:
        """No request to `host` before `seconds` from now (Retry-After, backoff)."""
        with self._lock:
            until = self._clock() + seconds
            self._next_free[host] = max(self._next_free.get(host, until), until)


class Fetcher:
    """The one HTTP client of a crawl; safe to share between download threads."""

    def __init__(
        self,
        settings: ScrapeSettings,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self.throttle = HostThrottle(clock, sleep)
        self._local = threading.local()  # one requests.Session per thread
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._robots_lock = threading.Lock()

    # --- robots.txt -------------------------------------------------------------------------
    def robots(self, url: str) -> urllib.robotparser.RobotFileParser:
        host = host_of(url)
        with self._robots_lock:  # one robots.txt fetch per host, even with many threads
            if host not in self._robots:
                self._robots[host] = self._load_robots(host)
            return self._robots[host]

    def _load_robots(self, host: str) -> urllib.robotparser.RobotFileParser:
        parser = urllib.robotparser.RobotFileParser(f"{host}/robots.txt")
        try:
            response = self._request(f"{host}/robots.txt", self.settings.delay_seconds, max_bytes=512 * 1024)
        except FetchError as exc:
            status = int(exc.reason[5:]) if exc.reason.startswith("http_") and exc.reason[5:].isdigit() else None
            if status in (401, 403) or status is None or status >= 500:
                # As urllib.robotparser does for 401/403, and RFC 9309 for an unreachable robots.txt.
                log.warning(
                    "robots.txt of %s unavailable (%s): treating the whole host as disallowed", host, exc.reason
                )
                parser.disallow_all = True
            else:  # 404 and other 4xx: no robots.txt, everything allowed
                parser.allow_all = True
            return parser
        parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return parser

    def allowed(self, url: str) -> bool:
        return self.robots(url).can_fetch(self.settings.user_agent, url)

    def host_delay(self, url: str) -> float:
        """`--delay`, raised to the host's Crawl-delay where robots.txt sets one."""
        crawl_delay = self.robots(url).crawl_delay(self.settings.user_agent)
        return max(self.settings.delay_seconds, float(crawl_delay or 0))

    # --- requests -----------------------------------------------------------------------------
    def get(self, url: str, max_bytes: int | None = None) -> Fetched:
        """GET `url` politely; raise `FetchError` with a reason when it cannot be had."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError("bad_url", url, "only http and https URLs are fetched")
        if not self.allowed(url):
            raise FetchError("robots_disallowed", url, "robots.txt disallows it")
        return self._request(url, self.host_delay(url), max_bytes)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.settings.user_agent
            self._local.session = session
        return session

    def _request(self, url: str, delay: float, max_bytes: int | None) -> Fetched:
        host = host_of(url)
        settings = self.settings
        last = FetchError("connection_error", url)
        for attempt in range(settings.max_retries + 1):
            self.throttle.wait(host, delay)
            wait: float | None = None
            try:
                with self._session().get(url, timeout=settings.timeout_seconds, stream=True) as response:
                    status = response.status_code
                    if 200 <= status < 300:
                        body = _read_capped(response, url, max_bytes)
                        return Fetched(url, response.url, status, response.headers.get("Content-Type", ""), body)
                    last = FetchError(f"http_{status}", url, response.reason or "")
                    if status not in RETRYABLE_STATUS:
                        raise last
                    wait = parse_retry_after(response.headers.get("Retry-After"))
            except requests.RequestException as exc:
                last = FetchError(classify_request_error(exc), url, str(exc)[:200])
            if attempt == settings.max_retries:
                break
            if wait is not None and wait > settings.max_retry_after_seconds:
                raise FetchError(
                    last.reason, url, f"Retry-After {wait:.0f}s exceeds {settings.max_retry_after_seconds:.0f}s"
                )
            if wait is None:
                wait = backoff_delay(attempt, settings.backoff_seconds, settings.max_backoff_seconds)
            log.info("retrying %s in %.1fs after %s", url, wait, last.reason)
            self.throttle.hold(host, wait)
        raise last


def _read_capped(response: requests.Response, url: str, max_bytes: int | None) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("too_large", url, f"{int(declared):,} bytes declared, limit {max_bytes:,}")
    chunks, total = [], 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise FetchError("too_large", url, f"over the {max_bytes:,} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)
