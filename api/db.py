"""The engine, the transaction and the rows a refusal keeps. No web framework here.

Hot paths use SQLAlchemy Core on an async connection (psycopg 3 or aiosqlite); the
request's dependency (`api.deps.Connection`) begins a transaction, commits when the route
returns and rolls back when it raises. Services never commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Delete, Insert, Select, Table, Update, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import queue as sqla_queue

from api.errors import AppError, kept
from api.instruments import POOL_IN_USE, POOL_WAITING
from api.settings import Settings

Writes = list[tuple[Table, list[dict[str, Any]]]]


def sync_url(database_url: str) -> URL:
    """The URL for synchronous use (Alembic, CLI): pysqlite or psycopg."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite")
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database: {url.get_backend_name()}")


def async_url(database_url: str) -> URL:
    url = sync_url(database_url)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    return url


def ensure_sqlite_dir(url: URL) -> None:
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# an overflow connection stays open until this long after the last moment more than
# pool_size connections were in use
OVERFLOW_LINGER_SECONDS = 10.0


class MeteredPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's pool for async drivers, counting who waits for a connection: for
    readiness and /metrics. A checkout that finds an idle connection, or room to open one,
    costs one comparison more.

    Connections opened beyond pool_size (up to max_overflow more) are kept as spares while
    the load lasts, and closed once no more than pool_size have been in use for
    OVERFLOW_LINGER_SECONDS: under a load that hovers around pool_size, SQLAlchemy's own
    pool closes an overflow connection at every return and opens a new one at the next
    checkout (a PostgreSQL backend started per request)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.max_overflow: int = self._max_overflow
        self.waiting = 0
        self._spares: list[ConnectionPoolEntry] = []
        self._busy_at = 0.0
        # a place in line for each connection the pool may open (`connected`)
        self.gate = asyncio.Semaphore(self.size() + self.max_overflow)

    @property
    def exhausted(self) -> bool:
        """Every connection it may open is in use."""
        return self.max_overflow >= 0 and self.checkedout() >= self.size() + self.max_overflow

    def checkedout(self) -> int:
        return super().checkedout() - len(self._spares)

    def _do_get(self) -> ConnectionPoolEntry:
        if self._spares:
            self._busy_at = time.monotonic()
            return self._spares.pop()
        if not self.exhausted:
            entry = super()._do_get()
        else:
            self.waiting += 1
            POOL_WAITING.inc()
            try:
                entry = super()._do_get()
            finally:
                self.waiting -= 1
                POOL_WAITING.dec()
        if self.checkedout() > self.size():
            self._busy_at = time.monotonic()
        return entry

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        try:
            self._pool.put(record, False)
        except sqla_queue.Full:
            self._spares.append(record)
        if self._spares and time.monotonic() - self._busy_at > OVERFLOW_LINGER_SECONDS:
            self._close_spares()

    def _close_spares(self) -> None:
        while self._spares:
            spare = self._spares.pop()
            try:
                spare.close()
            finally:
                self._dec_overflow()

    def dispose(self) -> None:
        self._close_spares()
        super().dispose()


