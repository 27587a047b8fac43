"""The scraper's parts on their own: names, slug parsing, retry timing, robots.txt, the append-only CSV."""

from __future__ import annotations

import dataclasses
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from core.config import get_settings
from core.images import probe_image
from scraping.fetch import Fetcher, FetchError, HostThrottle, backoff_delay, parse_retry_after
from scraping.names import image_file_name, inside, safe_component, slugify, url_file_name
from scraping.showinfo import ShowInfo, parse_collection_slug, parse_vogue_season
from scraping.store import CSV_COLUMNS, AppendOnlyCsv, RunwayStore, StoreError, write_bytes


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        (
            "chanel-couture-spring-summer-2023-paris-fashion-week",
            ShowInfo("Chanel", "couture", "spring-summer", 2023, "Paris"),
        ),
        (
            "dries-van-noten-fall-winter-2019-paris-fashion-week",
            ShowInfo("Dries Van Noten", "", "fall-winter", 2019, "Paris"),
        ),
        (
            "louis-vuitton-menswear-spring-summer-2023-paris-fashion-week",
            ShowInfo("Louis Vuitton", "menswear", "spring-summer", 2023, "Paris"),
        ),
        (
            "giorgio-armani-ready-to-wear-autumn-winter-2012-milan-fashion-week",
            ShowInfo("Giorgio Armani", "ready-to-wear", "fall-winter", 2012, "Milan"),
        ),
        (
            "oscar-de-la-renta-ready-to-wear-spring-summer-2024-new-york-fashion-week",
            ShowInfo("Oscar De La Renta", "ready-to-wear", "spring-summer", 2024, "New York"),
        ),
        (
            "chanel-couture-spring-summer-2023-paris",
            ShowInfo("Chanel", "couture", "spring-summer", 2023, "Paris"),
        ),  # the thesis's folders
        ("rick-owens-cruise-2020", ShowInfo("Rick Owens", "", "resort", 2020, "")),
        ("versace", ShowInfo("Versace")),
    ],
)
def test_collection_slugs_parse_into_show_facts(slug, expected):
    assert parse_collection_slug(slug) == expected


@pytest.mark.parametrize(
    ("season", "expected"),
    [
        ("spring-2024-ready-to-wear", ("spring-summer", 2024, "ready-to-wear")),
        ("fall-2023-menswear", ("fall-winter", 2023, "menswear")),
        ("spring-2023-couture", ("spring-summer", 2023, "couture")),
        ("resort-2024", ("resort", 2024, "")),
        ("pre-fall-2022", ("pre-fall", 2022, "")),
        ("not-a-season", ("", None, "")),
    ],
)
def test_vogue_season_slugs(season, expected):
    info = parse_vogue_season(season)
    assert (info.season, info.year, info.show_type) == expected


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("..", "unnamed"),
        ("a..b.jpg", "a.b.jpg"),
        (".hidden.jpg", "hidden.jpg"),
        ("CON.jpg", "_CON.jpg"),
        ("Défilé été 2023.JPG", "Defile-ete-2023.JPG"),
        ("C:\\Windows\\x.jpg", "C-Windows-x.jpg"),
    ],
)
def test_safe_component(raw, safe):
    assert safe_component(raw) == safe


def test_names_are_bounded_and_take_the_decoded_format():
    long = safe_component("y" * 500 + ".jpeg", max_length=120)
    assert len(long) == 120 and long.endswith(".jpeg")
    assert image_file_name("page.html", "JPEG") == "page.jpg"
    assert image_file_name("look.v2", "PNG") == "look.png"
    assert image_file_name("", "WEBP") == "image.webp"
    assert url_file_name("https://h/uploads/..%2F..%2Fx.jpg?lossy=1") == "x.jpg"
    assert url_file_name("https://h/uploads/..%5C..%5Cy.jpg") == "y.jpg"
    assert slugify("Dries Van Noten") == "dries-van-noten" and slugify("Hermès") == "hermes"


def test_inside_refuses_escapes(tmp_path):
    assert inside(tmp_path, "a/b.jpg") == (tmp_path / "a" / "b.jpg").resolve()
    for bad in ("../x.jpg", "/etc/passwd", "a/../../x", ""):
        with pytest.raises(ValueError):
            inside(tmp_path, bad)
    (tmp_path / "link").symlink_to("/tmp")
    with pytest.raises(ValueError):
        inside(tmp_path, "link/x.jpg")


