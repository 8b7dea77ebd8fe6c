"""Source URLs (contract section 7): each form read into the kind and the ``[input]``
settings a pipeline file would give; a password refused without being shown; an unknown
kind one line; a kind registered in SOURCES reached by ``<kind>+<url>``."""

from __future__ import annotations

from pathlib import Path

import pytest

from imnm_cohort.errors import ConfigError
from imnm_cohort.sources.base import SOURCES, known_kinds
from imnm_cohort.sources.frames import FrameSource
from imnm_cohort.sources.url import SourceUrl, is_url, parse_source_url, shown, source_from_url
from imnm_cohort.synth import synthesize

SECRET = "Pa55-w0rd-in-url"


@pytest.mark.parametrize(
    ("url", "kind", "settings"),
    [
        (
            "duckdb:///registry.duckdb?table=patients",
            "duckdb",
            {"database": "registry.duckdb", "table": "patients"},
        ),
        (
            "duckdb:////srv/data/registry.duckdb?query=SELECT%20*%20FROM%20patients",
            "duckdb",
            {"database": "/srv/data/registry.duckdb", "query": "SELECT * FROM patients"},
        ),
        (
            "duckdb://registry.duckdb?table=p",
            "duckdb",
            {"database": "registry.duckdb", "table": "p"},
        ),
        ("duckdb:///exports/*.parquet", "duckdb", {"table": "exports/*.parquet"}),
        ("duckdb:///x.CSV", "duckdb", {"table": "x.CSV"}),
        (
            "duckdb://?query=SELECT * FROM read_parquet('p.parquet')",
            "duckdb",
            {"query": "SELECT * FROM read_parquet('p.parquet')"},
        ),
        (
            "postgres://analyst@db.example.org:5432/registry?table=imnm.patients"
            "&password_env=IMNM_DB_PASSWORD&sslmode=require&timeout=2.5",
            "sql",
            {
                "url": "postgres://analyst@db.example.org:5432/registry?sslmode=require",
                "table": "imnm.patients",
                "password_env": "IMNM_DB_PASSWORD",
                "timeout": 2.5,
            },
        ),
        (
            "POSTGRESQL://:5433/?service=registry&table=t",
            "sql",
            {"url": "postgresql://:5433/?service=registry", "table": "t"},
        ),
        (
            "omop+duckdb:///cdm.duckdb?cdm_schema=cdm&vocabulary_schema=vocab",
            "omop",
            {"url": "duckdb:///cdm.duckdb", "cdm_schema": "cdm", "vocabulary_schema": "vocab"},
        ),
        (
            "redcap+https://redcap.example.org/api/?token_env=REDCAP_API_TOKEN&batch_size=50",
            "redcap",
            {
                "url": "https://redcap.example.org/api/",
                "token_env": "REDCAP_API_TOKEN",
                "batch_size": 50,
            },
        ),
    ],
)
def test_each_form_gives_the_kind_and_the_settings_of_a_pipeline_file(url, kind, settings):
    parsed = parse_source_url(url)
    assert (parsed.kind, dict(parsed.settings)) == (kind, settings)


def test_urls_and_paths_are_told_apart():
    assert is_url("duckdb:///r.duckdb") and is_url("postgres://h/db")
    for path in ("registry.csv", "C:\\exports\\r.csv", "/srv/x.parquet", "odd:name.csv"):
        assert not is_url(path)


@pytest.mark.parametrize(
    "url",
    [
        f"postgres://analyst:{SECRET}@db.example.org/registry?table=t",
        f"postgres://db.example.org/registry?table=t&password={SECRET}",
        f"postgres://db.example.org/registry?PASSWORD={SECRET}&table=t",
        f"omop+postgres://u:{SECRET}@h/cdm",
        f"duckdb://u:{SECRET}@r.duckdb",
    ],
)
def test_a_password_in_a_url_is_refused_in_one_line_that_does_not_show_it(url):
    with pytest.raises(ConfigError) as caught:
        source_from_url(url)
    message = str(caught.value)
    assert "never holds a password" in message and "password_env" in message
    assert SECRET not in message and "\n" not in message
    assert SECRET not in shown(url)


def test_shown_leaves_out_the_user_and_keeps_the_rest():
    assert shown("postgres://ann@h:5/db?table=t") == "postgres://h:5/db?table=t"
    assert shown("duckdb:///r.duckdb?query=SELECT%201") == "duckdb:///r.duckdb?query=SELECT%201"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("nosuchkind+duckdb:///x.duckdb", "unknown source kind 'nosuchkind'; known kinds: "),
        ("https://example.org/export.csv", "unknown URL scheme 'https'"),
        ("duckdb:///r.duckdb?table=a&table=b", "the parameter 'table' is given twice"),
        ("duckdb:///r.duckdb?tabel=a", "unknown parameter 'tabel' for duckdb://"),
        ("duckdb:///x.parquet?table=a", "files queried in place are the table"),
        ("postgres://h/db?table=t&timeout=soon", "timeout must be a number, not 'soon'"),
        ("postgres://h/db", "needs table = "),
        ("duckdb:///r.duckdb?table=t&timeout=3", "unknown key 'timeout' for kind = \"duckdb\""),
    ],
)
def test_an_unusable_url_is_one_line_naming_it(url, words):
    with pytest.raises(ConfigError) as caught:
        source_from_url(url)
    message = str(caught.value)
    assert words in message and "\n" not in message, message
    assert message.startswith(url.split("?")[0]), message
    assert "[input]" not in message  # a URL's settings are its parameters


def test_the_omop_scheme_maps_to_its_kind_through_the_registry():
    parsed = parse_source_url("omop+duckdb:///cdm.duckdb")
    assert parsed == SourceUrl("omop", {"url": "duckdb:///cdm.duckdb"}, "omop+duckdb:///cdm.duckdb")
    if "omop" not in known_kinds():  # until an OMOP source is registered
        with pytest.raises(ConfigError, match="unknown source kind 'omop'"):
            source_from_url("omop+duckdb:///cdm.duckdb")


def test_a_kind_registered_in_sources_is_built_from_its_url(monkeypatch, tmp_path):
    given: list[tuple[dict[str, object], Path]] = []
    frame = synthesize(5, seed=1)

    def factory(settings, base):
        given.append((dict(settings), base))
        return FrameSource(frame, name="toy")

    monkeypatch.setitem(SOURCES, "toycdm", factory)
    source = source_from_url("toycdm+postgres://h/cdm?cdm_schema=cdm&sslmode=require", tmp_path)
    assert source.read() is frame
    assert given == [({"url": "postgres://h/cdm?sslmode=require", "cdm_schema": "cdm"}, tmp_path)]
    assert "toycdm" in known_kinds()


def test_local_path_names_the_database_or_the_files_in_place(tmp_path):
    assert parse_source_url("duckdb:///r.duckdb?table=t").local_path(tmp_path) == (
        tmp_path / "r.duckdb"
    )
    assert parse_source_url("duckdb:///x.parquet").local_path(tmp_path) == tmp_path / "x.parquet"
    assert parse_source_url("duckdb://?query=SELECT 1").local_path(tmp_path) is None
    assert parse_source_url("postgres://h/db?table=t").local_path(tmp_path) is None