@asynccontextmanager
async def connected(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """engine.connect() for a request, first come first served.

    SQLAlchemy's queue for async drivers lets a newcomer take a connection that was just
    handed back while the request that waited longest is still waking up; that request
    waits again at the end of the line (tests/db/test_pool.py shows it). At 256 connections
    to one worker, wrk's 2-second timeouts went from 178 to 53 with this gate in one pair of
    runs of the same list. A request here first takes one of
    MeteredPool.gate's places (asyncio's semaphore serves its waiters in order), counted
    as waiting while it queues (readiness and /metrics), and gives up after pool_timeout
    as the pool would (503)."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, MeteredPool) or pool.max_overflow < 0:
        async with engine.connect() as conn:
            yield conn
        return
    gate = pool.gate
    if gate.locked():
        pool.waiting += 1
        POOL_WAITING.inc()
        try:
            async with asyncio.timeout(pool.timeout()):
                await gate.acquire()
        except TimeoutError:
            raise PoolTimeoutError(
                f"no database connection free within {pool.timeout():.1f} s"
            ) from None
        finally:
            pool.waiting -= 1
            POOL_WAITING.dec()
    else:
        await gate.acquire()
    try:
        conn = await engine.connect().start()
        try:
            yield conn
        finally:
            await _close(conn)
    finally:
        gate.release()


async def _close(conn: AsyncConnection) -> None:
    """conn.close(), as leaving `async with engine.connect()` does, without a task of its
    own where nothing is sent. SQLAlchemy closes in a task of its own, shielded, so that a
    cancellation cannot leave a close half done (a tenth of a GET /me's CPU, with the extra
    turn of the event loop). A psycopg connection whose transaction is idle (committed,
    rolled back, or a read's) sends nothing on close: the pool's rollback is a no-op. It
    suspends at most once, where psycopg lets other tasks run after 5 ms of work without a
    wait; a cancellation there (a shutdown's) makes the pool close that connection, logged,
    and still take it back. Any other close goes through SQLAlchemy's own exit."""
    driver = _live_driver(conn)
    if driver is not None and driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        await conn.close()
        return
    await conn.__aexit__(None, None, None)


def _checked_out(*_: Any) -> None:
    POOL_IN_USE.inc()


def _checked_in(*_: Any) -> None:
    POOL_IN_USE.dec()


def engine_options(settings: Settings) -> dict[str, Any]:
    # statement parameters hold personal data: never put them into error messages
    if settings.is_sqlite:
        return {"hide_parameters": True, "poolclass": MeteredPool}
    return {
        "hide_parameters": True,
        "poolclass": MeteredPool,
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        "pool_recycle": 1800,
        "connect_args": {
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms} "
            f"-c lock_timeout={settings.db_statement_timeout_ms} -c timezone=UTC",
            "connect_timeout": 5,
            "application_name": "bwk-api",
        },
    }


FIGURES_FROM_ROLLUP = "bwk_figures_from_rollup"


def make_engine(settings: Settings) -> AsyncEngine:
    url = async_url(settings.database_url)
    ensure_sqlite_dir(url)
    engine = create_async_engine(
        url,
        # read by api/indicators/service.py: the figures from the rollup or the registrations
        execution_options={FIGURES_FROM_ROLLUP: settings.figures_from_rollup},
        **engine_options(settings),
    )
    event.listen(engine.sync_engine, "checkout", _checked_out)
    event.listen(engine.sync_engine, "checkin", _checked_in)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine.sync_engine, "begin", _no_autocommit)
    return engine


# -- reads without a transaction ---------------------------------------------------------

# An execution option marking the connection of a read (`reading`): each of its statements
# commits itself.
READ = "bwk_read"


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose statements commit themselves: no BEGIN and COMMIT round trips.

    On PostgreSQL psycopg's autocommit is switched on when the pooled connection is not in
    it yet, and stays on when the connection goes back to the pool: a run of reads pays for
    no switch at all (SQLAlchemy's isolation_level="AUTOCOMMIT" switches it on and off again
    for every checkout). Whoever begins a transaction on a connection switches it off first
    (`_no_autocommit`, on SQLAlchemy's "begin" event, which explicit and automatic begins
    both fire). Elsewhere (SQLite) it is SQLAlchemy's isolation_level="AUTOCOMMIT"."""
    async with connected(engine) as conn:
        if conn.dialect.name == "postgresql":
            sync = conn.sync_connection
            assert sync is not None
            # not a connection characteristic: sets an attribute, no I/O
            sync.execution_options(**{READ: True})
            driver = await _driver(conn)
            if not driver.autocommit:
                await driver.set_autocommit(True)
        else:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def _no_autocommit(conn: SyncConnection) -> None:
    """A transaction begins on a connection (PostgreSQL): psycopg's autocommit, which a read
    (`reading`) may have left on, goes off, so the transaction is one. A read's own
    connection keeps it: SQLAlchemy begins there too, automatically, and with autocommit on
    psycopg sends no BEGIN and its COMMIT or ROLLBACK does nothing, as with
    isolation_level="AUTOCOMMIT"."""
    options = conn.get_execution_options()
    if options.get(READ):
        return
    if options.get(LONE_WRITE_DONE):
        raise RuntimeError("a statement after a write run with alone=True: not alone, then")
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and dbapi.autocommit:
        dbapi.autocommit = False  # SQLAlchemy's adapter awaits psycopg's set_autocommit


async def write(conn: AsyncConnection, writes: Writes) -> None:
    for target, rows in writes:
        if rows:
            await conn.execute(target.insert(), rows)


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """BEGIN; COMMIT when the block returns, ROLLBACK when it raises. A refusal's kept rows
    (`api.errors.kept`) are written and committed all the same."""
    async with connected(engine) as conn:
        trans = await conn.begin()
        try:
            yield conn
        except AppError as err:
            if err.keep and conn.dialect.name == "postgresql":
                # while the refused transaction still holds its locks (the throttle's lock),
                # so the next attempt of the same account counts these rows
                async with engine.begin() as other:
                    await write(other, err.keep)
            await trans.rollback()
            if err.keep and conn.dialect.name != "postgresql":
                async with conn.begin():  # SQLite has one writer: after the rollback
                    await write(conn, err.keep)
            raise
        except BaseException:
            await trans.rollback()
            raise
        await trans.commit()


# An execution option marking a write request's connection (`writing`) on PostgreSQL: its
# transaction begins with the first statement that may write.
LAZY = "bwk_lazy"
# ... and on it, a write run with alone=True has committed itself: nothing may follow
LONE_WRITE_DONE = "bwk_lone_write_done"


@asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A write request's connection: `transaction`, whose BEGIN waits for the first statement
    that may write (PostgreSQL).

    Until then statements commit themselves, as a read's do (the caller's session lookup,
    a cached reference): under READ COMMITTED each statement sees what was committed before
    it either way, and none of them takes a lock. Any SQLAlchemy statement begins the
    transaction (SQLAlchemy's own begin, which switches psycopg's autocommit off), and so
    does a prepared statement that is not marked as a read (`Prepared(..., reads=True)`)
    and a COPY; so does a SAVEPOINT. A request whose only write is one statement says so
    (`Prepared.run(..., alone=True)`): it commits itself, and the request sends neither
    BEGIN nor COMMIT: two round trips fewer for the desk's registration of a group.
    Elsewhere (SQLite) it is `transaction`."""
    if engine.dialect.name != "postgresql":
        async with transaction(engine) as conn:
            yield conn
        return
    async with connected(engine) as conn:
        sync = conn.sync_connection
        assert sync is not None
        sync.execution_options(**{LAZY: True})  # this checkout only; no I/O
        driver = await _driver(conn)
        if not driver.autocommit:
            await driver.set_autocommit(True)  # idle: no I/O
        try:
            yield conn
        except AppError as err:
            if err.keep:
                # while the refused transaction still holds its locks, as `transaction`
                async with engine.begin() as other:
                    await write(other, err.keep)
            await _end(conn, commit=False)
            raise
        except BaseException:
            await _end(conn, commit=False)
            raise
        await _end(conn, commit=True)


async def _end(conn: AsyncConnection, *, commit: bool) -> None:
    """COMMIT or ROLLBACK a `writing` connection's transaction, if it began."""
    if conn.in_transaction():
        await (conn.commit() if commit else conn.rollback())


