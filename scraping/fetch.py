"""Polite HTTP: robots.txt, a per-host delay, retries with backoff, and one clear reason per failure.

Every request the scraper makes goes through `Fetcher.get`:
- robots.txt is read once per host (with our User-Agent) and obeyed; a disallowed URL raises
  `FetchError("robots_disallowed")` without touching the network;
- requests to one host are spaced by `max(delay, Crawl-delay)`, across all threads;
- timeouts, connection errors, 429 and 5xx are retried with exponential backoff by urllib3's
  `Retry` on the session, and a `Retry-After` header (seconds or an HTTP date) replaces the
  backoff and holds the whole host; one longer than `max_retry_after_seconds` gives up instead;
  a timeout or dropped connection while the body is streamed (after urllib3's retries, which end
  with the headers) is retried by `Fetcher._request` on the same budget and backoff;
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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from core.config import ScrapeSettings

if TYPE_CHECKING:
    from urllib3.response import BaseHTTPResponse

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


def classify_request_error(exc: Exception) -> str:
    """`timeout` or `connection_error` for a failed request (timeouts often arrive wrapped in another error)."""
    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        return "timeout"
    return "connection_error"


def describe_request_error(exc: requests.RequestException) -> str:
    """The cause of a failed request, cut short (urllib3's "Max retries exceeded with url…" would crowd it out)."""
    cause = exc.args[0] if exc.args else exc
    if isinstance(cause, MaxRetryError) and cause.reason is not None:
        cause = cause.reason
    return str(cause)[:200]


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


class PoliteRetry(Retry):
    """urllib3's `Retry` deciding what is retried and how often, with this crawler's waits.

    urllib3 would `time.sleep` in the calling thread; `sleep` is overridden so every wait goes
    through `pause` instead (the host throttle: the whole host waits, the retry is spaced like any
    request, and tests can swap the clock), and so that `Retry-After` is read by `parse_retry_after`
    (urllib3 fails the request on an unreadable one, and clamps a long one rather than giving up).
    """

    def __init__(self, *args: Any, url: str, settings: ScrapeSettings, pause: Callable[[float], None], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.url, self.settings, self.pause = url, settings, pause

    def new(self, **kw: Any) -> PoliteRetry:
        # urllib3 makes a new Retry after each attempt from the constructor's arguments: carry ours along.
        return super().new(url=self.url, settings=self.settings, pause=self.pause, **kw)

    def get_backoff_time(self) -> float:
        # urllib3 does not wait before the first retry; the first one here waits `backoff_seconds`.
        return backoff_delay(len(self.history) - 1, self.settings.backoff_seconds, self.settings.max_backoff_seconds)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        reason = f"http_{response.status}" if response is not None else classify_request_error(self.history[-1].error)
        wait = parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
        if wait is not None and wait > self.settings.max_retry_after_seconds:
            # Waiting hours for one URL would stall the crawl: give up on it now.
            raise FetchError(
                reason, self.url, f"Retry-After {wait:.0f}s exceeds {self.settings.max_retry_after_seconds:.0f}s"
            )
        if wait is None:
            wait = self.get_backoff_time()
        log.info("retrying %s in %.1fs after %s", self.url, wait, reason)
        self.pause(wait)


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

    def _session(self, retry: Retry) -> requests.Session:
        """This thread's session, set to retry the coming request by `retry` (safe: nothing else uses it)."""
        local = self._local
        if getattr(local, "session", None) is None:
            local.session = requests.Session()
            local.session.headers["User-Agent"] = self.settings.user_agent
            local.adapter = HTTPAdapter()
            for prefix in ("http://", "https://"):  # one adapter, so a redirect to https retries the same way
                local.session.mount(prefix, local.adapter)
        local.adapter.max_retries = retry
        return local.session

    def _retry(self, url: str, delay: float) -> PoliteRetry:
        """The retry policy of one request; its waits hold and then wait on the URL's host."""
        host, settings = host_of(url), self.settings

        def pause(seconds: float) -> None:
            self.throttle.hold(host, seconds)  # other threads keep off the host too
            self.throttle.wait(host, delay)  # and the retry is spaced from them like any request

        return PoliteRetry(
            total=settings.max_retries,
            status_forcelist=RETRYABLE_STATUS,
            # Without these urllib3 would also retry a 413 carrying Retry-After, and raise instead
            # of handing back the last 429 or 5xx, whose status is the failure's reason.
            respect_retry_after_header=False,
            raise_on_status=False,
            url=url,
            settings=settings,
            pause=pause,
        )

    def _request(self, url: str, delay: float, max_bytes: int | None) -> Fetched:
        self.throttle.wait(host_of(url), delay)
        retry = self._retry(url, delay)
        while True:
            try:
                with self._session(retry).get(url, timeout=self.settings.timeout_seconds, stream=True) as response:
                    status = response.status_code
                    if not 200 <= status < 300:
                        # Any other status is final; a 429 or 5xx here is the last answer after the retries.
                        raise FetchError(f"http_{status}", url, response.reason or "")
                    try:
                        body = _read_capped(response, url, max_bytes)
                        return Fetched(url, response.url, status, response.headers.get("Content-Type", ""), body)
                    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                        # urllib3's retries end when the headers arrive, so a body dropped or timed out
                        # midway is retried here: counted on the same Retry (one budget, one backoff).
                        retry = _after_body_error(response.raw.retries or retry, url, exc)
            except requests.RequestException as exc:
                raise FetchError(classify_request_error(exc), url, describe_request_error(exc)) from None
            retry.sleep()  # the response is closed: back off through the host throttle, then again


def _after_body_error(retry: Retry, url: str, exc: requests.RequestException) -> Retry:
    """`retry` with this body error counted; `exc` again when no attempt is left."""
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc  # urllib3's own error
    try:
        return retry.increment("GET", url, error=cause)
    except MaxRetryError:
        raise exc from None


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
