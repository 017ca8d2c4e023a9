"""checker/sandbox/store.py and packed.Answers: the units of one turn of the event loop commit together (group commit),
no answer leaves before the changes it reports are committed, and a commit that fails turns those answers into 500s
(never a 201 for a resource that is gone). The kill -9 test of the real server is in test_sandbox_load.py."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from checker.sandbox.app import SandboxOptions
from checker.sandbox.packed import build_app
from checker.sandbox.store import MEMORY, LostWrite, Store

KEY = "fx_test_storetests0001"


class Recorded:
    """The store's connection, with every COMMIT (and the answers sent) written into one shared log; `fail_commit`
    makes COMMIT fail as a full disk would, `fail_insert` a resource's insert (the whole transaction rolled back)."""

    def __init__(self, db: sqlite3.Connection, log: list[str]) -> None:
        self.db, self.log, self.fail_commit, self.fail_insert = db, log, False, False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.fail_insert and sql.startswith("INSERT INTO resources"):
            self.db.execute("ROLLBACK")  # what SQLite does on SQLITE_FULL
            raise sqlite3.OperationalError("database or disk is full")
        if sql == "COMMIT":
            self.log.append("COMMIT")
            if self.fail_commit:
                raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def fax_request(key: str) -> tuple[dict[str, Any], bytes]:
    boundary = "storetests"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="to"\r\n\r\n+15005550000\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        "%PDF-1.4\n%%EOF\n"
        f"\r\n--{boundary}--\r\n"
    ).encode()
    headers = [
        (b"authorization", f"Bearer {KEY}".encode()),
        (b"idempotency-key", key.encode()),
        (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {"type": "http", "method": "POST", "path": "/v1/fax", "headers": headers, "query_string": b"", "client": ("127.0.0.1", 1)}
    scope |= {"asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http", "root_path": "", "raw_path": b"/v1/fax"}
    return scope, body


async def post(app: Any, key: str, log: list[str]) -> tuple[int, dict[str, Any]]:
    scope, body = fax_request(key)
    sent: list[dict[str, Any]] = []
    given = False

    async def receive() -> dict[str, Any]:
        nonlocal given
        if given:
            await asyncio.sleep(3600)
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            log.append(f"answer {message['status']}")
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


@pytest.mark.parametrize("state", ["file", "memory"])
def test_the_creates_of_one_turn_commit_once_and_no_answer_leaves_before_that_commit(tmp_path: Path, state: str) -> None:
    app = build_app("mintfax", db=tmp_path / "state.db" if state == "file" else None, options=SandboxOptions(rate_limit=0))
    store = app.sandbox.store
    log: list[str] = []
    store.db = Recorded(store.db, log)  # type: ignore[assignment]

    async def run() -> list[tuple[int, dict[str, Any]]]:
        return await asyncio.gather(*(post(app, f"turn-{n}", log) for n in range(8)))

    answers = asyncio.run(run())
    assert [status for status, _ in answers] == [201] * 8
    assert log[0] == "COMMIT" and log.count("COMMIT") == 1, log  # eight creates, one commit, before any answer
    assert len(store.resources()) == 8


def test_a_create_answered_from_a_state_file_is_there_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    app = build_app("mintfax", db=db, options=SandboxOptions(rate_limit=0))
    status, fax = asyncio.run(post(app, "kept-1", []))
    assert status == 201
    app.sandbox.store.db.close()  # as a kill -9 would leave it: nothing committed at shutdown
    again = Store(db)
    assert [r["id"] for r in again.resources()] == [fax["id"]]
    again.close()


def test_a_commit_that_fails_turns_every_answer_waiting_on_it_into_a_500_and_keeps_nothing(tmp_path: Path) -> None:
    app = build_app("mintfax", db=tmp_path / "state.db", options=SandboxOptions(rate_limit=0))
    store = app.sandbox.store
    log: list[str] = []
    store.db = recorded = Recorded(store.db, log)  # type: ignore[assignment]
    recorded.fail_commit = True

    async def run() -> list[tuple[int, dict[str, Any]]]:
        return await asyncio.gather(*(post(app, f"lost-{n}", log) for n in range(3)))

    answers = asyncio.run(run())
    assert [status for status, _ in answers] == [500] * 3
    assert all(body["error"] == "internal_error" and "could not save its state" in body["message"] for _, body in answers)
    recorded.fail_commit = False
    assert store.resources() == []  # rolled back: no 201 was sent for it, and none of it is kept
    status, _ = asyncio.run(post(app, "lost-0", log))
    assert status == 201  # the key is still usable: its first attempt made nothing


def test_a_unit_that_fails_undoes_its_own_changes_and_no_other(tmp_path: Path) -> None:
    store = Store(MEMORY)

    async def run() -> None:
        with store.transaction() as db:
            store.balance(db, "a", 100)
        with pytest.raises(RuntimeError), store.transaction() as db:
            store.hold(db, "a", 30, 100)
            raise RuntimeError("after a write")
        with store.transaction() as db:
            assert store.hold(db, "a", 200, 100) is None  # cannot be covered: nothing written
            assert store.hold(db, "a", 40, 100) == 60
        await store.durable(store.batch)

    asyncio.run(run())
    with store.transaction() as db:
        assert store.balance(db, "a", 100) == (60, 40)
    with pytest.raises(LostWrite):
        store.lost[99] = "disk full"
        asyncio.run(store.durable(99))
    store.close()


def test_a_full_disk_mid_batch_loses_only_what_no_answer_claims(tmp_path: Path) -> None:
    """SQLite rolls the whole transaction back when the disk is full (not just the statement): the units already in
    the batch are gone too. Their answers must learn it (LostWrite), the error the caller sees is the disk's (not "no
    such savepoint"), and a unit after it, in a batch of its own, is kept and said to be."""
    store = Store(tmp_path / "state.db")

    async def run() -> None:
        with store.transaction() as db:
            store.balance(db, "before", 100)
        before = store.batch
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # the disk fills during the next unit
        with pytest.raises(sqlite3.OperationalError, match="full"), store.transaction() as db:
            for n in range(100):
                store.insert_resource(db, f"r{n}", "full", "fax", None, "queued", "x" * 4000, 0.0)
        store.db.execute("PRAGMA max_page_count = 1073741823")
        with store.transaction() as db:
            store.balance(db, "after", 100)
        after = store.batch
        try:
            await store.durable(before)
            kept_before = True
        except LostWrite:
            kept_before = False
        await store.durable(after)  # its own batch: committed, and said to be
        with store.transaction() as db:
            rows = {r[0] for r in db.execute("SELECT account FROM balances")}
        assert ("before" in rows) == kept_before, (rows, kept_before)
        assert "after" in rows and not store.resources("full")

    asyncio.run(run())
    store.close()


def test_a_create_that_fills_the_disk_is_told_so_and_the_next_one_is_served(tmp_path: Path) -> None:
    """The create whose own write fills the disk gets the 500 that says its state could not be saved (not "a golive
    bug"), nothing of it is kept, and once there is room again the same key makes the fax. (The disk filling is
    played by the connection: SQLite answers SQLITE_FULL and rolls the whole transaction back, as the test above
    shows it really does.)"""
    app = build_app("mintfax", db=tmp_path / "state.db", options=SandboxOptions(rate_limit=0))
    store = app.sandbox.store
    store.db = recorded = Recorded(store.db, [])  # type: ignore[assignment]
    recorded.fail_insert = True
    status, body = asyncio.run(post(app, "full-1", []))
    assert status == 500 and "could not save its state" in body["message"], body
    recorded.fail_insert = False
    assert store.resources() == []
    status, body = asyncio.run(post(app, "full-1", []))
    assert status == 201 and body["id"].startswith("fax_")
