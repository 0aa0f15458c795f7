"""A throwaway PostgreSQL server for the service tests: initdb into a temporary directory, start on
a free loopback port, hand out databases, stop and remove everything at the end.

The server binaries come from PATH or from Debian's ``/usr/lib/postgresql/<version>/bin`` (the
``postgresql`` package). PostgreSQL refuses to run as root, so under root (as in CI) the server
runs as the ``postgres`` account, or ``nobody`` where there is none.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")


def find_server_binaries() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None when this machine has no server."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _major(p.parent.name), reverse=True)
    for directory in candidates:
        if all((directory / program).is_file() for program in SERVER_PROGRAMS):
            return directory
    return None


def _major(version: str) -> int:
    return int(version) if version.isdigit() else -1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_account() -> pwd.struct_passwd | None:
    """The account to run the server as: None (this one) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' account exists: "
                       "PostgreSQL cannot be started for the tests")


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    account: pwd.struct_passwd | None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        as_account = {} if self.account is None else {
            "user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        done = subprocess.run([str(self.bin_dir / args[0]), *args[1:]], capture_output=True, text=True,
                              cwd=self.root, env={**os.environ, "LC_ALL": "C"}, **as_account)
        if done.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}) for the test server in {self.root}:\n"
                               f"{done.stdout}{done.stderr}\n{log}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data_dir), "--auth=trust", "--username=postgres", "--encoding=UTF8",
                  "--locale=C", "--no-sync")
        # A throwaway server: durability settings off (fsync, full-page writes) for speed; TCP on
        # loopback only, its socket inside its own directory.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir), "-l", str(self.log_file),
                  "-o", options)

    def stop(self) -> None:
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _admin(self, statement):
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``, which must have no open connection); its name."""
        from psycopg import sql

        name = f"test_{uuid.uuid4().hex[:16]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self._admin(statement)
        return name

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        self._admin(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def start_server(bin_dir: Path) -> PostgresServer:
    """Start a server from ``bin_dir``; the caller stops it."""
    account = _server_account()
    # Not pytest's tmp_path: its parents are private to root, which the server account cannot enter.
    root = Path(tempfile.mkdtemp(prefix="powertrace-pg-"))
    if account is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
    server = PostgresServer(bin_dir, root, _free_port(), account)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