def test_retry_after_in_seconds_or_as_a_date():
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert [backoff_delay(a, 0.5, 3.0) for a in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_host_throttle_spaces_requests_per_host():
    clock = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        clock[0] += seconds

    throttle = HostThrottle(clock=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        throttle.wait("http://a", 1.0)
    throttle.wait("http://b", 1.0)  # another host does not wait
    assert slept == [1.0, 1.0]
    throttle.hold("http://a", 5.0)  # Retry-After holds the host
    throttle.wait("http://a", 1.0)
    assert slept == [1.0, 1.0, 5.0]


def fake_time() -> tuple[list[float], dict]:
    """A clock and a sleep that only advance it: `Fetcher(settings, **kwargs)` then waits no real time."""
    clock, slept = [0.0], []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        clock[0] += seconds

    return slept, {"clock": lambda: clock[0], "sleep": sleep}


def test_retries_back_off_or_follow_retry_after_through_the_fetchers_sleep(server, kit):
    settings = dataclasses.replace(
        get_settings().scrape, delay_seconds=0.0, max_retries=5, backoff_seconds=0.5, max_backoff_seconds=1.5
    )
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    server.route(
        "/flaky",
        kit.Reply(503, b"busy", headers={"Retry-After": "soon"}),  # unreadable: the backoff applies
        kit.Reply(500, b"oops"),
        kit.Reply(502, b"oops"),
        kit.Reply(429, b"slow down", headers={"Retry-After": "7"}),
        kit.Reply(503, b"busy", headers={"Retry-After": in_a_minute}),
        kit.Reply(body=b"ok", content_type="text/plain"),
    )
    slept, fake = fake_time()
    fetched = Fetcher(settings, **fake).get(server.base_url + "/flaky")
    assert fetched.body == b"ok" and len(server.requested("/flaky")) == 6
    assert slept[:4] == [0.5, 1.0, 1.5, 7.0] and 55 < slept[4] <= 60 and len(slept) == 5

    server.route("/down", kit.Reply(503, b"busy"))
    slept.clear()
    with pytest.raises(FetchError) as error:
        Fetcher(dataclasses.replace(settings, max_retries=2), **fake).get(server.base_url + "/down")
    assert (error.value.reason, error.value.detail) == ("http_503", "Service Unavailable")
    assert len(server.requested("/down")) == 3 and slept == [0.5, 1.0]


def test_long_retry_after_gives_up_and_other_4xx_are_not_retried(server, kit):
    settings = dataclasses.replace(get_settings().scrape, delay_seconds=0.0, max_retry_after_seconds=300)
    server.route("/tomorrow", kit.Reply(429, b"come back tomorrow", headers={"Retry-After": "86400"}))
    server.route("/too-big", kit.Reply(413, b"too large", headers={"Retry-After": "1"}))
    slept, fake = fake_time()
    with pytest.raises(FetchError) as error:
        Fetcher(settings, **fake).get(server.base_url + "/tomorrow")
    assert (error.value.reason, error.value.detail) == ("http_429", "Retry-After 86400s exceeds 300s")
    with pytest.raises(FetchError) as error:
        Fetcher(settings, **fake).get(server.base_url + "/too-big")
    assert error.value.reason == "http_413"
    assert len(server.requested("/tomorrow")) == 1 and len(server.requested("/too-big")) == 1 and slept == []


def test_connection_errors_are_retried(kit):
    settings = dataclasses.replace(
        get_settings().scrape, delay_seconds=0.0, max_retries=2, backoff_seconds=0.5, timeout_seconds=2.0
    )
    with socket.socket() as closed:  # a port nothing listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    slept, fake = fake_time()
    fetcher = Fetcher(settings, **fake)
    with pytest.raises(FetchError) as error:
        fetcher._request(f"http://127.0.0.1:{port}/a", 0.0, None)
    assert error.value.reason == "connection_error" and "refused" in error.value.detail.lower()
    assert slept == [0.5, 1.0]


@pytest.mark.parametrize(("stall", "reason"), [(0.0, "connection_error"), (1.0, "timeout")])
def test_a_body_broken_off_after_the_headers_is_retried(server, kit, stall, reason):
    # Dropped mid-body, or stalled past the read timeout: urllib3's retries are over by then.
    settings = dataclasses.replace(
        get_settings().scrape, delay_seconds=0.0, max_retries=2, backoff_seconds=0.5, timeout_seconds=0.3
    )
    photo = kit.make_jpeg()
    broken = kit.Reply(body=photo, content_type="image/jpeg", cut_at=len(photo) // 2, stall=stall)
    server.route("/look.jpg", broken, kit.Reply(body=photo, content_type="image/jpeg"))
    slept, fake = fake_time()
    fetched = Fetcher(settings, **fake).get(server.base_url + "/look.jpg", max_bytes=1_000_000)
    assert fetched.body == photo and len(server.requested("/look.jpg")) == 2 and slept == [0.5]

    # One budget for both kinds of retry: a 503, then a broken body, exhaust max_retries=1.
    server.route("/busy.jpg", kit.Reply(503, b"busy"), broken, kit.Reply(body=photo, content_type="image/jpeg"))
    slept.clear()
    with pytest.raises(FetchError) as error:
        Fetcher(dataclasses.replace(settings, max_retries=1), **fake).get(server.base_url + "/busy.jpg")
    assert error.value.reason == reason and len(server.requested("/busy.jpg")) == 2 and slept == [0.5]

    server.route("/cut.jpg", broken)  # broken every time: max_retries + 1 requests, then the reason
    slept.clear()
    with pytest.raises(FetchError) as error:
        Fetcher(settings, **fake).get(server.base_url + "/cut.jpg")
    assert error.value.reason == reason and len(server.requested("/cut.jpg")) == 3 and slept == [0.5, 1.0]


def test_crawl_delay_raises_the_delay_and_robots_failures_are_conservative(server, kit):
    settings = dataclasses.replace(get_settings().scrape, delay_seconds=0.0, max_retries=0)
    server.route(
        "/robots.txt",
        kit.Reply(body=b"User-agent: *\nCrawl-delay: 2\nDisallow: /private/\n", content_type="text/plain"),
    )
    fetcher = Fetcher(settings)
    assert fetcher.host_delay(server.base_url + "/a") == 2.0
    assert not fetcher.allowed(server.base_url + "/private/x") and fetcher.allowed(server.base_url + "/public")

    server.route("/robots.txt", kit.Reply(404, b"none"))
    assert Fetcher(settings).allowed(server.base_url + "/private/x")  # no robots.txt: all allowed
    server.route("/robots.txt", kit.Reply(403, b"forbidden"))
    assert not Fetcher(settings).allowed(server.base_url + "/a")
    server.route("/robots.txt", kit.Reply(503, b"down"))
    with pytest.raises(FetchError) as error:
        Fetcher(settings).get(server.base_url + "/a")
    assert error.value.reason == "robots_disallowed"


def test_oversized_downloads_are_refused(server, kit):
    server.route("/big.jpg", kit.Reply(body=b"\xff" * 5000, content_type="image/jpeg"))
    settings = dataclasses.replace(get_settings().scrape, delay_seconds=0.0)
    with pytest.raises(FetchError) as error:
        Fetcher(settings).get(server.base_url + "/big.jpg", max_bytes=1000)
    assert error.value.reason == "too_large"
    with pytest.raises(FetchError) as error:
        Fetcher(settings).get("file:///etc/passwd")
    assert error.value.reason == "bad_url"


def test_append_only_csv_drops_a_half_written_line(tmp_path):
    table = AppendOnlyCsv(tmp_path / "t.csv", ("a", "b"))
    assert table.open() == []
    table.append({"a": "1", "b": "multi\nline, quoted"})
    table.append({"a": "2", "b": "x"})
    data = (tmp_path / "t.csv").read_bytes()
    assert data == b'a,b\n1,"multi line, quoted"\n2,x\n'
    (tmp_path / "t.csv").write_bytes(data + b'3,"unfinish')
    assert table.open() == [{"a": "1", "b": "multi line, quoted"}, {"a": "2", "b": "x"}]
    assert (tmp_path / "t.csv").read_bytes() == data


def test_a_foreign_csv_is_refused(tmp_path):
    (tmp_path / "t.csv").write_text("x,y\n1,2\n")
    with pytest.raises(StoreError, match="choose another --out folder"):
        AppendOnlyCsv(tmp_path / "t.csv", ("a", "b")).open()
    (tmp_path / "u.csv").write_text("a,b\n1,2,3\n")
    with pytest.raises(StoreError, match="line 2: 3 fields"):
        AppendOnlyCsv(tmp_path / "u.csv", ("a", "b")).open()


def test_store_names_never_collide_and_content_is_saved_once(tmp_path, kit):
    store = RunwayStore(tmp_path / "out")
    assert (tmp_path / "out" / "runway.csv").read_text().strip() == ",".join(CSV_COLUMNS)
    one, two = kit.make_jpeg(), kit.make_jpeg()
    first = store.place("sha-one", "chanel/show/look.jpg", write_bytes(one))
    second = store.place("sha-two", "chanel/show/look.jpg", write_bytes(two))
    again = store.place("sha-one", "chanel/other/look.jpg", write_bytes(one))
    assert (first.image_path, second.image_path) == ("chanel/show/look.jpg", "chanel/show/look-2.jpg")
    assert again.duplicate_of == "chanel/show/look.jpg"
    assert probe_image(store.images_root / "chanel/show/look-2.jpg").size_bytes == len(two)


def test_stale_temporary_files_are_cleared_on_open(tmp_path):
    stale = tmp_path / "out" / "images" / "chanel" / ".look.jpg.abc123.tmp.jpg"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half")
    RunwayStore(tmp_path / "out")
    assert not stale.exists()
