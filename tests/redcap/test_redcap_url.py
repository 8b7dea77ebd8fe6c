"""A REDCap project named by a URL on the command line (``redcap+https://host/api/``): the
same run as its pipeline file's ``[input] kind = "redcap"``, the token in no output, log or
printed line, and a project given without its mapping file refused in one line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from imnm_cohort.cli import main
from imnm_cohort.outputs.registry import FORMATS
from imnm_cohort.synth import synthesize
from imnm_cohort.synth_redcap import redcap_layout, write_redcap
from tests.leaks import holding
from tests.redcap.server import TOKEN, FakeRedcap, longitudinal_project, serving

N, SEED = 24, 5
ENV = "IMNM_TEST_REDCAP_URL_TOKEN"


@pytest.fixture
def server() -> Iterator[FakeRedcap]:
    made = redcap_layout(synthesize(N, seed=SEED), seed=SEED)
    with serving(longitudinal_project(made.export, made.dictionary)) as running:
        yield running


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_a_run_on_a_redcap_url_equals_its_pipeline_file_and_leaks_no_token(
    server, tmp_path, monkeypatch, caplog, capfd
):
    monkeypatch.setenv(ENV, TOKEN)
    mapping = write_redcap(N, tmp_path / "p.csv", SEED)[2]
    formats = json.dumps([f for f in ("json", "csv", "xlsx") if f in FORMATS])
    by_file = tmp_path / "file.toml"
    by_file.write_text(
        f'[input]\nkind = "redcap"\nurl = "{server.url}"\ntoken_env = "{ENV}"\n'
        f'mapping = "{mapping.as_posix()}"\n[output]\nroot = "file"\nformats = {formats}\n',
        encoding="utf-8",
    )
    by_url = tmp_path / "url.toml"
    by_url.write_text(
        f'[input]\nextract = "unused.csv"\n[output]\nroot = "url"\nformats = {formats}\n',
        encoding="utf-8",
    )
    given = f"redcap+{server.url}?token_env={ENV}"
    printed = ""
    with caplog.at_level(logging.DEBUG):
        code, out, err = run("run", str(by_file))
        assert code == 0, err
        code, out, err = run("run", str(by_url), "--input", given, "--mapping", str(mapping))
        assert code == 0, err
        printed += out + err
        # Without the mapping file: one line, exit 2, before the project is asked anything.
        calls = len(server.calls)
        code, out, err = run("validate", given)
        assert (code, out) == (2, "") and err.count("\n") == 1, err
        assert "is an export: name its mapping file (--mapping FILE)" in err
        assert len(server.calls) == calls
        printed += err

    def summary(root: str) -> dict[str, object]:
        data = json.loads((tmp_path / root / "latest" / "summary.json").read_text("utf-8"))
        data.pop("input", None)
        return data

    assert summary("url") == summary("file")
    manifest = json.loads((tmp_path / "url" / "latest" / "manifest.json").read_text("utf-8"))
    assert manifest["config"]["input"] == {
        "kind": "redcap",
        "url": server.url,
        "token_env": ENV,
        "mapping": str(mapping),
    }
    streams = capfd.readouterr()
    assert TOKEN not in printed + caplog.text + streams.out + streams.err
    assert not holding(tmp_path, TOKEN)
