"""The sandbox's state in SQLite: resources, idempotency records, balances, webhooks, events.

One connection, used only from the server's event-loop thread; each change is one
transaction, so records survive a restart (and a kill -9) when the database is a file.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    account TEXT NOT NULL, env TEXT NOT NULL, key TEXT NOT NULL,
    state TEXT NOT NULL,                 -- processing | done
    request_hash TEXT NOT NULL,
    status INTEGER, headers TEXT, body BLOB, resource_id TEXT,
    created_at REAL NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (account, env, key)
);
CREATE TABLE IF NOT EXISTS resources (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, kind TEXT NOT NULL, idem_key TEXT,
    status TEXT NOT NULL, data TEXT NOT NULL, created_at REAL NOT NULL, settled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS resources_by_key ON resources (account, kind, idem_key);
CREATE INDEX IF NOT EXISTS resources_open ON resources (account, settled);
CREATE TABLE IF NOT EXISTS attempts (account TEXT NOT NULL, scope TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (account, scope));
CREATE TABLE IF NOT EXISTS balances (account TEXT PRIMARY KEY, available INTEGER NOT NULL, held INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, account TEXT NOT NULL, url TEXT NOT NULL,
    events TEXT NOT NULL, secret TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, account TEXT NOT NULL, type TEXT NOT NULL,
    payload TEXT NOT NULL, created_at REAL NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    state: str
    request_hash: str
    status: int | None
    headers: dict[str, str]
    body: bytes
    resource_id: str | None


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(SCHEMA)
        # a restart means nothing is in flight any more: free keys a killed server left reserved
        self.db.execute("DELETE FROM idempotency WHERE state = 'processing'")

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> sqlite3.Connection:
        """`with store.transaction() as db:` runs the block in one IMMEDIATE transaction."""
        return _Transaction(self.db)  # type: ignore[return-value]

    # ---------------------------------------------------------------- idempotency

    def reserve(self, account: str, env: str, key: str, request_hash: str, now: float, ttl_s: float) -> IdempotencyRecord | None:
        """Reserve `key` for a new request; or return the record that already holds it."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT state, request_hash, status, headers, body, resource_id, expires_at FROM idempotency"
                " WHERE account = ? AND env = ? AND key = ?",
                (account, env, key),
            ).fetchone()
            if row is not None and row[6] > now:
                return IdempotencyRecord(row[0], row[1], row[2], json.loads(row[3] or "{}"), row[4] or b"", row[5])
            db.execute("DELETE FROM idempotency WHERE account = ? AND env = ? AND key = ?", (account, env, key))
            db.execute(
                "INSERT INTO idempotency (account, env, key, state, request_hash, created_at, expires_at)"
                " VALUES (?, ?, ?, 'processing', ?, ?, ?)",
                (account, env, key, request_hash, now, now + ttl_s),
            )
        return None

    def complete(
        self, account: str, env: str, key: str, status: int, headers: dict[str, str], body: bytes, resource_id: str | None
    ) -> None:
        self.db.execute(
            "UPDATE idempotency SET state = 'done', status = ?, headers = ?, body = ?, resource_id = ?"
            " WHERE account = ? AND env = ? AND key = ?",
            (status, json.dumps(headers), body, resource_id, account, env, key),
        )

    def release(self, account: str, env: str, key: str) -> None:
        self.db.execute(
            "DELETE FROM idempotency WHERE account = ? AND env = ? AND key = ? AND state = 'processing'",
            (account, env, key),
        )

    # ---------------------------------------------------------------- resources

    def insert_resource(
        self, db: sqlite3.Connection, rid: str, account: str, kind: str, idem_key: str | None, status: str, data: dict[str, Any], now: float
    ) -> None:
        db.execute(
            "INSERT INTO resources (id, account, kind, idem_key, status, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rid, account, kind, idem_key, status, json.dumps(data), now),
        )

    def update_resource(self, db: sqlite3.Connection, rid: str, status: str, data: dict[str, Any], settled: bool = False) -> None:
        db.execute("UPDATE resources SET status = ?, data = ?, settled = ? WHERE id = ?", (status, json.dumps(data), int(settled), rid))

    def get_resource(self, account: str, kind: str, rid: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM resources WHERE id = ? AND account = ? AND kind = ?", (rid, account, kind)).fetchone()
        return json.loads(row[0]) if row else None

    def resource_by_key(self, account: str, kind: str, idem_key: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT data FROM resources WHERE account = ? AND kind = ? AND idem_key = ? ORDER BY created_at LIMIT 1",
            (account, kind, idem_key),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def open_resources(self, account: str, kind: str) -> list[tuple[str, float, dict[str, Any]]]:
        rows = self.db.execute(
            "SELECT id, created_at, data FROM resources WHERE account = ? AND kind = ? AND settled = 0", (account, kind)
        ).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

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

    def add_event(self, db: sqlite3.Connection, eid: str, account: str, type_: str, payload: dict[str, Any], now: float) -> None:
        db.execute(
            "INSERT INTO events (id, account, type, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            (eid, account, type_, json.dumps(payload), now),
        )

    def events(self, account: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT payload FROM events WHERE account = ? ORDER BY created_at", (account,)).fetchall()
        return [json.loads(r[0]) for r in rows]


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
