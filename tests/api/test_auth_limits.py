"""Keys and limits that cannot be turned against users (issue 18 item 4): wrong keys never lock
out a valid key, X-Forwarded-For counts only from trusted proxies, and every worker of
``serve --workers 2`` counts against the same limits."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from benchmarks.servers import RawConn, children, serve

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"  # loopback only
NEW_AED = {"type": "aed", "name": "Limits AED", "lon": 7.4201, "lat": 43.7349, "access": "yes"}


@pytest.fixture
def make_app(andorra, monaco, tmp_path):
    """An app over the demo regions with these settings (fresh registry)."""
    from geoservice.faces.api.app import create_app
    from geoservice.service.core import GeoService
    from geoservice.service.registry.store import Registry
    from geoservice.service.settings import Settings

    made: list = []

    def _make(**settings):
        svc = GeoService(
            [andorra, monaco], registry=Registry(tmp_path / f"reg{len(made)}.sqlite"), settings=Settings.of(**settings)
        )
        made.append(svc)
        return create_app(svc)

    yield _make
    for svc in made:
        svc.close()


def _editor(app, name="limits-editor"):
    return {"X-API-Key": app.state.geo.registry.create_key(name, "editor")[1]}


def _wrong(i: int, prefix: str = "guess") -> dict[str, str]:
    return {"X-API-Key": f"gsk_{prefix}{i:06d}xxxxxxxxxxxxxxxxxxxxxxxx"}


# --------------------------------------------------------------------------- lockout
def test_wrong_keys_from_the_same_address_never_lock_out_an_editor(make_app):
    """Anyone behind the editors' NAT sends wrong keys, many and the same one repeatedly: their
    wrong keys get 429, the editors' valid keys go on working."""
    app = make_app(failed_key_limit=3, failed_keys_per_address=10)
    ed1, ed2 = _editor(app, "nat-editor-1"), _editor(app, "nat-editor-2")
    with TestClient(app, client=("198.51.100.7", 4000)) as nat:
        codes = [nat.post("/facilities", json=NEW_AED, headers=_wrong(0, "same")).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        codes = [nat.post("/facilities", json=NEW_AED, headers=_wrong(i)).status_code for i in range(10)]
        assert codes == [401] * 7 + [429] * 3  # 10 wrong keys from the address in all
        for i, ed in enumerate((ed1, ed2, ed1)):
            r = nat.post("/facilities", json={**NEW_AED, "id": f"nat-{i}"}, headers=ed)
            assert r.status_code == 201, r.text
        assert nat.get("/audit", headers=ed2).status_code == 200
        # the lockout answer says the right key still works; it keeps no part of the wrong keys
        r = nat.post("/facilities", json=NEW_AED, headers=_wrong(0, "same"))
        assert r.status_code == 429 and "valid key is still accepted" in r.json()["detail"]
    names = [row[0] for row in app.state.limits.store.query("SELECT name FROM events")]
    assert names and not any("same" in n or "guess" in n for n in names)


def test_a_key_with_a_typo_does_not_lock_out_the_right_key(make_app):
    """The same first characters as the right key (a truncated copy): the right key still works."""
    app = make_app(failed_key_limit=2)
    ed = _editor(app)
    typo = {"X-API-Key": ed["X-API-Key"][:-3]}
    with TestClient(app) as c:
        assert [c.post("/facilities", json=NEW_AED, headers=typo).status_code for _ in range(3)] == [401, 401, 429]
        assert c.post("/facilities", json=NEW_AED, headers=ed).status_code == 201


# --------------------------------------------------------------------------- forwarded headers
def test_forwarded_for_from_an_untrusted_peer_is_ignored(make_app):
    """By default no proxy is trusted, loopback included: a spoofed header changes nothing."""
    app = make_app(failed_key_limit=2)
    with TestClient(app, client=("127.0.0.1", 4000)) as c:
        codes = [
            c.post("/facilities", json=NEW_AED, headers={**_wrong(0), "X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(4)
        ]
        assert codes == [401, 401, 429, 429]
        assert "127.0.0.1" in c.post("/facilities", json=NEW_AED, headers=_wrong(0)).json()["detail"]


def test_forwarded_for_from_a_trusted_proxy_names_the_client(make_app):
    app = make_app(failed_key_limit=2, trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    with TestClient(app, client=("127.0.0.1", 4000)) as proxy, TestClient(app, client=("192.0.2.1", 4000)) as c:
        # each forwarded client has its own count
        for i in range(4):
            h = {**_wrong(0), "X-Forwarded-For": f"203.0.113.{i}"}
            assert proxy.post("/facilities", json=NEW_AED, headers=h).status_code == 401
        # what the client itself wrote on the left is not believed: the proxy appended the real one
        codes = [
            proxy.post(
                "/facilities",
                json=NEW_AED,
                headers={**_wrong(0), "X-Forwarded-For": f"198.51.100.{i}, 203.0.113.77, 10.1.2.3"},
            ).status_code
            for i in range(3)
        ]
        assert codes == [401, 401, 429]
        r = proxy.post("/facilities", json=NEW_AED, headers={**_wrong(0), "X-Forwarded-For": "203.0.113.77"})
        assert r.status_code == 429 and "203.0.113.77" in r.json()["detail"]
        # a peer that is not a trusted proxy: its header is ignored
        codes = [
            c.post("/facilities", json=NEW_AED, headers={**_wrong(0), "X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(50, 53)
        ]
        assert codes == [401, 401, 429]


@pytest.mark.parametrize(
    "peer, header, client",
    [
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("127.0.0.1", "1.1.1.1, 203.0.113.5", "203.0.113.5"),  # rightmost untrusted
        ("127.0.0.1", "203.0.113.5, 10.0.0.2, 10.0.0.3", "203.0.113.5"),  # a chain of trusted proxies
        ("127.0.0.1", "10.0.0.2", "10.0.0.2"),  # only proxies: the farthest one
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),  # malformed: the last trusted hop
        ("127.0.0.1", "203.0.113.5, garbage", "127.0.0.1"),
        ("127.0.0.1", "[2001:db8::1]", "2001:db8::1"),
        ("::ffff:127.0.0.1", "203.0.113.5", "203.0.113.5"),  # IPv4-mapped peer
        ("192.0.2.1", "203.0.113.5", "192.0.2.1"),  # untrusted peer
    ],
)
def test_forwarded_client(peer, header, client):
    from geoservice.faces.api.admission import ClientAddress

    ca = ClientAddress(None, trusted=["127.0.0.1", "10.0.0.0/8"])  # type: ignore[arg-type]
    got = ca.forwarded_client(peer, header) if ca.trusts(peer) else peer
    assert got == client


def test_client_ids_group_ipv6_by_subscriber_prefix():
    from geoservice.faces.api.admission import client_id

    assert client_id("2001:db8:1:2:aaaa::1") == client_id("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_id("2001:db8:1:3::1") != client_id("2001:db8:1:2::1")
    assert client_id("::ffff:198.51.100.7") == "198.51.100.7" and client_id("testclient") == "testclient"


def test_trusted_proxies_setting_is_checked():
    from pydantic import ValidationError

    from geoservice.service.settings import Settings

    assert Settings.of(trusted_proxies=[" 10.0.0.0/8", "::1"]).server.trusted_proxies == ["10.0.0.0/8", "::1"]
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings.of(trusted_proxies=["proxy.example"])


# --------------------------------------------------------------------------- shared by workers
def test_counters_are_shared_by_processes(tmp_path):
    """Two processes on one counters file take from one budget (the forked workers' case)."""
    from geoservice.faces.api.limits import CounterStore, SlidingWindow

    path = tmp_path / "counters.sqlite"
    w = SlidingWindow(5, 60, store=CounterStore(path), namespace="writes")
    assert w.acquire("key:1") == 0
    pid = os.fork()
    if pid == 0:  # the child: its own connection to the same file
        code = 1
        try:
            code = 0 if [w.acquire("key:1") == 0 for _ in range(3)] == [True] * 3 else 2
        finally:
            os._exit(code)
    assert os.waitpid(pid, 0)[1] == 0
    assert [w.acquire("key:1") == 0 for _ in range(3)] == [True, False, False]


@pytest.mark.slow
def test_limits_hold_across_two_workers(monaco, tmp_path):
    """WRITES_PER_MINUTE=5 with 2 workers: 5 edits accepted in a minute, not 5 per worker (16 of
    16 sent were accepted before); wrong keys with spoofed X-Forwarded-For from loopback are
    counted for loopback, by both workers together."""
    from geoservice.service.registry.store import Registry

    db = tmp_path / "registry.sqlite"
    reg = Registry(db)
    token = reg.create_key("two-workers", "editor")[1]
    reg.close()
    server = serve(
        [monaco.path],
        db,
        workers=2,
        log=tmp_path / "serve.log",
        settings={"writes_per_minute": "5", "failed_key_limit": "3"},
    )
    proc, port = server.proc, server.port
    conns: list[RawConn] = []
    try:
        deadline = time.time() + 60
        while True:  # workers start answering one by one
            workers = children(proc.pid)
            if len(workers) == 2:
                break
            assert time.time() < deadline, "serve --workers 2 has not 2 workers"
            time.sleep(0.2)
        by_worker: dict[int, list[RawConn]] = {}
        for _ in range(200):  # connections until each worker holds some
            c = RawConn(port)
            assert c.request("GET", "/health") == 200
            conns.append(c)
            w = c.worker(workers)
            if w is not None:
                by_worker.setdefault(w, []).append(c)
            if len(by_worker) == 2 and min(len(v) for v in by_worker.values()) >= 2:
                break
        assert len(by_worker) == 2, "the kernel gave every connection to one worker"
        a, b = by_worker.values()
        order = [a[0], b[0], a[1], b[1]] * 4
        codes = []
        for i, c in enumerate(order):
            body = f'{{"type": "aed", "name": "two workers {i}", "lon": 7.4201, "lat": 43.7349}}'.encode()
            codes.append(
                c.request("POST", "/facilities", body, {"Content-Type": "application/json", "X-API-Key": token})
            )
        assert codes.count(201) == 5 and codes.count(429) == 11, codes
        assert codes[:5] == [201] * 5  # both workers' edits counted together
        # spoofed forwarded addresses from loopback, alternating workers: one count for 127.0.0.1
        wrong = {"X-API-Key": "gsk_spoofedxxxxxxxxxxxxxxxxxxxxxxxx"}
        codes = [
            c.request(
                "POST",
                "/facilities",
                b"{}",
                {**wrong, "X-Forwarded-For": f"203.0.113.{i}", "Content-Type": "application/json"},
            )
            for i, c in enumerate([a[0], b[0], a[1], b[1], a[0]])
        ]
        assert codes == [401, 401, 401, 429, 429]
    finally:
        for c in conns:
            c.close()
        server.stop()
