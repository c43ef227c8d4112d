"""MultiWorkerMirroredStrategy on two localhost worker processes gives one worker's training result."""
import json

import numpy as np
import pytest

from aiaas_lib.scaling import multiworker as mw

STEPS, BATCH = 12, 32


@pytest.fixture(scope="module")
def runs():
    """One two-worker run and the same training on one worker in this process (~15 s together)."""
    return mw.run_workers(2, steps=STEPS, global_batch=BATCH, timeout=120), mw.train(steps=STEPS, global_batch=BATCH)


def test_two_workers_match_one_worker_losses(runs):
    two, one = runs
    # float32 sums of the same numbers in a different order (per-worker partial sums, then the all-reduce):
    # agreement to ~1e-7 expected; 1e-5 leaves room and is still far below a one-step change (~1e-2)
    np.testing.assert_allclose(two[0].losses, one.losses, rtol=0, atol=1e-5)


def test_two_workers_match_one_worker_weights(runs):
    two, one = runs
    for w2, w1 in zip(two[0].weights, one.weights):
        np.testing.assert_allclose(w2, w1, rtol=0, atol=1e-5)


def test_every_worker_reports_identical_weights(runs):
    two, _ = runs
    assert [r.workers for r in two] == [2, 2]
    for a, b in zip(two[0].weights, two[1].weights):
        np.testing.assert_array_equal(a, b)  # the same all-reduced update applied everywhere: bit-identical


def test_training_lowers_the_loss(runs):
    _, one = runs
    assert one.losses[-1] < one.losses[0] - 0.05


def test_result_json_round_trip():
    result = mw.TrainResult(np.array([0.5, 0.25]), [np.ones((2, 2), np.float32)], 2, 1.5)
    back = mw.TrainResult.from_json(json.loads(json.dumps(result.to_json())))
    assert back.losses.tolist() == [0.5, 0.25] and back.weights[0].tolist() == [[1, 1], [1, 1]] and back.workers == 2


def test_tf_config_names_every_worker_and_this_task():
    config = json.loads(mw.tf_config(["a:1", "b:2"], 0))
    assert config == {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}


def test_tf_config_rejects_bad_index():
    with pytest.raises(ValueError, match="index=2; expected 0..1"):
        mw.tf_config(["a:1", "b:2"], 2)


def test_global_batch_must_split_evenly():
    with pytest.raises(ValueError, match="global_batch=33; expected a positive multiple of n_workers=2"):
        mw.run_workers(2, global_batch=33)


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": 0}, "steps=0 must be an integer >= 1"),
    ({"n_workers": 0}, "n_workers=0 must be an integer >= 1"),
])
def test_bad_sizes_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mw.run_workers(**kwargs)


def test_make_data_rejects_zero_rows():
    with pytest.raises(ValueError, match="rows=0"):
        mw.make_data(0)


def test_worker_refuses_a_mismatched_task_index(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TF_CONFIG", mw.tf_config(["localhost:1", "localhost:2"], 1))
    assert mw.main(["--task-index", "0", "--out", str(tmp_path / "x.json")]) == 2
    assert "does not match TF_CONFIG" in capsys.readouterr().err


def test_a_failing_worker_is_reported_with_its_log(tmp_path):
    # lr as text that argparse refuses: both workers exit with code 2 at once, nothing is left running
    with pytest.raises(RuntimeError, match="exited with code 2"):
        mw.run_workers(2, steps=1, global_batch=2, lr="fast", workdir=tmp_path, timeout=60)
    assert not mw._RUNNING


def test_run_workers_runs_a_given_script(tmp_path):
    # a stand-in worker script (no TensorFlow): it gets the same arguments and writes a TrainResult JSON
    script = tmp_path / "worker.py"
    script.write_text(
        "import argparse, json\n"
        "p = argparse.ArgumentParser()\n"
        "for a in ('--task-index', '--steps', '--global-batch', '--hidden', '--seed'): p.add_argument(a, type=int)\n"
        "p.add_argument('--out'); p.add_argument('--lr', type=float)\n"
        "a = p.parse_args()\n"
        "json.dump({'losses': [float(a.task_index)] * a.steps, 'weights': [[a.global_batch]], 'workers': 2,\n"
        "           'seconds': 0.0}, open(a.out, 'w'))\n")
    results = mw.run_workers(2, steps=3, global_batch=4, workdir=tmp_path, timeout=60, script=script)
    assert [r.losses.tolist() for r in results] == [[0.0] * 3, [1.0] * 3]
    assert results[1].weights[0].tolist() == [4.0] and not mw._RUNNING
