"""The sandbox's state in SQLite: resources, idempotency records, balances, webhooks, events.

One connection, used only from the server's event-loop thread, to a file (`golive sandbox --db`) or to memory (MEMORY:
without a state file). Each change is one unit (`transaction`: a savepoint, all or nothing); the units of one turn of
the event loop are committed together, once (group commit: `begin`, `commit`: a commit costs a write of every page it
touched, and a turn's units share most of theirs), and no answer leaves the sandbox before what it reports is committed
(`durable`, awaited by packed.Answers): in a file, records survive a restart and a kill -9. Requests in flight are not
state: they live in memory (see app.idempotent).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

log = logging.getLogger("golive.sandbox")
MEMORY = ":memory:"  # the state of a sandbox without a state file: gone when it stops
LOST_BATCHES_KEPT = 64  # batches whose COMMIT failed, remembered for the answers still waiting on them

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    account TEXT NOT NULL, env TEXT NOT NULL, key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL, resource_id TEXT,
    created_at REAL NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (account, env, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS resources (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, kind TEXT NOT NULL, idem_key TEXT,
    status TEXT NOT NULL, data TEXT NOT NULL, created_at REAL NOT NULL,
    emitted INTEGER NOT NULL DEFAULT 0,   -- lifecycle events emitted so far (see mintfax.settle)
    settled INTEGER NOT NULL DEFAULT 0    -- reached a final status
);
-- only flexforward looks labels up by key (a courier retry reuses the failed label). A partial index: a query's
-- `kind = ?` would be planned again on every call, with the value bound (Store.of_kind writes the kind in instead)
CREATE INDEX IF NOT EXISTS labels_by_key ON resources (account, idem_key) WHERE kind = 'label';
CREATE INDEX IF NOT EXISTS resources_open ON resources (account, kind) WHERE settled = 0;
CREATE TABLE IF NOT EXISTS attempts (account TEXT NOT NULL, scope TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (account, scope)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS balances (account TEXT PRIMARY KEY, available INTEGER NOT NULL, held INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, account TEXT NOT NULL, url TEXT NOT NULL,
    events TEXT NOT NULL, secret TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, account TEXT NOT NULL, type TEXT NOT NULL,
    payload TEXT NOT NULL, created_at REAL NOT NULL);
-- one row per event and subscribed endpoint: pending until a 2xx, redelivered with backoff
CREATE TABLE IF NOT EXISTS deliveries (event_id TEXT NOT NULL, webhook_id TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
    last_status INTEGER, PRIMARY KEY (event_id, webhook_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_at) WHERE state = 'pending';
"""

PLAN_DELIVERIES = """
INSERT OR IGNORE INTO deliveries (event_id, webhook_id, next_at)
SELECT e.id, w.id, e.created_at FROM webhooks w JOIN events e ON e.account = w.account
WHERE e.created_at >= w.created_at AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = e.type OR value = '*')
"""
DUE_DELIVERIES = """
SELECT d.event_id, d.webhook_id, d.attempts, e.type, e.payload, w.url, w.secret, w.account
FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
WHERE d.state = 'pending' AND w.account = ? AND d.next_at <= ? ORDER BY e.created_at LIMIT ?
"""


@dataclass(frozen=True, slots=True)
class DueDelivery:
    event_id: str
    webhook_id: str
    attempts: int
    type: str
    payload: str
    url: str
    secret: str
    account: str  # whose clock says when it is due (the account's events and retries are on its clock)


INSERT_EVENT = "INSERT OR IGNORE INTO events (id, account, type, payload, created_at) VALUES (?, ?, ?, ?, ?)"


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    request_hash: str
    status: int | None
    headers: Mapping[str, str]
    body: bytes
    resource_id: str | None


def _fresh() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    return db


def _columns(db: sqlite3.Connection) -> dict[str, list[str]]:
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {table: [row[1] for row in db.execute(f"PRAGMA table_info({table!r})")] for table in tables}


class StateFileError(Exception):
    """The state file cannot be used: its folder is missing, it is not a database, or not this sandbox's."""


