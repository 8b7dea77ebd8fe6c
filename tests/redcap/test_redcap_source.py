"""A REDCap project read over its API gives what its CSV export gives, and never shows
its token (:mod:`imnm_cohort.sources.redcap`, against the strict server of
``tests/redcap/server.py``)."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import pickle
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort.errors import ConfigError, ExtractError
from imnm_cohort.mapping.dictionary import read_redcap_dictionary
from imnm_cohort.mapping.draft import draft_from_redcap
from imnm_cohort.mapping.source import MappedSource
from imnm_cohort.sources.files import SourceOptions, read_source
from imnm_cohort.sources.redcap import (
    EVENT_COLUMNS,
    RedcapSettings,
    RedcapSource,
    Token,
    read_redcap,
    token_from_env,
)
from imnm_cohort.synth import synthesize, write_extract
from imnm_cohort.synth_redcap import redcap_layout, write_redcap
from imnm_cohort.validation.load import InputSpec, load_input
from tests.redcap.server import (
    NO_PERMISSION,
    TOKEN,
    FakeRedcap,
    Project,
    longitudinal_project,
    serving,
)

N, SEED = 60, 11


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The project's CSV export, data dictionary and mapping, as REDCap downloads them."""
    export, dictionary, mapping = write_redcap(N, tmp_path_factory.mktemp("redcap") / "p.csv", SEED)
    return export, dictionary, mapping


@pytest.fixture(scope="module")
def module_server() -> Iterator[FakeRedcap]:
    made = redcap_layout(synthesize(N, seed=SEED), seed=SEED)
    with serving(longitudinal_project(made.export, made.dictionary)) as server:
        yield server


@pytest.fixture
def server(module_server: FakeRedcap) -> FakeRedcap:
    module_server.fault = None
    module_server.calls.clear()
    module_server.heads.clear()
    return module_server


def settings(server: FakeRedcap, **kw: object) -> RedcapSettings:
    return RedcapSettings(url=server.url, token_env="IMNM_TEST_REDCAP_TOKEN", **kw)  # type: ignore[arg-type]


def fetch(server: FakeRedcap, token: str = TOKEN, **kw: object):
    return read_redcap(settings(server, **kw), Token(token))


def as_source(project) -> RedcapSource:
    """The pipeline's source over a project already fetched."""
    source = RedcapSource(RedcapSettings(f"http://{project.host}/api/", "IMNM_TEST_REDCAP_TOKEN"))
    source._project = project
    return source


def from_file(path: Path) -> pd.DataFrame:
    return read_source(path, SourceOptions(required=()))


# -- what is fetched ------------------------------------------------------------------------


def test_records_in_one_batch_equal_the_csv_export(server, files):
    project = fetch(server)
    pd.testing.assert_frame_equal(project.records, from_file(files[0]))
    assert project.batches == 1
    assert [c for c in server.calls if c[0] == "record"] == [("record", 0), ("record", N)]
    assert list(project.records.columns[:4]) == ["record_id", *EVENT_COLUMNS]
    assert project.records["redcap_repeat_instrument"].eq("malignancy").any()


def test_records_in_several_batches_equal_the_csv_export(server, files):
    project = fetch(server, batch_size=7)
    pd.testing.assert_frame_equal(project.records, from_file(files[0]))
    asked = [n for what, n in server.calls if what == "record"]
    assert project.batches == math.ceil(N / 7) == len(asked) - 1
    assert asked[0] == 0 and max(asked[1:]) == 7 and sum(asked[1:]) == N


def test_repeat_instances_given_as_json_numbers_read_as_the_csv_export(files):
    made = redcap_layout(synthesize(N, seed=SEED), seed=SEED)
    with serving(longitudinal_project(made.export, made.dictionary)) as running:
        running.numeric_instances = True
        project = fetch(running, batch_size=20)
    pd.testing.assert_frame_equal(project.records, from_file(files[0]))


def test_a_value_that_is_not_text_or_a_number_is_refused(files):
    made = redcap_layout(synthesize(N, seed=SEED), seed=SEED)
    with serving(longitudinal_project(made.export, made.dictionary)) as running:
        running.rows[3]["sex"] = [1, 2]  # type: ignore[assignment]
        with pytest.raises(ExtractError) as exc:
            fetch(running)
    assert_one_line(exc, "values that are not text")


def test_events_mappings_and_repeating_instruments_are_fetched(server):
    project = fetch(server)
    assert "baseline_arm_1" in set(project.events["unique_event_name"])
    assert {"visit", "malignancy"} <= set(project.form_events["form"])
    assert project.repeating.to_dict("records") == [
        {"event_name": "baseline_arm_1", "form_name": form, "custom_form_label": ""}
        for form in ("antibody_test", "malignancy", "treatment")
    ]


