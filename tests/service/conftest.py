"""Fixtures of the alert service tests: a published lake, a service database, tokens of every
kind, and a test client.

The service database is parametrised over both backends the service supports: every test that
uses ``store`` (and so ``service`` and ``client``) runs on SQLite and on PostgreSQL. PostgreSQL
runs on one throwaway server per session (postgres.py); each test gets its own database, copied
from a template that holds the session's tokens. Where the machine has no PostgreSQL server, the
PostgreSQL half skips and says why."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestration.service.access import create_token
from orchestration.service.api import Service, create_app
from orchestration.service.publication import PublishedLake
from orchestration.service.store import Store, audit_head, audit_log, tokens as tokens_table
from postgres import PostgresServer, find_server_binaries, start_server
from service_helpers import KEY, write_lake


@dataclass
class Tokens:
    province: str          # inspection, 330000, with reidentify
    city: str              # inspection, Hangzhou
    county: str            # inspection, Xihu 330106
    county_reid: str       # inspection, Xihu, with reidentify
    other_county: str      # inspection, Rui'an 330381
    medical: str           # department (medical), Xihu
    read_only: str         # inspection, Xihu, without dispose
    payment: str           # payment system, Xihu
    payment_province: str  # payment system, province


@dataclass(frozen=True)
class Template:
    lake: Path
    database: Path
    tokens: Tokens


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Template:
    """The fixture lake and a database holding every kind of token, made once; each test gets copies
    (issuing nine tokens per test would cost more than the test)."""
    root = tmp_path_factory.mktemp("service_template")
    lake = write_lake(root / "lake")
    database = root / "service.sqlite"
    store = Store(f"sqlite:///{database}")

    def issue(name, role, region, **kw):
        return create_token(store, name=name, role=role, region_code=region, **kw).token

    tokens = Tokens(
        province=issue("province-jw", "inspection", "330000", reidentify=True),
        city=issue("hangzhou-jw", "inspection", "330100"),
        county=issue("xihu-jw", "inspection", "330106"),
        county_reid=issue("xihu-jw-reid", "inspection", "330106", reidentify=True),
        other_county=issue("ruian-jw", "inspection", "330381"),
        medical=issue("xihu-health", "department", "330106", domain="medical"),
        read_only=issue("xihu-viewer", "inspection", "330106", read_only=True),
        payment=issue("xihu-sanzi", "payment", "330106"),
        payment_province=issue("province-sanzi", "payment", "330000"),
    )
    store.close()  # the last connection's close checkpoints the WAL into the file
    return Template(lake, database, tokens)


@pytest.fixture
def lake(tmp_path, template) -> Path:
    return Path(shutil.copytree(template.lake, tmp_path / "lake"))


@pytest.fixture(scope="session")
def postgres() -> PostgresServer:
    """One PostgreSQL server for the session, or a skip saying why there is none."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")
    bin_dir = find_server_binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or in "
                    "/usr/lib/postgresql/*/bin: install Debian's postgresql package to test that backend")
    server = start_server(bin_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres, template) -> str:
    """A PostgreSQL database holding the same tokens and audit chain as the SQLite template (rows
    copied as they are, so the chain's hashes still hold); its name."""
    name = postgres.create_database()
    target = Store(postgres.url(name))
    source = Store(f"sqlite:///{template.database}")
    with source.read() as reading, target.write() as writing:
        for table in (tokens_table, audit_log, audit_head):
            writing.execute(table.delete())
            writing.execute(table.insert(), [dict(row) for row in reading.execute(table.select()).mappings()])
    source.close()
    target.close()  # CREATE DATABASE ... TEMPLATE needs the template without open connections
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, template) -> Store:
    if request.param == "sqlite":
        shutil.copy(template.database, tmp_path / "service.sqlite")
        store = Store(f"sqlite:///{tmp_path / 'service.sqlite'}")
        yield store
        store.close()
        return
    postgres = request.getfixturevalue("postgres")
    database = postgres.create_database(template=request.getfixturevalue("postgres_template"))
    store = Store(postgres.url(database))
    yield store
    store.close()
    postgres.drop_database(database)


@pytest.fixture
def tokens(store, template) -> Tokens:
    """Tokens of every kind, valid in ``store``."""
    return template.tokens


@pytest.fixture
def service(lake, store) -> Service:
    return Service(PublishedLake(lake, reload_seconds=0), store, pseudonym_key=KEY)


@pytest.fixture
def client(service) -> TestClient:
    with TestClient(create_app(service)) as c:
        yield c
