"""A throwaway PostgreSQL cluster (initdb + pg_ctl) run as a local process on a free port."""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from crm.localinfra.errors import InfraError
from crm.localinfra.ports import free_port, log_tail, run_sync, run_tool, wait_ready

USER = "crm"
_INSTALL_HINT = "install the PostgreSQL server: apt-get install -y postgresql"
_TEST_BED_SETTINGS = ("fsync = off", "synchronous_commit = off", "full_page_writes = off")


def find_bindir() -> Path:
    """Return the folder of ``initdb``/``pg_ctl``: the highest /usr/lib/postgresql/*/bin, else from PATH."""

    def version(bindir: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(bindir).parent.name))

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for bindir in candidates:
        if (Path(bindir) / "initdb").exists() and (Path(bindir) / "pg_ctl").exists():
            return Path(bindir)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    raise InfraError(f"PostgreSQL server binaries (initdb, pg_ctl) not found: {_INSTALL_HINT}")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresCluster:
    """A PostgreSQL cluster listening on 127.0.0.1:<free port>, superuser ``crm``, trust authentication.

    By default it trades durability for speed (fsync, synchronous_commit and full_page_writes off): a test
    bed. ``durable=True`` keeps the server defaults. As root, initdb and pg_ctl run as the ``postgres`` user.
    """

    def __init__(self, workdir: Path | None = None, *, durable: bool = False, keep: bool = False) -> None:
        """Describe a cluster; nothing runs before ``start()``. ``keep`` leaves the files after ``stop()``."""
        self._requested_workdir = workdir
        self._workdir: Path | None = None
        self._durable = durable
        self._keep = keep
        self._port: int | None = None
        self._running = False
        self._bindir = find_bindir()

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self, timeout: float = 30) -> PostgresCluster:
        """Start the cluster (creating it on first use) and return once asyncpg can connect over TCP.

        Raises InfraError with the server log's tail when initdb or pg_ctl fail or the deadline passes.
        """
        if self._running:
            return self
        fresh = self._workdir is None
        if fresh:
            try:
                self._create()
            except InfraError:
                self.stop()  # removes a workdir it made
                self._workdir = None
                raise
        launch = ["start", "-w", "-t", str(int(timeout)), "-l", str(self.log_file)]
        try:
            self._pg_ctl(*launch, timeout=timeout + 5)
        except InfraError as exc:
            if not (fresh and "Address already in use" in str(exc)):
                raise
            self._set_port(free_port())  # another process took the port since we picked it
            self._pg_ctl(*launch, timeout=timeout + 5)
        self._running = True
        atexit.register(self.stop)
        try:
            wait_ready(lambda: self._query("postgres", "SELECT 1"), what="PostgreSQL", timeout=timeout)
        except InfraError as exc:
            self._shutdown()
            raise InfraError(f"{exc}\n--- tail of {self.log_file}:\n{log_tail(self.log_file)}") from None
        return self

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``) and delete its files unless ``keep`` was asked."""
        self._shutdown()
        atexit.unregister(self.stop)
        if not self._keep and self._workdir is not None and self._requested_workdir is None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def restart(self, timeout: float = 30) -> PostgresCluster:
        """Stop the server and start it again on the same port with the same data."""
        self._shutdown()
        return self.start(timeout)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------------------------

    def create_database(self, name: str) -> None:
        """Create database ``name`` owned by ``crm``; do nothing if it exists."""
        import asyncpg

        async def create() -> None:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # created concurrently
                await self._query(
                    "postgres",
                    f"CREATE DATABASE {_quote_ident(name)}",
                    unless=("SELECT 1 FROM pg_database WHERE datname = $1", name),
                )

        run_sync(create)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` (closing its sessions); do nothing if it does not exist."""
        sql = f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)"
        run_sync(lambda: self._query("postgres", sql))

    def url(self, dbname: str, driver: str = "postgresql+asyncpg") -> str:
        """A connection URL such as ``postgresql+asyncpg://crm@127.0.0.1:<port>/<dbname>``."""
        return f"{driver}://{USER}@127.0.0.1:{self.port}/{dbname}"

    def dsn(self, dbname: str) -> str:
        """A plain libpq/asyncpg DSN ``postgresql://crm@127.0.0.1:<port>/<dbname>``."""
        return self.url(dbname, driver="postgresql")

    @property
    def port(self) -> int:
        """The TCP port (picked by the first ``start`` and kept by restarts)."""
        if self._port is None:
            raise InfraError("the PostgreSQL cluster has not been started")
        return self._port

    @property
    def user(self) -> str:
        """The superuser clients connect as (no password: trust authentication on 127.0.0.1)."""
        return USER

    @property
    def running(self) -> bool:
        """True between a successful ``start`` and ``stop``."""
        return self._running

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        if self._workdir is None:
            raise InfraError("the PostgreSQL cluster has not been started")
        return self._workdir / "data"

    @property
    def log_file(self) -> Path:
        """The server log written by ``pg_ctl -l``."""
        if self._workdir is None:
            raise InfraError("the PostgreSQL cluster has not been started")
        return self._workdir / "postgres.log"

    # -- internals -------------------------------------------------------------------------------------

    def _create(self) -> None:
        """Make the workdir (owned by ``postgres`` when root), run initdb and write the settings."""
        workdir = self._requested_workdir or Path(tempfile.mkdtemp(prefix="crm-pg-"))
        workdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise InfraError(f"as root, initdb needs a `postgres` user: {_INSTALL_HINT}") from None
            os.chown(workdir, owner.pw_uid, owner.pw_gid)
        self._workdir = workdir
        data = self.data_dir
        if (data / "PG_VERSION").exists():  # a kept cluster: reuse its data on a new free port
            self._set_port(free_port())
            return
        initdb = [str(self._bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", USER]
        try:
            self._run([*initdb, "-E", "UTF8", "--locale=C", "--no-sync"], what="initdb", timeout=120)
        except InfraError as exc:
            if os.geteuid() == 0 and "Permission denied" in str(exc):
                raise InfraError(
                    f"{exc}\n(initdb runs as `postgres`: every parent of {workdir} must be o+x)"
                ) from None
            raise
        socket_dir = str(data) if len(str(data)) < 80 else ""  # a Unix socket path has at most 107 bytes
        settings = ["listen_addresses = '127.0.0.1'", f"unix_socket_directories = '{socket_dir}'"]
        settings += ["max_connections = 300", *([] if self._durable else _TEST_BED_SETTINGS)]
        with open(data / "postgresql.conf", "a") as conf:
            conf.write("\n# crm.localinfra\n" + "\n".join(settings) + "\n")
        self._set_port(free_port())

    def _set_port(self, port: int) -> None:
        """Make ``port`` the server's port from its next start (the last setting in the file wins)."""
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write(f"port = {port}\n")
        self._port = port

    def _shutdown(self) -> None:
        if self._running:
            self._running = False
            self._pg_ctl("stop", "-w", "-m", "fast", timeout=60)

    def _pg_ctl(self, *args: str, timeout: float) -> None:
        try:
            pg_ctl = [str(self._bindir / "pg_ctl"), "-D", str(self.data_dir), *args]
            self._run(pg_ctl, what=f"pg_ctl {args[0]}", timeout=timeout)
        except InfraError as exc:
            raise InfraError(f"{exc}\n--- tail of {self.log_file}:\n{log_tail(self.log_file)}") from None

    def _run(self, cmd: list[str], *, what: str, timeout: float) -> None:
        """Run a server tool, as ``postgres`` when we are root (initdb and postgres refuse root)."""
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        run_tool([*as_postgres, *cmd], what=what, timeout=timeout)

    async def _query(self, dbname: str, sql: str, *, unless: tuple[str, str] | None = None) -> None:
        """Run ``sql`` on ``dbname`` over TCP unless the ``unless`` query (with its argument) finds a row."""
        import asyncpg

        conn = await asyncpg.connect(self.dsn(dbname), timeout=5)
        try:
            if unless is None or await conn.fetchval(*unless) is None:
                await conn.execute(sql)
        finally:
            await conn.close()