def test_the_dictionary_reads_as_the_downloaded_one(server, files, tmp_path):
    project = fetch(server)
    written = project.write_dictionary(tmp_path / "api-dictionary.csv")
    assert read_redcap_dictionary(written) == read_redcap_dictionary(files[1])
    over_api, downloaded = draft_from_redcap(written), draft_from_redcap(files[1])
    assert over_api.matched == downloaded.matched and over_api.unmatched == downloaded.unmatched


def test_mapping_the_fetched_records_gives_the_same_results_as_the_file(server, files):
    project = fetch(server, batch_size=9)
    mapping = files[2]
    by_api = load_input(MappedSource(as_source(project), Path(mapping)))
    by_file = load_input(InputSpec(files[0], mapping))
    pd.testing.assert_frame_equal(by_api.valid, by_file.valid)
    pd.testing.assert_frame_equal(by_api.quarantine, by_file.quarantine)
    pd.testing.assert_frame_equal(by_api.reasons, by_file.reasons)
    assert by_api.export_rows == by_file.export_rows == len(project.records)
    assert len(by_api.valid) > 0


def test_a_project_without_a_mapping_is_refused(server):
    project = fetch(server)
    with pytest.raises(ConfigError, match="read through a mapping file"):
        load_input(as_source(project))


def test_describe_and_fingerprint(server, files):
    one, several = fetch(server), fetch(server, batch_size=4)
    described = one.describe()
    assert described["kind"] == "redcap" and described["host"] == "127.0.0.1"
    assert described["project_id"] == "4711" and described["records"] == N
    assert described["rows"] == len(one.records) and described["longitudinal"] is True
    assert TOKEN not in json.dumps(described) and "/api/" not in json.dumps(described)
    assert one.fingerprint() == several.fingerprint() == described["sha256"]
    changed = one.records.copy()
    changed.iloc[0, 5] = "9" if changed.iloc[0, 5] != "9" else "8"
    assert dataclasses.replace(one, records=changed).fingerprint() != one.fingerprint()


def test_the_token_travels_in_the_post_body_only(server):
    fetch(server, batch_size=25)
    assert server.heads and all(head.startswith("POST /api/ ") for head in server.heads)
    assert not any(TOKEN in head for head in server.heads)


# -- failures: one line naming the host, never the token ------------------------------------


def assert_one_line(exc: pytest.ExceptionInfo[ExtractError], *words: str) -> str:
    text = str(exc.value)
    assert "\n" not in text and "127.0.0.1" in text and TOKEN not in text, text
    for word in words:
        assert word in text, text
    # No chained exception (urllib's, which may hold the request) travels with it.
    error = exc.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return text


def test_a_wrong_token(server):
    with pytest.raises(ExtractError) as exc:
        fetch(server, token="0" * 32)
    assert_one_line(exc, "HTTP 403", NO_PERMISSION, "token was refused", "IMNM_TEST_REDCAP_TOKEN")


def test_the_server_is_down():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = RedcapSettings(url=f"http://127.0.0.1:{port}/api/", token_env="X")
    with pytest.raises(ExtractError) as exc:
        read_redcap(down, Token(TOKEN))
    assert_one_line(exc, "cannot be reached")


def test_redcaps_error_json(server):
    server.fault = "error"
    with pytest.raises(ExtractError) as exc:
        fetch(server)
    assert_one_line(exc, "exportRecords failed", "HTTP 400", "the database is busy")


def test_an_answer_that_is_not_json(server):
    server.fault = "garbled"
    with pytest.raises(ExtractError) as exc:
        fetch(server)
    assert_one_line(exc, "text/html", "not JSON")


def test_a_timeout(server):
    server.fault, server.delay = "slow", 1.0
    with pytest.raises(ExtractError) as exc:
        fetch(server, timeout=0.2)
    assert_one_line(exc, "no answer within 0.2 s")


def test_a_dropped_connection(server):
    server.fault = "drop"
    with pytest.raises(ExtractError) as exc:
        fetch(server)
    assert_one_line(exc, "connection was lost")


def test_a_classic_project_is_read_without_events(files, tmp_path):
    made = redcap_layout(synthesize(N, seed=SEED), seed=SEED)
    baseline = made.export[made.export["redcap_event_name"].eq("baseline_arm_1")]
    baseline = baseline[baseline["redcap_repeat_instrument"].isna()]
    classic = baseline.drop(columns=list(EVENT_COLUMNS)).reset_index(drop=True)
    write_extract(classic, tmp_path / "classic.csv")
    with serving(Project(classic, made.dictionary)) as running:
        project = fetch(running, batch_size=25)
        asked = [what for what, _ in running.calls]
    pd.testing.assert_frame_equal(project.records, from_file(tmp_path / "classic.csv"))
    assert project.events.empty and project.form_events.empty and project.repeating.empty
    assert "refused" not in asked and project.describe()["longitudinal"] is False


