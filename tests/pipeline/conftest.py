"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import pytest

from tests.pipeline.readers import run


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The bundled demo, run once with every format."""
    root = tmp_path_factory.mktemp("demo")
    code, out, err = run("run", "--output-dir", str(root))
    assert code == 0, err
    return root, out, err