def _lazy(conn: AsyncConnection) -> bool:
    """A `writing` connection's (whose transaction may not have begun)."""
    sync = conn.sync_connection
    return sync is not None and bool(sync.get_execution_options().get(LAZY))


async def _begin_for_write(conn: AsyncConnection) -> None:
    """On a `writing` connection whose transaction has not begun: begin it (BEGIN goes with
    the next statement)."""
    if _lazy(conn) and not conn.in_transaction():
        await conn.begin()  # the "begin" event refuses it after a lone write (_no_autocommit)


@asynccontextmanager
async def keeping(conn: AsyncConnection) -> AsyncIterator[Writes]:
    """Rows that stay on record whether the work in the block succeeds or is refused: added
    to the transaction when it succeeds, kept through the rollback when it raises."""
    writes: Writes = []
    try:
        yield writes
    except AppError as err:
        raise kept(err, writes) from None
    await write(conn, writes)


# -- hot statements ----------------------------------------------------------------------

_PSYCOPG = make_url("postgresql+psycopg://").get_dialect()()
# what a hot statement may be
Statement = Select[Any] | Insert | Update | Delete


class Prepared:
    """A hot statement, built once at import with named bind parameters.

    On PostgreSQL it runs as a prepared statement of psycopg on the request's own connection
    (in its transaction; on a write request's, see `writing`): its SQL is compiled here
    once, so a request spends nothing on SQLAlchemy's statement cache keys, compiling or
    result processing. Elsewhere (SQLite)
    the same Core statement runs through SQLAlchemy. `postgresql` may give a variant of the
    statement for PostgreSQL (e.g. `= ANY(:ids)` where SQLite needs an expanding IN).

    Rows come back as tuples in the statement's column order, with the same Python values on
    both databases (aware UTC datetimes, UUIDs): only use columns whose SQLAlchemy types do
    no processing beyond what psycopg does itself (no JSON, no Enum columns in results).
    """

    __slots__ = ("_json", "_pg_sql", "_reads", "statement")

    def __init__(
        self,
        statement: Statement,
        postgresql: Statement | None = None,
        *,
        json: tuple[str, ...] = (),
        reads: bool = False,
    ) -> None:
        """`json`: the parameters that hold JSON values (dicts or lists). `reads`: a SELECT
        that locks nothing, which needs no transaction of a write request's (`writing`)."""
        self.statement = statement
        compiled = (postgresql if postgresql is not None else statement).compile(dialect=_PSYCOPG)
        self._pg_sql = str(compiled)
        self._json = json
        self._reads = reads

    def _pg_params(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        if not self._json:
            return params
        return {**params, **{name: Jsonb(params[name]) for name in self._json}}

    async def rows(
        self, conn: AsyncConnection, params: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """Every row the statement returns (a SELECT, or RETURNING)."""
        return await self._execute(conn, params, fetch=True)

    async def run(
        self, conn: AsyncConnection, params: Mapping[str, Any], *, alone: bool = False
    ) -> None:
        """A statement whose rows (if any) are not wanted. `alone`: the request's only write,
        and its last statement: on a `writing` connection whose transaction has not begun,
        it commits itself."""
        await self._execute(conn, params, fetch=False, alone=alone)

    async def _execute(
        self,
        conn: AsyncConnection,
        params: Mapping[str, Any],
        *,
        fetch: bool,
        alone: bool = False,
    ) -> Sequence[Sequence[Any]]:
        if conn.dialect.name == "postgresql":
            driver = await _driver(conn)
            lone = False
            if driver.autocommit and not self._reads:
                if alone:
                    lone = _lazy(conn)
                else:
                    await _begin_for_write(conn)
            try:
                async with driver.cursor() as cursor:
                    await cursor.execute(self._pg_sql, self._pg_params(params), prepare=True)
                    # (not cursor.description: it builds the columns' descriptions each time)
                    rows = await cursor.fetchall() if fetch else []
            except psycopg.Error as exc:
                raise await self._as_sqlalchemy(conn, driver, exc) from exc
            if lone:
                sync = conn.sync_connection
                assert sync is not None
                sync.execution_options(**{LONE_WRITE_DONE: True})
            return rows
        result = await conn.execute(self.statement, dict(params))
        return result.all() if fetch else []

    async def run_many(self, conn: AsyncConnection, many: Sequence[Mapping[str, Any]]) -> None:
        """The statement once for each set of parameters (psycopg sends them together)."""
        if not many:
            return
        if conn.dialect.name == "postgresql":
            driver = await _driver(conn)
            if driver.autocommit:
                await _begin_for_write(conn)
            try:
                async with driver.cursor() as cursor:
                    await cursor.executemany(self._pg_sql, [self._pg_params(p) for p in many])
            except psycopg.Error as exc:
                raise await self._as_sqlalchemy(conn, driver, exc) from exc
            return
        await conn.execute(self.statement, [dict(p) for p in many])

    async def _as_sqlalchemy(
        self, conn: AsyncConnection, driver: psycopg.AsyncConnection[Any], exc: psycopg.Error
    ) -> BaseException:
        """The error SQLAlchemy would have raised (OperationalError, DataError, ...), so the
        error handlers treat it alike (503 for a lost database, 400 for unstorable text); a
        lost connection is dropped from the pool, as SQLAlchemy does."""
        lost = driver.closed or driver.broken
        if lost:
            await conn.invalidate()
        return DBAPIError.instance(
            self._pg_sql,
            None,
            exc,
            psycopg.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=conn.dialect,
        )


def _live_driver(conn: AsyncConnection) -> psycopg.AsyncConnection[Any] | None:
    """psycopg's connection under a live SQLAlchemy connection, read as an attribute (no
    I/O); None when it is closed or invalidated, or not psycopg's."""
    sync = conn.sync_connection
    if sync is None or sync.closed or sync.invalidated:
        return None
    driver = sync.connection.driver_connection
    return driver if isinstance(driver, psycopg.AsyncConnection) else None


async def _driver(conn: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    """psycopg's own connection under the request's SQLAlchemy connection: the attribute of
    a live one (get_raw_connection would run in a greenlet of its own, for a reconnect that
    only an invalidated connection needs)."""
    driver = _live_driver(conn)
    if driver is None:
        driver = (await conn.get_raw_connection()).driver_connection
    assert isinstance(driver, psycopg.AsyncConnection)
    return driver


async def bulk_insert(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Many rows at once: COPY on PostgreSQL (several times faster), executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        await conn.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    await _begin_for_write(conn)
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    names = ", ".join(f'"{c}"' for c in columns)
    async with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            await copy.write_row([row[c] for c in columns])