def test_a_project_without_records(files):
    made = redcap_layout(synthesize(N, seed=SEED), seed=SEED)
    empty = Project(made.export.iloc[:0], made.dictionary)
    with serving(empty) as running, pytest.raises(ExtractError) as exc:
        fetch(running)
    assert_one_line(exc, "the project has no records")


def test_a_redirect_is_not_followed(server):
    server.fault = "redirect"
    with pytest.raises(ExtractError) as exc:
        fetch(server)
    assert_one_line(exc, "HTTP 302", "not followed")
    assert len(server.heads) == 1  # nothing was sent to the other address


def test_an_error_that_repeats_the_token_is_scrubbed(server):
    server.fault = "echo"
    with pytest.raises(ExtractError) as exc:
        fetch(server)
    assert "Invalid token '***'" in assert_one_line(exc)


def test_a_long_error_is_cut_after_the_token_is_scrubbed(server):
    server.fault = "echo_long"
    with pytest.raises(ExtractError) as exc:
        fetch(server)
    text = assert_one_line(exc)
    assert TOKEN[:3] not in text and text.endswith("...")


# -- the token and the settings -------------------------------------------------------------


def test_the_token_hides_itself():
    token = Token(TOKEN)
    for shown in (repr(token), str(token), f"{token}", f"{token!r}", repr([token])):
        assert TOKEN not in shown
    assert token.reveal() == TOKEN
    with pytest.raises(TypeError):
        pickle.dumps(token)


def test_the_token_comes_from_the_named_variable(monkeypatch):
    monkeypatch.setenv("IMNM_TEST_REDCAP_TOKEN", f" {TOKEN}\n")
    assert token_from_env("IMNM_TEST_REDCAP_TOKEN").reveal() == TOKEN
    monkeypatch.delenv("IMNM_TEST_REDCAP_TOKEN")
    with pytest.raises(ConfigError, match="IMNM_TEST_REDCAP_TOKEN, which is not set"):
        token_from_env("IMNM_TEST_REDCAP_TOKEN")


def test_read_redcap_reads_the_token_from_the_environment(server, monkeypatch, files):
    monkeypatch.setenv("IMNM_TEST_REDCAP_TOKEN", TOKEN)
    project = read_redcap(settings(server))
    pd.testing.assert_frame_equal(project.records, from_file(files[0]))


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://redcap.example.org/api/", "plain http"),
        (f"https://redcap.example.org/api/?token={TOKEN}", "must not hold"),
        (f"https://user:{TOKEN}@redcap.example.org/api/", "must not hold"),
        ("ftp://redcap.example.org/api/", "must be https"),
    ],
)
def test_unusable_urls_are_refused_without_echoing_them(url, words):
    with pytest.raises(ConfigError, match=words) as exc:
        RedcapSettings(url=url, token_env="X")
    assert TOKEN not in str(exc.value)


# -- the stand-in server is as strict as REDCap ---------------------------------------------


def post(server: FakeRedcap, body: str, url: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url or server.url, data=body.encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize(
    ("body", "query", "status"),
    [
        (f"token={TOKEN}&content=record&format=json&colour=red", "", 400),
        ("content=record&format=json", f"token={TOKEN}", 400),
        (f"token={TOKEN}&content=record&format=json&records[1]=x", "", 400),
        (f"token={TOKEN}&content=records&format=json", "", 400),
        (f"token={TOKEN}&content=metadata&format=json&type=flat", "", 400),
        ("token=WRONG&content=record&format=json", "", 403),
    ],
)
def test_the_stand_in_server_refuses_what_redcap_refuses(server, body, query, status):
    code, said = post(server, body, server.url + (f"?{query}" if query else ""))
    assert code == status and set(said) == {"error"}


def test_the_stand_in_server_answers_a_well_formed_call(server):
    first = server.rows[0]["record_id"]
    code, said = post(server, f"token={TOKEN}&content=record&format=json&records[0]={first}")
    assert code == 200 and {row["record_id"] for row in said} == {first}


def test_no_log_record_carries_the_token(server, caplog, capfd):
    with caplog.at_level(logging.DEBUG):
        fetch(server, batch_size=13)
        server.fault = "error"
        with pytest.raises(ExtractError):
            fetch(server)
    captured = capfd.readouterr()
    assert TOKEN not in caplog.text + captured.out + captured.err