class LostWrite(Exception):
    """The commit of the batch holding this answer's changes failed: they are gone, and the answer must not claim them."""


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.batch = 0  # the open batch's number (uncommitted changes), or 0
        self.batches = 0  # batches opened so far
        self.lost: dict[int, str] = {}  # batch -> why its COMMIT failed (the last LOST_BATCHES_KEPT)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StateFileError(f"cannot use {self.path} as the sandbox's state file: {exc}") from None
        try:
            self._prepare()
        except (sqlite3.Error, StateFileError) as exc:
            self.db.close()
            message = str(exc) if isinstance(exc, StateFileError) else f"cannot use {self.path} as the sandbox's state file: {exc}"
            raise StateFileError(message) from None

    def _prepare(self) -> None:
        expected, found = _columns(_fresh()), _columns(self.db)  # checked before anything is written into it
        if set(found) - set(expected) or any(found[table] != expected[table] for table in found):
            raise StateFileError(f"{self.path} is a database of something else (its tables are not the sandbox's)")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")  # each commit still reaches the OS: a kill -9 loses nothing; an OS crash might
        self.db.execute("PRAGMA locking_mode=EXCLUSIVE")  # one process owns the sandbox's state: no lock syscalls per transaction
        self.db.execute("PRAGMA wal_autocheckpoint=10000")  # fewer, larger checkpoints: cheaper commits under load
        self.db.execute("PRAGMA journal_size_limit=67108864")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        if self.batch:
            self.commit()
        self.db.close()

    def of_kind(self, sql: str, kind: str, **params: Any) -> sqlite3.Cursor:
        """`sql` run with the resource kind written in at `{kind}`, as a literal. As a parameter, `kind = ?` is a term the
        partial index's `WHERE kind = 'label'` might match, and SQLite prepares such a statement again on every call
        with the value bound; a literal gets that same plan once (a kind holding NUL, which SQL text cannot, stays a
        parameter)."""
        if "\x00" in kind:
            return self.db.execute(sql.format(kind=":kind"), {**params, "kind": kind})
        return self.db.execute(_with_kind(sql, kind), params)

    def transaction(self) -> sqlite3.Connection:
        """`with store.transaction() as db:` runs the block as one unit (a savepoint in the open batch: all or nothing),
        committed with the rest of this turn of the event loop's changes (at once where no event loop runs)."""
        return _Transaction(self)  # type: ignore[return-value]

    def begin(self) -> None:
        """Open a batch, unless one is open: one IMMEDIATE transaction its changes join, committed by `commit` (scheduled
        for the event loop's next turn, where one runs)."""
        if self.batch and self.db.in_transaction:
            return
        if self.batch:  # SQLite ended it on its own (a full disk rolls back the whole transaction): its changes are gone
            self.lose(self.batch, "SQLite rolled the transaction back")
        self.db.execute("BEGIN IMMEDIATE")
        self.batches += 1
        self.batch = self.batches
        loop = _running_loop()
        if loop is not None:  # else no event loop in this thread: the caller commits (`_Transaction` does, on leaving)
            loop.call_soon(self._commit_soon)

    def commit(self) -> None:
        """Commit the open batch. Where COMMIT fails, the batch is rolled back and remembered as lost (`durable` says so
        to every answer that was waiting on it) before the error is raised."""
        batch = self.batch
        if not batch:
            return
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self.lose(batch, str(exc))
            raise
        self.batch = 0

    def lose(self, batch: int, why: str) -> None:
        """The batch's changes are gone (its COMMIT failed, or SQLite rolled it back): remembered as lost first, so that no
        answer waiting on it says otherwise, then the transaction ended if it is still open."""
        self.lost[batch] = why
        while len(self.lost) > LOST_BATCHES_KEPT:
            del self.lost[next(iter(self.lost))]
        if self.batch == batch:
            self.batch = 0
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def _commit_soon(self) -> None:
        """Commit the open batch; a failure is logged (and remembered: `durable`), not raised into the event loop."""
        try:
            self.commit()
        except sqlite3.Error as exc:
            log.error("the sandbox could not commit its state (%s); the answers waiting on it are errors", exc)

    async def durable(self, batch: int) -> None:
        """Return once `batch` (a `Store.batch` seen earlier) is committed. The changes of one turn of the event loop are
        committed together: this yields once, so that the other requests of the turn write first, then commits the
        batch if it is still open. Raises `LostWrite` where its commit failed."""
        if self.batch == batch:
            await asyncio.sleep(0)
            if self.batch == batch:
                self._commit_soon()
        if batch in self.lost:
            raise LostWrite(self.lost[batch])

    # ---------------------------------------------------------------- idempotency

    def lookup(self, account: str, env: str, key: str, now: float) -> IdempotencyRecord | None:
        """The stored response for a key, unless it has expired."""
        row = self.db.execute(
            "SELECT request_hash, status, headers, body, resource_id FROM idempotency"
            " WHERE account = ? AND env = ? AND key = ? AND expires_at > ?",
            (account, env, key, now),
        ).fetchone()
        if row is None:
            return None
        return IdempotencyRecord(row[0], row[1], _headers(row[2]), row[3], row[4])

    def save(
        self,
        account: str,
        env: str,
        key: str,
        request_hash: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        now: float,
        ttl_s: float,
    ) -> None:
        """Store the response that created something; replaces an expired record of the same key."""
        self.db.execute(
            "INSERT OR REPLACE INTO idempotency (account, env, key, request_hash, status, headers, body, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (account, env, key, request_hash, status, _headers_text(tuple(headers.items())), body, now, now + ttl_s),
        )

    # ---------------------------------------------------------------- resources

    def insert_resource(
        self,
        db: sqlite3.Connection,
        rid: str,
        account: str,
        kind: str,
        idem_key: str | None,
        status: str,
        data: dict[str, Any] | str,
        now: float,
    ) -> None:
        """`data` is the resource, or its JSON text when the caller has serialised it already."""
        db.execute(
            "INSERT INTO resources (id, account, kind, idem_key, status, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rid, account, kind, idem_key, status, data if isinstance(data, str) else json.dumps(data), now),
        )

    def update_resource(
        self, db: sqlite3.Connection, rid: str, status: str, data: dict[str, Any], *, emitted: int = 0, settled: bool = False
    ) -> None:
        db.execute(
            "UPDATE resources SET status = ?, data = ?, emitted = MAX(emitted, ?), settled = ? WHERE id = ?",
            (status, json.dumps(data), emitted, int(settled), rid),
        )

    def get_resource(self, account: str, kind: str, rid: str) -> dict[str, Any] | None:
        row = self.of_kind(
            "SELECT data FROM resources WHERE id = :id AND account = :account AND kind = {kind}", kind, id=rid, account=account
        ).fetchone()
        return json.loads(row[0]) if row else None

    def failed_by_key(self, account: str, kind: str, idem_key: str, since: float) -> dict[str, Any] | None:
        """The resource a failure left `failed` under this key, created after `since` (while the key is live)."""
        row = self.of_kind(
            "SELECT data FROM resources WHERE account = :account AND idem_key = :key AND kind = {kind} AND status = 'failed' "
            "AND created_at > :since ORDER BY created_at DESC LIMIT 1",
            kind,
            account=account,
            key=idem_key,
            since=since,
        ).fetchone()
        return json.loads(row[0]) if row else None

    def open_resources(self, account: str, kind: str) -> list[tuple[str, float, dict[str, Any], int]]:
        """(id, created_at, data, events emitted) of the resources not yet in a final status."""
        rows = self.of_kind(
            "SELECT id, created_at, data, emitted FROM resources WHERE account = :account AND kind = {kind} AND settled = 0",
            kind,
            account=account,
        ).fetchall()
        return [(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    def resources(self, account: str | None = None) -> list[dict[str, Any]]:
        """Every resource of `account` (of every account without one) as the provider shows it, oldest first."""
        query = "SELECT data FROM resources" + (" WHERE account = ?" if account else "") + " ORDER BY created_at, rowid"
        return [json.loads(row[0]) for row in self.db.execute(query, (account,) if account else ())]

    def accounts(self) -> list[str]:
        """The accounts that have created something."""
        return [row[0] for row in self.db.execute("SELECT DISTINCT account FROM resources")]

    def count_resources(self, account: str | None = None) -> dict[str, int]:
        query = "SELECT kind, COUNT(*) FROM resources" + (" WHERE account = ?" if account else "") + " GROUP BY kind"
        return dict(self.db.execute(query, (account,) if account else ()).fetchall())

    # ---------------------------------------------------------------- attempts (magic numbers)

    def next_attempt(self, account: str, scope: str) -> int:
        """1 on the first call for (account, scope), then 2, 3, ..."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO attempts (account, scope, n) VALUES (?, ?, 1) ON CONFLICT (account, scope) DO UPDATE SET n = n + 1",
                (account, scope),
            )
            return int(db.execute("SELECT n FROM attempts WHERE account = ? AND scope = ?", (account, scope)).fetchone()[0])

    # ---------------------------------------------------------------- balance

    def balance(self, db: sqlite3.Connection, account: str, opening: int) -> tuple[int, int]:
        row = db.execute("SELECT available, held FROM balances WHERE account = ?", (account,)).fetchone()
        if row is None:
            db.execute("INSERT INTO balances (account, available, held) VALUES (?, ?, 0)", (account, opening))
            return opening, 0
        return int(row[0]), int(row[1])

    def hold(self, db: sqlite3.Connection, account: str, amount: int, opening: int) -> int | None:
        """Move `amount` from available to held; the available balance after, or None if it cannot be covered (then
        nothing is written). Read, then written without RETURNING (which costs SQLite a table of its own per call): the
        store is used from one thread, inside the caller's transaction, so nothing moves the balance in between."""
        available, _held = self.balance(db, account, opening)  # a new account opens with the sandbox balance
        if available < amount:
            return None
        db.execute("UPDATE balances SET available = available - ?, held = held + ? WHERE account = ?", (amount, amount, account))
        return available - amount

    def move_balance(self, db: sqlite3.Connection, account: str, available_delta: int, held_delta: int) -> None:
        db.execute(
            "UPDATE balances SET available = available + ?, held = held + ? WHERE account = ?",
            (available_delta, held_delta, account),
        )

    # ---------------------------------------------------------------- webhooks and events

    def add_webhook(self, wid: str, account: str, url: str, events: list[str], secret: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO webhooks (id, account, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (wid, account, url, json.dumps(events), secret, now),
        )

    def webhooks(self, account: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, url, events, created_at FROM webhooks WHERE account = ? ORDER BY created_at", (account,)
        ).fetchall()
        return [{"id": r[0], "url": r[1], "events": json.loads(r[2]), "created_at": r[3]} for r in rows]

    def delete_webhook(self, account: str, wid: str) -> bool:
        return self.db.execute("DELETE FROM webhooks WHERE account = ? AND id = ?", (account, wid)).rowcount > 0

    def add_event(self, db: sqlite3.Connection, eid: str, account: str, type_: str, payload: str, now: float) -> None:
        """`payload` is the event's JSON text, as it will be delivered; an event id already stored is kept."""
        db.execute(INSERT_EVENT, (eid, account, type_, payload, now))

    def accounts_with_webhooks(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT account FROM webhooks")]

    def due_deliveries(self, now_of: Mapping[str, float], limit: int) -> list[DueDelivery]:
        """Plan a delivery for each event an endpoint subscribed to since it was registered; those due now, each on
        its account's clock (`now_of`: account -> that clock's now; an account moves its own clock)."""
        self.db.execute(PLAN_DELIVERIES)
        due: list[DueDelivery] = []
        for account, now in now_of.items():
            if len(due) >= limit:
                break
            due += [DueDelivery(*row) for row in self.db.execute(DUE_DELIVERIES, (account, now, limit - len(due)))]
        return due

    def delivery_attempted(self, event_id: str, webhook_id: str, status: int | None, state: str, next_at: float) -> None:
        self.db.execute(
            "UPDATE deliveries SET attempts = attempts + 1, last_status = ?, state = ?, next_at = ? WHERE event_id = ? AND webhook_id = ?",
            (status, state, next_at, event_id, webhook_id),
        )

    def deliveries(self, account: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT d.event_id, d.webhook_id, d.state, d.attempts, d.last_status FROM deliveries d "
            "JOIN webhooks w ON w.id = d.webhook_id WHERE w.account = ? ORDER BY d.event_id",
            (account,),
        )
        return [{"event_id": r[0], "webhook_id": r[1], "state": r[2], "attempts": r[3], "last_status": r[4]} for r in rows]

    def events(self, account: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT payload FROM events WHERE account = ? ORDER BY created_at", (account,)).fetchall()
        return [json.loads(r[0]) for r in rows]


@functools.lru_cache(maxsize=64)
def _headers(text: str) -> Mapping[str, str]:
    """A stored answer's headers (a handful of distinct texts: the content types a pack answers with), read once each."""
    return MappingProxyType(json.loads(text))


@functools.lru_cache(maxsize=64)
def _headers_text(items: tuple[tuple[str, str], ...]) -> str:
    return json.dumps(dict(items))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@functools.lru_cache(maxsize=64)
def _with_kind(sql: str, kind: str) -> str:
    return sql.format(kind="'" + kind.replace("'", "''") + "'")


class _Transaction:
    """A savepoint in the store's open batch (see `Store.transaction`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store.begin()
        self.store.db.execute("SAVEPOINT unit")
        return self.store.db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        store, db = self.store, self.store.db
        if not db.in_transaction:  # SQLite rolled the whole batch back (a full disk, an I/O error): the other units too
            why = str(exc) if exc is not None else "SQLite rolled the transaction back"
            store.lose(store.batch, why)
            if exc_type is None:
                raise LostWrite(why)
            return  # the error that did it goes on
        if exc_type is not None:
            db.execute("ROLLBACK TO unit")
        db.execute("RELEASE unit")
        if _running_loop() is None:
            self.store.commit()  # no event loop to commit with the rest of its turn: now
