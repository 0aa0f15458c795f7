"""Fixtures of the alert service tests: a published lake, a service database, tokens of every
kind, and a test client."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestration.service.access import create_token
from orchestration.service.api import Service, create_app
from orchestration.service.publication import PublishedLake
from orchestration.service.store import Store
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


@pytest.fixture
def store(tmp_path, template) -> Store:
    shutil.copy(template.database, tmp_path / "service.sqlite")
    store = Store(f"sqlite:///{tmp_path / 'service.sqlite'}")
    yield store
    store.close()


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
