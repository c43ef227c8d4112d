"""Used by notebooks 09 and 10 (through :mod:`aiaas_lib.explain`); also imported by the CLI/service.

Thin wrappers over the ``lime`` package for tables, text and images, with fixed seeds and plain outputs.

- :func:`lime_tabular_lib`: ``LimeTabularExplainer`` configured exactly like the from-scratch
  :func:`~aiaas_lib.explain.lime_scratch.lime_tabular`, returning the same :class:`LimeExplanation`.
- :func:`lime_text`: ``LimeTextExplainer`` (bag of words, words hidden at random) → word weights.
- :func:`lime_image`: ``LimeImageExplainer`` with SLIC superpixels that work on 28×28 grey images →
  per-segment weights, a segment map, a heat map and a mask of the most supportive segments.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from aiaas_lib.explain.lime_scratch import LimeExplanation
from aiaas_lib.validation import positive_int


def _check_samples(num_samples: int) -> int:
    if int(num_samples) < 2:
        raise ValueError(f"num_samples={num_samples!r}; LIME needs at least 2 samples (the instance and one more)")
    return int(num_samples)


def lime_tabular_lib(f: Callable, x, training_data, num_samples: int = 5000, kernel_width: float | None = None,
                     seed: int = 0) -> LimeExplanation:
    """LIME on a table with the ``lime`` package: continuous features, no discretisation, all features.

    Same arguments and result as :func:`~aiaas_lib.explain.lime_scratch.lime_tabular`; ``f`` returns one
    number per row (regression mode), e.g. P(class 1).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(size=(200, 2))
    >>> exp = lime_tabular_lib(lambda rows: rows @ np.array([2.0, -1.0]), train[0], train, num_samples=500)
    >>> exp.weights.shape, round(exp.score, 3)
    ((2,), 1.0)
    """
    from lime.lime_tabular import LimeTabularExplainer

    training_data = np.asarray(training_data, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if training_data.ndim != 2 or x.shape != (training_data.shape[1],):
        raise ValueError(f"x has shape {x.shape} and training_data {training_data.shape}; expected x of shape "
                         "(n_features,) and training_data of shape (n_rows, n_features)")
    num_samples = _check_samples(num_samples)
    m = training_data.shape[1]
    explainer = LimeTabularExplainer(training_data, mode="regression", discretize_continuous=False,
                                     kernel_width=kernel_width, random_state=seed, feature_selection="none")
    exp = explainer.explain_instance(x, lambda Z: np.asarray(f(Z), dtype=np.float64).reshape(len(Z)),
                                     num_features=m, num_samples=num_samples)
    weights = np.zeros(m)
    for i, w in exp.local_exp[1]:
        weights[i] = w
    width = 0.75 * np.sqrt(m) if kernel_width is None else kernel_width
    return LimeExplanation(weights, float(exp.intercept[1]), float(exp.score), float(np.ravel(exp.local_pred)[0]),
                           float(width))


def lime_text(classifier_fn: Callable[[Sequence[str]], np.ndarray], text: str, num_features: int = 10,
              num_samples: int = 1000, seed: int = 0, label: int = 1) -> dict:
    """Which words of ``text`` push ``classifier_fn`` towards class ``label`` (``lime.lime_text``).

    Parameters
    ----------
    classifier_fn : callable
        List of n strings → probabilities of shape (n, n_classes).
    num_features : int
        How many words to report (the largest weights).

    Returns
    -------
    dict
        ``words``: list of (word, weight), largest |weight| first (at most ``num_features``);
        ``intercept``, ``score`` (weighted R² of the local model), ``prediction_local``: floats;
        ``label``: the explained class.

    Examples
    --------
    >>> def clf(texts):
    ...     p = np.array([0.9 if "good" in t else 0.2 for t in texts])
    ...     return np.column_stack([1 - p, p])
    >>> out = lime_text(clf, "good food and nice staff", num_features=2, num_samples=200)
    >>> out["words"][0][0]
    'good'
    """
    from lime.lime_text import LimeTextExplainer

    num_samples = _check_samples(num_samples)
    num_features = positive_int("num_features", num_features)
    explainer = LimeTextExplainer(random_state=seed)
    exp = explainer.explain_instance(text, classifier_fn, labels=(label,), num_features=int(num_features),
                                     num_samples=num_samples)
    return {
        "words": [(str(w), float(v)) for w, v in exp.as_list(label=label)],
        "intercept": float(exp.intercept[label]),
        "score": float(exp.score),
        "prediction_local": float(np.ravel(exp.local_pred)[0]),
        "label": int(label),
    }


def slic_segments(image: np.ndarray, n_segments: int = 25, compactness: float = 0.5,
                  sigma: float = 0.0) -> np.ndarray:
    """SLIC superpixels of a 2-D grey image as labels ``0..S-1`` (every label used).

    Examples
    --------
    >>> img = np.zeros((28, 28)); img[7:21, 7:21] = 1.0
    >>> seg = slic_segments(img)
    >>> seg.shape, int(seg.min()), bool(seg.max() + 1 == len(np.unique(seg)))
    ((28, 28), 0, True)
    """
    from skimage.segmentation import slic

    labels = slic(np.asarray(image, dtype=np.float64), n_segments=n_segments, compactness=compactness, sigma=sigma,
                  channel_axis=None, start_label=0)
    return np.unique(labels, return_inverse=True)[1].reshape(labels.shape)


def lime_image(classifier_fn: Callable[[np.ndarray], np.ndarray], image, label: int | None = None,
               num_samples: int = 300, num_features: int = 5, n_segments: int = 25, compactness: float = 0.5,
               hide_color: float | None = 0.0, seed: int = 0, batch_size: int = 100) -> dict:
    """Which superpixels of a grey image support class ``label`` (``lime.lime_image`` with SLIC segments).

    Hidden segments are painted ``hide_color`` (default 0, black: the background of (Fashion-)MNIST, so
    hiding a segment removes that part of the object). lime's own default, ``None``, fills a segment with
    its mean intensity, which changes nothing on the flat segments of such small images. lime works on RGB
    images; the wrapper converts them back, so ``classifier_fn`` receives images of the shape given here.

    Parameters
    ----------
    classifier_fn : callable
        Images of shape (n, H, W) or (n, H, W, 1), like ``image`` → class probabilities (n, n_classes).
    image : array-like, shape (H, W) or (H, W, 1)
        A grey image (e.g. 28×28 in [0, 1]).
    label : int, optional
        Class to explain; default the class ``classifier_fn`` ranks first for ``image``.
    num_features : int
        Segments in ``mask`` (the ones with the largest positive weights).
    n_segments, compactness : SLIC parameters; ~25 and 0.1–1 suit 28×28 images in [0, 1].
    hide_color : float or None
        Intensity of hidden segments; ``None`` for each segment's mean.

    Returns
    -------
    dict
        ``segments`` (H, W) int labels 0..S-1; ``weights`` (S,) weight of each segment; ``heatmap`` (H, W)
        each pixel's segment weight; ``mask`` (H, W) bool, the top positive segments; ``label`` int;
        ``intercept``, ``score``, ``prediction_local`` floats.

    Examples
    --------
    >>> img = np.zeros((28, 28)); img[:, :14] = 1.0
    >>> def clf(images):  # class 1 = "bright left half"
    ...     p = images[:, :, :14].mean(axis=(1, 2)).reshape(-1)
    ...     return np.column_stack([1 - p, p])
    >>> out = lime_image(clf, img, label=1, num_samples=100)
    >>> out["heatmap"].shape, out["weights"].shape == (out["segments"].max() + 1,)
    ((28, 28), True)
    """
    with warnings.catch_warnings():  # lime imports tqdm.auto, which warns in a Jupyter kernel without ipywidgets
        warnings.filterwarnings("ignore", message="IProgress not found")
        from lime.lime_image import LimeImageExplainer

    num_samples = _check_samples(num_samples)
    image = np.asarray(image, dtype=np.float64)
    shape = image.shape
    if not (image.ndim == 2 or (image.ndim == 3 and shape[-1] == 1)):
        raise ValueError(f"image has shape {shape}; expected a grey image (H, W) or (H, W, 1)")
    grey = image.reshape(shape[:2])

    def from_rgb(images: np.ndarray) -> np.ndarray:
        return np.asarray(classifier_fn(images[..., 0].reshape((len(images), *shape))))

    if label is None:
        label = int(np.argmax(np.asarray(classifier_fn(image[None]))[0]))
    explainer = LimeImageExplainer(random_state=seed)
    with contextlib.redirect_stderr(io.StringIO()):  # lime draws a tqdm progress bar
        exp = explainer.explain_instance(
            grey, from_rgb, labels=(label,), top_labels=None, hide_color=hide_color, num_features=10 ** 6,
            num_samples=num_samples,
            batch_size=batch_size, random_seed=seed,
            segmentation_fn=lambda rgb: slic_segments(rgb[..., 0], n_segments, compactness),
        )
    segments = exp.segments
    weights = np.zeros(segments.max() + 1)
    for s, w in exp.local_exp[label]:
        weights[s] = w
    top = [s for s in np.argsort(-weights)[: int(num_features)] if weights[s] > 0]
    return {
        "segments": segments,
        "weights": weights,
        "heatmap": weights[segments],
        "mask": np.isin(segments, top),
        "label": int(label),
        "intercept": float(exp.intercept[label]),
        "score": float(exp.score),
        "prediction_local": float(np.ravel(exp.local_pred)[0]),
    }
