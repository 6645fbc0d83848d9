"""`--cluster ray`: shots as Ray tasks on a local cluster, rows in the same batch.json; without
Ray installed, one line saying how to install it."""

import json
import sys

import pytest

from tests.batch.test_cli_batch import ALL, matte_shots
from tests.cli_helpers import assert_one_line_error
from tests.engine.media import final_names


def test_without_ray_the_option_says_how_to_install_it(capsys, checkpoint, shots, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    out = shots / "out"
    code, _, err = matte_shots(capsys, checkpoint, shots, "--cluster", "ray")
    assert_one_line_error(code, err, "needs Ray", "pip install 'bgmcli[cluster]'")
    assert not out.exists()


def test_an_unknown_cluster_engine_is_one_line(capsys, checkpoint, shots):
    code, _, err = matte_shots(capsys, checkpoint, shots, "--cluster", "dask")
    assert_one_line_error(code, err, "--cluster 'dask': give ray or ray=ADDRESS")


@pytest.mark.slow
def test_a_local_ray_cluster_mattes_a_batch(capsys, checkpoint, shots):
    ray = pytest.importorskip("ray", reason="Ray is not installed (the [cluster] extra)")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        out = shots / "out"
        code, _, err = matte_shots(
            capsys, checkpoint, shots, "--cluster", "ray", "--threads", "1", "-q"
        )
    finally:
        ray.shutdown()
    assert code == 0, err
    assert final_names(out) == ALL
    report = json.loads((out / "batch.json").read_text())
    assert report["summary"]["backend"] == "ray"
    assert [(r["shot"], r["status"], r["frames"]) for r in report["shots"]] == [
        ("a", "done", 3),
        ("b", "done", 3),
        ("c", "done", 3),
    ]
