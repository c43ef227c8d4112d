"""Notebook 06's exercise checks: the right answer passes, each typical wrong answer gets its hint."""
import pytest

from aiaas_lib import training
from aiaas_lib.exercises import nb06_training_on_a_gpu as ex
from _feedback import run_check as _run


def _capable(gpus):
    return bool(gpus) and all(g.supports_mixed_precision for g in gpus)


def test_precision_choice_right(capsys):
    assert _run(capsys, ex.check_precision_choice, lambda gpus: training.precision_policy(gpus))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda gpus: "mixed_float16", "no GPU stay float32"),
    (lambda gpus: "mixed_float16" if gpus else "float32", "K80"),
    (lambda gpus: "mixed_float16" if _capable(gpus) and gpus[0].compute_capability > (7, 0) else "float32", ">= (7, 0)"),
    (lambda gpus: "mixed_float16" if any(g.supports_mixed_precision for g in gpus) else "float32", "every one"),
    (lambda gpus: "float16" if _capable(gpus) else "float32", "return the string"),
    (lambda gpus: None, "not None"),
    (lambda gpus: gpus[0].compute_capability >= (7, 0), "could not check"),
])
def test_precision_choice_wrong_gives_hint(capsys, func, hint):
    ok, out = _run(capsys, ex.check_precision_choice, func)
    assert not ok and hint in out


def test_precision_choice_unknown_capability_hint(capsys):
    def guess(gpus):
        return "mixed_float16" if gpus and all(g.compute_capability is None or g.compute_capability >= (7, 0)
                                               for g in gpus) else "float32"

    ok, out = _run(capsys, ex.check_precision_choice, guess)
    assert not ok and "unknown compute capability" in out


def _pipeline(flip_before_cache=False, shuffle_after_batch=False, cache_after_shuffle=False, buffer=None,
              always_flip=False, scale=True, channel=True, prefetch=True, cache=True, reshuffle=True,
              global_seed_flip=False):
    """The exercise's pipeline, with one typical mistake switched on."""
    from aiaas_lib import env

    tf = env.import_tensorflow()

    def build(x, y, batch_size, seed):
        def prepare(image, label):
            image = tf.cast(image, tf.float32) / (255.0 if scale else 1.0)
            return (image[..., None] if channel else image), label

        rng = tf.random.Generator.from_seed(seed)

        def flip(image, label):
            if always_flip:
                return tf.reverse(image, [1]), label
            if global_seed_flip:  # tf's stateless-looking op: with a global seed it repeats every epoch
                return tf.image.random_flip_left_right(image), label
            return tf.cond(rng.uniform([]) < 0.5, lambda: tf.reverse(image, [1]), lambda: image), label  # axis 1: columns

        def shuffle(d):
            return d.shuffle(buffer or len(x), seed=seed, reshuffle_each_iteration=reshuffle)

        ds = tf.data.Dataset.from_tensor_slices((x, y)).map(prepare)
        if flip_before_cache:
            ds = ds.map(flip)
        if cache_after_shuffle:
            ds = shuffle(ds)
        if cache:
            ds = ds.cache()
        if not flip_before_cache:
            ds = ds.map(flip)
        if not cache_after_shuffle and not shuffle_after_batch:
            ds = shuffle(ds)
        ds = ds.batch(batch_size)
        if shuffle_after_batch:
            ds = ds.shuffle(len(x) // batch_size + 1, seed=seed, reshuffle_each_iteration=True)
        return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds

    return build


def test_pipeline_right(capsys):
    assert _run(capsys, ex.check_pipeline, _pipeline())[0]


def test_pipeline_reference_example_right(capsys):
    assert _run(capsys, ex.check_pipeline, ex._pipeline_example)[0]


def test_pipeline_right_under_a_global_seed(capsys):
    import keras

    keras.utils.set_random_seed(0)  # as every notebook's setup cell does
    assert _run(capsys, ex.check_pipeline, _pipeline())[0]


def test_pipeline_random_flip_op_under_a_global_seed_gets_the_generator_hint(capsys):
    import keras

    keras.utils.set_random_seed(0)
    ok, out = _run(capsys, ex.check_pipeline, _pipeline(global_seed_flip=True))
    assert not ok and "tf.random.Generator" in out, out


@pytest.mark.parametrize("mistake, hint", [
    ({"flip_before_cache": True}, "cache froze it"),
    ({"shuffle_after_batch": True}, "shuffle before batch"),
    ({"cache_after_shuffle": True}, "same order"),
    ({"reshuffle": False}, "same order"),
    ({"buffer": 4}, "small shuffle buffer"),
    ({"always_flip": True}, "flip at random"),
    ({"scale": False}, "divide by 255"),
    ({"channel": False}, "add the channel axis"),
    ({"prefetch": False}, "prefetch"),
    ({"cache": False}, "cache the scaled images"),
])
def test_pipeline_mistake_gives_hint(capsys, mistake, hint):
    ok, out = _run(capsys, ex.check_pipeline, _pipeline(**mistake))
    assert not ok and hint in out


def test_pipeline_without_shuffle_gives_hint(capsys):
    def unshuffled(x, y, batch_size, seed):
        return _pipeline(buffer=1)(x, y, batch_size, seed)

    ok, out = _run(capsys, ex.check_pipeline, unshuffled)
    assert not ok and "input order" in out


@pytest.mark.parametrize("func, hint", [
    (lambda x, y, b, s: [x, y], "return the tf.data.Dataset"),
    (lambda x, y, b, s: 1 / 0, "could not check"),
    (None, "no answer yet"),
])
def test_pipeline_garbage_does_not_raise(capsys, func, hint):
    ok, out = _run(capsys, ex.check_pipeline, func)
    assert not ok and hint in out


def test_global_batch_right(capsys):
    ok, out = _run(capsys, ex.check_global_batch, 256, 235)
    assert ok and "235 steps" in out


@pytest.mark.parametrize("answer, hint", [
    ((64, 938), "per-replica batch"), ((256, 234), "round up"), ((256, 938), "consumes the global batch"),
    ((128, 469), "global batch 128 is not it"), ((256, 240), "divide 60000"), ((None, None), "no answer yet"),
    (("many", 3), "could not check"),
])
def test_global_batch_wrong_gives_hint(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_global_batch, *answer)
    assert not ok and hint in out


def test_global_batch_other_setup(capsys):
    assert _run(capsys, ex.check_global_batch, 64, 16, n_images=1000, replicas=2, per_replica=32)[0]


def test_precision_choice_none_capability_typeerror_hint(capsys):
    def compares_none(gpus):
        return "mixed_float16" if gpus and all(g.compute_capability >= (7, 0) for g in gpus) else "float32"

    ok, out = _run(capsys, ex.check_precision_choice, compares_none)
    assert not ok and "can be None" in out
