"""The two stores every store test runs on: SQLite (the default) and PostgreSQL (Compose).
The PostgreSQL role and database are the ones `deploy/local.sh` makes (casebook/casebook)."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import event

from services.runtime import domain
from services.runtime.domain import FIRST_FORMAT, CasebookAggregate
from tests.support.broker import free_port

STORE_KINDS = ("sqlite", "postgres")
PG = {
    "POSTGRES_DBNAME": os.environ.get("CASEBOOK_TEST_PG_DB", "casebook_test"),
    "POSTGRES_HOST": os.environ.get("CASEBOOK_TEST_PG_HOST", "127.0.0.1"),
    "POSTGRES_PORT": os.environ.get("CASEBOOK_TEST_PG_PORT", "5432"),
    "POSTGRES_USER": os.environ.get("CASEBOOK_TEST_PG_USER", "casebook"),
    "POSTGRES_PASSWORD": os.environ.get("CASEBOOK_TEST_PG_PASSWORD", "casebook"),
}


class Note(CasebookAggregate):
    """An aggregate of the smallest kind, for tests of the store."""

    @event("Written")
    def __init__(self, school_id: str, client_id: str) -> None:
        self.school_id = school_id
        self.client_id = client_id

    @event("Amended")
    def amend(self, client_id: str) -> None:
        self.client_id = client_id


def _admin() -> psycopg.Connection:
    return psycopg.connect(
        dbname="postgres",
        host=PG["POSTGRES_HOST"],
        port=PG["POSTGRES_PORT"],
        user=PG["POSTGRES_USER"],
        password=PG["POSTGRES_PASSWORD"],
        autocommit=True,
    )


def ensure_test_database() -> None:
    with _admin() as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname=%s", (PG["POSTGRES_DBNAME"],)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{PG["POSTGRES_DBNAME"]}"')


@contextmanager
def store_overrides(kind: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    if kind == "sqlite":
        yield {"CASEBOOK_DATA_DIR": str(tmp_path / "var")}
        return
    ensure_test_database()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield {**PG, "POSTGRES_SCHEMA": schema}
    finally:
        with psycopg.connect(
            dbname=PG["POSTGRES_DBNAME"],
            host=PG["POSTGRES_HOST"],
            port=PG["POSTGRES_PORT"],
            user=PG["POSTGRES_USER"],
            password=PG["POSTGRES_PASSWORD"],
            autocommit=True,
        ) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


App = TypeVar("App", bound=Application)


class Examples(Generic[App]):
    """A fresh application of `app_class` for each example of a property, on the store the
    test runs on (`store_overrides`): a schema of its own in PostgreSQL, a folder in SQLite."""

    def __init__(self, app_class: type[App], store: dict[str, str]) -> None:
        self.app_class = app_class
        self.store = store
        self.numbers = itertools.count()
        self.schemas: list[str] = []
        self.apps: list[App] = []

    def app(self) -> App:
        made = self.app_class(env=self.env())
        self.apps.append(made)
        return made

    def env(self) -> dict[str, str]:
        """The settings of a new, empty store, dropped with the others by `drop`."""
        number = next(self.numbers)
        if "POSTGRES_SCHEMA" in self.store:
            schema = f"{self.store['POSTGRES_SCHEMA']}_{number}"
            self.schemas.append(schema)
            return {**self.store, "POSTGRES_SCHEMA": schema}
        return {"CASEBOOK_DATA_DIR": f"{self.store['CASEBOOK_DATA_DIR']}/example-{number}"}

    def drop(self) -> None:
        # Their connections go back first: PostgreSQL's are shared by every test running.
        for made in self.apps:
            made.close()
        if not self.schemas:
            return
        with psycopg.connect(dbname=PG["POSTGRES_DBNAME"], host=PG["POSTGRES_HOST"],
                             port=PG["POSTGRES_PORT"], user=PG["POSTGRES_USER"],
                             password=PG["POSTGRES_PASSWORD"], autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def as_before_formats() -> Iterator[None]:
    """Events made inside are stamped as they were before envelope formats existed (format 1):
    how tests write a store as an older Casebook left it."""
    original = domain.STAMPED_FORMAT
    domain.STAMPED_FORMAT = FIRST_FORMAT
    try:
        yield
    finally:
        domain.STAMPED_FORMAT = original


class PrivatePostgres:
    """A PostgreSQL server of a test's own, on a free loopback port, for tests that stop or
    restart it: the shared one serves every other test (and other checkouts' suites)
    meanwhile. Made with the newest server the machine has (`deploy/local.sh` installs it);
    run as the postgres user where the test runs as root, which PostgreSQL refuses to be."""

    def __init__(self, directory: Path) -> None:
        servers = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                         key=lambda pg_ctl: int(pg_ctl.parent.parent.name))
        assert servers, "no PostgreSQL server in /usr/lib/postgresql (deploy/local.sh installs it)"
        self.bin = servers[-1].parent
        self.directory = directory
        self.port = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        self._run("initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-D", str(self.data))
        self.env = {"POSTGRES_DBNAME": "casebook", "POSTGRES_HOST": "127.0.0.1",
                    "POSTGRES_PORT": str(self.port), "POSTGRES_USER": "postgres",
                    "POSTGRES_PASSWORD": ""}

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def _ctl(self, action: str, *args: str) -> None:
        # The server's output goes to its log file: left on pg_ctl's pipes, it would hold
        # them open for as long as the server runs.
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1",
                  *args, action)

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        """As an operator stops it (`fast`: sessions are ended, every connection drops)."""
        self._ctl("stop", "-m", mode)

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def create_database(self) -> None:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as connection:
            connection.execute("CREATE DATABASE casebook")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    directory = Path(tempfile.mkdtemp(prefix="casebook-postgres-"))
    server = PrivatePostgres(directory)
    try:
        server.start()
        server.create_database()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


def as_root(*command: str) -> list[str]:
    """`command` run as root: as it is where the test runs as root, else through sudo without
    a password (as deploy/local.sh installs what is missing)."""
    return list(command) if os.geteuid() == 0 else ["sudo", "-n", *command]


class SmallDisk:
    """A filesystem of a test's own, a few megabytes of memory (tmpfs), that the test fills to
    its last page and frees again: the disk under a SQLite store running full, for real."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def mount(self, megabytes: int) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(as_root("mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=1777",
                               "tmpfs", str(self.path)),
                       check=True, capture_output=True, timeout=30)

    def fill(self) -> None:
        """Take every page left: what SQLite writes next finds the disk full."""
        with self.filler.open("ab", buffering=0) as filler:
            for size in (65536, 4096):
                try:
                    while True:
                        filler.write(bytes(size))
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise

    def free(self) -> None:
        self.filler.unlink()

    def unmount(self) -> None:
        subprocess.run(as_root("umount", "--lazy", str(self.path)), check=True,
                       capture_output=True, timeout=30)


@contextmanager
def small_disk(path: Path, megabytes: int = 16) -> Iterator[SmallDisk]:
    """A SmallDisk mounted at `path` for the block. Mounting needs root (or sudo): where the
    test may not mount, it says so (subprocess.CalledProcessError)."""
    disk = SmallDisk(path)
    disk.mount(megabytes)
    try:
        yield disk
    finally:
        disk.unmount()
