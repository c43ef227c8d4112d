"""Used by notebook 07.

Vision building blocks: convolution in NumPy, box IoU, a localisation canvas, an IoU tracker, small CNNs.

Images are NHWC (batch, height, width, channels) like Keras; convolution kernels use Keras' HWIO layout
(height, width, in-channels, out-channels); boxes are ``(y0, x0, y1, x1)`` with ``y1``/``x1`` exclusive,
in pixels or in any unit as long as both boxes share it. TensorFlow/Keras are imported inside the
builders only.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aiaas_lib.validation import integer, number, positive_int

PADDINGS = ("valid", "same")
MATCHERS = ("greedy", "hungarian")

#: The 3×3 Sobel kernels: ``SOBEL_Y`` responds to horizontal edges, ``SOBEL_X`` to vertical ones.
SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
SOBEL_Y = SOBEL_X.T.copy()


# ----------------------------------------------------------------------------------------- convolution
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: str = "valid") -> int:
    """Output length of a convolution along one axis, as Keras computes it.

    ``valid``: :math:`\\lfloor (n - k) / s \\rfloor + 1`; ``same``: :math:`\\lceil n / s \\rceil`.

    Examples
    --------
    >>> conv_output_size(28, 3), conv_output_size(28, 3, stride=2), conv_output_size(28, 3, 2, "same")
    (26, 13, 14)
    """
    size, kernel_size = positive_int("size", size), positive_int("kernel_size", kernel_size)
    stride = positive_int("stride", stride)
    if padding not in PADDINGS:
        raise ValueError(f"padding={padding!r} is not supported; expected one of {list(PADDINGS)}")
    if padding == "same":
        return -(-size // stride)
    if kernel_size > size:
        raise ValueError(
            f"kernel size {kernel_size} is larger than the input size {size} with padding='valid'")
    return (size - kernel_size) // stride + 1


def _same_pads(size: int, k: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding: the extra pixel (if the total is odd) goes after, not before."""
    total = max((conv_output_size(size, k, stride, "same") - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def conv2d(x, kernel, bias=None, stride: int = 1, padding: str = "valid") -> np.ndarray:
    """2-D convolution (cross-correlation, as in every deep-learning library) in vectorised NumPy.

    :math:`y[n, i, j, f] = b_f + \\sum_{u, v, c} x[n, s i + u, s j + v, c]\\, K[u, v, c, f]`

    Parameters
    ----------
    x : array of shape (batch, height, width, in_channels)
        Images, NHWC.
    kernel : array of shape (kh, kw, in_channels, filters)
        Keras' HWIO layout, i.e. ``keras.layers.Conv2D(...).kernel``.
    bias : array of shape (filters,), optional
    stride : int
        The same step along height and width.
    padding : {"valid", "same"}
        ``valid`` keeps only full windows; ``same`` zero-pads like TensorFlow so the output is
        ``ceil(size / stride)`` (extra padding after, when the total is odd).

    Returns
    -------
    array of shape (batch, out_height, out_width, filters), in the result dtype of ``x`` and ``kernel``.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> box = np.ones((2, 2, 1, 1))
    >>> conv2d(x, box)[0, :, :, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    >>> conv2d(x, box, stride=2, padding="same").shape
    (1, 2, 2, 1)
    """
    from numpy.lib.stride_tricks import sliding_window_view

    x, kernel = np.asarray(x), np.asarray(kernel)
    if x.ndim != 4:
        raise ValueError(f"x has shape {x.shape}; expected 4 dimensions (batch, height, width, channels)")
    if kernel.ndim != 4:
        raise ValueError(
            f"kernel has shape {kernel.shape}; expected 4 dimensions (height, width, in_channels, filters)")
    if kernel.shape[2] != x.shape[3]:
        raise ValueError(f"kernel expects {kernel.shape[2]} input channels but x has {x.shape[3]}")
    stride = positive_int("stride", stride)
    kh, kw = kernel.shape[:2]
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    if padding == "same":
        pads = (_same_pads(x.shape[1], kh, stride), _same_pads(x.shape[2], kw, stride))
        x = np.pad(x, ((0, 0), *pads, (0, 0)))
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride][:, :out_h, :out_w]
    # windows: (n, out_h, out_w, c, kh, kw); contract c, kh, kw with the kernel (im2col + one matmul)
    y = np.tensordot(windows, kernel.transpose(2, 0, 1, 3), axes=([3, 4, 5], [0, 1, 2]))
    if bias is not None:
        bias = np.asarray(bias)
        if bias.shape != (kernel.shape[3],):
            raise ValueError(f"bias has shape {bias.shape}; expected ({kernel.shape[3]},), one per filter")
        y = y + bias
    return y


# -------------------------------------------------------------------------------------------------- boxes
def _boxes(boxes, name: str) -> np.ndarray:
    """``boxes`` as a float array (..., 4) with y0 <= y1 and x0 <= x1, or a ValueError naming ``name``."""
    arr = np.asarray(boxes, dtype=float)
    if arr.ndim == 0 or arr.shape[-1] != 4:
        raise ValueError(f"{name} has shape {arr.shape}; boxes need a last axis of 4 values (y0, x0, y1, x1)")
    bad = (arr[..., 2] < arr[..., 0]) | (arr[..., 3] < arr[..., 1])
    if np.any(bad):
        first = arr.reshape(-1, 4)[np.flatnonzero(bad.ravel())[0]]
        raise ValueError(
            f"{name} holds the box {first.tolist()} with y1 < y0 or x1 < x0; boxes are (y0, x0, y1, x1)")
    return arr


def box_area(boxes) -> np.ndarray:
    """Area of boxes ``(..., 4)``.

    Examples
    --------
    >>> box_area([[0, 0, 2, 3], [1, 1, 1, 5]])
    array([6., 0.])
    """
    b = _boxes(boxes, "boxes")
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def iou(box_a, box_b) -> np.ndarray | float:
    """Intersection over union of boxes ``(y0, x0, y1, x1)``, broadcast over leading axes.

    :math:`\\mathrm{IoU}(A, B) = |A \\cap B| / |A \\cup B|`, 1 for identical boxes, 0 for disjoint ones
    (and 0 when both boxes are empty).

    Parameters
    ----------
    box_a, box_b : array-like of shape (..., 4)
        Boxes whose leading shapes broadcast, e.g. (n, 1, 4) against (1, m, 4) for an n×m matrix.

    Returns
    -------
    float for two single boxes, else an array of the broadcast leading shape.

    Examples
    --------
    >>> iou([0, 0, 10, 10], [0, 5, 10, 15])  # half of each box overlaps: 50 / 150
    0.333...
    >>> iou([[0, 0, 2, 2], [5, 5, 6, 6]], [0, 0, 2, 2])
    array([1., 0.])
    """
    a, b = _boxes(box_a, "box_a"), _boxes(box_b, "box_b")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"box_a {a.shape} and box_b {b.shape} do not broadcast against each other") from None
    h = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    w = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = h * w
    union = box_area(a) + box_area(b) - inter
    out = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return float(out) if out.ndim == 0 else out


def iou_matrix(boxes_a, boxes_b) -> np.ndarray:
    """IoU of every box in ``boxes_a`` (n, 4) with every box in ``boxes_b`` (m, 4): an (n, m) matrix.

    Examples
    --------
    >>> iou_matrix([[0, 0, 2, 2]], [[0, 0, 2, 2], [0, 0, 2, 4], [3, 3, 4, 4]])
    array([[1. , 0.5, 0. ]])
    """
    a = _boxes(boxes_a, "boxes_a").reshape(-1, 4)
    b = _boxes(boxes_b, "boxes_b").reshape(-1, 4)
    return np.asarray(iou(a[:, None, :], b[None, :, :])).reshape(len(a), len(b))


# ------------------------------------------------------------------------------------------- the canvas
def object_box(image, threshold: float = 0.0) -> np.ndarray:
    """Tight box ``(y0, x0, y1, x1)`` around the pixels of a 2-D ``image`` above ``threshold``.

    Examples
    --------
    >>> img = np.zeros((5, 5)); img[1:3, 2:5] = 1
    >>> object_box(img)
    array([1., 2., 3., 5.])
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(f"image has shape {img.shape}; expected a 2-D (height, width) image")
    rows, cols = np.flatnonzero((img > threshold).any(axis=1)), np.flatnonzero((img > threshold).any(axis=0))
    if rows.size == 0:
        raise ValueError(f"image has no pixel above threshold={threshold}: there is no object to box")
    return np.array([rows[0], cols[0], rows[-1] + 1, cols[-1] + 1], dtype=float)


def place_on_canvas(images, canvas: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Paste each image at a random position on an empty ``canvas × canvas`` image: a localisation task.

    Parameters
    ----------
    images : array of shape (n, h, w)
        Grey images with a zero background (e.g. Fashion-MNIST), h and w at most ``canvas``.
    canvas : int
        Side of the square canvas in pixels.
    seed : int
        Seed of the random positions.

    Returns
    -------
    canvases : array of shape (n, canvas, canvas), same dtype as ``images``
    boxes : float array of shape (n, 4)
        The tight box ``(y0, x0, y1, x1)`` (pixels, end exclusive) around each object's non-zero pixels.

    Examples
    --------
    >>> img = np.zeros((1, 4, 4), dtype=np.uint8); img[0, 1:3, 1:4] = 255
    >>> canvases, boxes = place_on_canvas(img, canvas=10, seed=0)
    >>> canvases.shape, boxes.shape
    ((1, 10, 10), (1, 4))
    >>> y0, x0, y1, x1 = boxes[0].astype(int)
    >>> int(canvases[0, y0:y1, x0:x1].sum()) == int(img.sum()), (int(y1 - y0), int(x1 - x0))
    (True, (2, 3))
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images has shape {images.shape}; expected (n, height, width) grey images")
    canvas = positive_int("canvas", canvas)
    n, h, w = images.shape
    if h > canvas or w > canvas:
        raise ValueError(f"images of {h}×{w} pixels do not fit on a canvas of {canvas}×{canvas}")
    rng = np.random.default_rng(seed)
    ys, xs = rng.integers(0, canvas - h + 1, size=n), rng.integers(0, canvas - w + 1, size=n)
    out = np.zeros((n, canvas, canvas), dtype=images.dtype)
    boxes = np.zeros((n, 4))
    for i, (y, x) in enumerate(zip(ys, xs)):
        out[i, y:y + h, x:x + w] = images[i]
        boxes[i] = object_box(images[i]) + [y, x, y, x]
    return out, boxes


# ----------------------------------------------------------------------------------------------- tracking
class IouTracker:
    """Give detections stable ids across frames by matching them to the previous frame's boxes by IoU.

    Each frame, every live track is compared with every detection (an IoU matrix). Pairs are matched
    ``greedy`` (highest IoU first) or ``hungarian`` (the assignment with the largest total IoU,
    :func:`scipy.optimize.linear_sum_assignment`); a pair counts only when its IoU is at least
    ``iou_threshold``. A matched track takes the detection's box; an unmatched detection starts a new track;
    a track unmatched for more than ``max_misses`` frames in a row ends.

    Parameters
    ----------
    iou_threshold : float in (0, 1]
    max_misses : int >= 0
        How many frames in a row a track may go undetected and still be continued.
    method : {"greedy", "hungarian"}

    Attributes
    ----------
    tracks_ : dict[int, dict]
        Live tracks: id → ``{"box": array, "misses": int}``.
    next_id_ : int
        The id the next new track gets (ids start at 1).

    Examples
    --------
    >>> tracker = IouTracker(iou_threshold=0.3)
    >>> tracker.update([[0, 0, 10, 10]]).tolist()
    [1]
    >>> tracker.update([[20, 20, 30, 30], [1, 1, 11, 11]]).tolist()  # the object moved; a second one appeared
    [2, 1]
    """

    def __init__(self, iou_threshold: float = 0.3, max_misses: int = 2, method: str = "greedy"):
        iou_threshold = number("iou_threshold", iou_threshold, 0, 1, low_open=True)
        max_misses = integer("max_misses", max_misses, 0)
        if method not in MATCHERS:
            raise ValueError(f"method={method!r} is not a matcher; expected one of {list(MATCHERS)}")
        self.iou_threshold, self.max_misses, self.method = iou_threshold, max_misses, method
        self.reset()

    def reset(self) -> IouTracker:
        """Forget all tracks; ids start again at 1."""
        self.tracks_: dict[int, dict] = {}
        self.next_id_ = 1
        return self

    def _match(self, scores: np.ndarray) -> list[tuple[int, int]]:
        """(track row, detection column) pairs with IoU >= the threshold."""
        if scores.size == 0:
            return []
        if self.method == "hungarian":
            from scipy.optimize import linear_sum_assignment

            rows, cols = linear_sum_assignment(-scores)
            pairs = zip(rows.tolist(), cols.tolist())
        else:
            order = np.argsort(-scores, axis=None, kind="stable")
            pairs, used_r, used_c = [], set(), set()
            for r, c in zip(*np.unravel_index(order, scores.shape)):
                if r not in used_r and c not in used_c:
                    pairs.append((int(r), int(c)))
                    used_r.add(r)
                    used_c.add(c)
        return [(r, c) for r, c in pairs if scores[r, c] >= self.iou_threshold]

    def update(self, detections) -> np.ndarray:
        """Match one frame's detections (n, 4) to the tracks; return the track id of each detection.

        An empty frame is ``np.zeros((0, 4))`` (or ``[]``).
        """
        dets = np.asarray(detections, dtype=float)
        dets = dets.reshape(0, 4) if dets.size == 0 else dets
        if dets.ndim != 2:
            raise ValueError(f"detections has shape {dets.shape}; expected (n, 4) boxes (y0, x0, y1, x1)")
        dets = _boxes(dets, "detections")
        track_ids = list(self.tracks_)
        scores = iou_matrix(np.array([self.tracks_[t]["box"] for t in track_ids]).reshape(-1, 4), dets)
        ids = np.zeros(len(dets), dtype=int)
        matched_tracks = set()
        for r, c in self._match(scores):
            tid = track_ids[r]
            self.tracks_[tid] = {"box": dets[c], "misses": 0}
            ids[c] = tid
            matched_tracks.add(tid)
        for tid in track_ids:
            if tid not in matched_tracks:
                self.tracks_[tid]["misses"] += 1
                if self.tracks_[tid]["misses"] > self.max_misses:
                    del self.tracks_[tid]
        for c in np.flatnonzero(ids == 0):
            ids[c] = self.next_id_
            self.tracks_[self.next_id_] = {"box": dets[c], "misses": 0}
            self.next_id_ += 1
        return ids


def moving_boxes(starts, velocities, num_frames: int, size: Sequence[float] = (20, 20),
                 appear: Sequence[int] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """A synthetic sequence of boxes moving at constant velocity, for trying a tracker.

    Parameters
    ----------
    starts : array (k, 2)
        Top-left corner (y, x) of each object in its first frame.
    velocities : array (k, 2)
        Pixels per frame along (y, x).
    num_frames : int
    size : (height, width)
        Box size of every object.
    appear : sequence of k ints, optional
        Frame in which each object first appears (default: all in frame 0).

    Returns
    -------
    list of ``(boxes, object_index)`` per frame: boxes (m, 4) of the visible objects and which object each is.

    Examples
    --------
    >>> frames = moving_boxes([[0, 0]], [[0, 2]], num_frames=3, size=(4, 4))
    >>> [f[0][0].tolist() for f in frames]
    [[0.0, 0.0, 4.0, 4.0], [0.0, 2.0, 4.0, 6.0], [0.0, 4.0, 4.0, 8.0]]
    """
    starts, velocities = np.asarray(starts, dtype=float), np.asarray(velocities, dtype=float)
    if starts.ndim != 2 or starts.shape[1] != 2 or velocities.shape != starts.shape:
        raise ValueError(
            f"starts {starts.shape} and velocities {velocities.shape} must both have shape (objects, 2)")
    num_frames = positive_int("num_frames", num_frames)
    appear = np.zeros(len(starts), dtype=int) if appear is None else np.asarray(appear, dtype=int)
    if appear.shape != (len(starts),):
        raise ValueError(
            f"appear has shape {appear.shape}; expected one frame index per object ({len(starts)},)")
    h, w = size
    frames = []
    for t in range(num_frames):
        visible = np.flatnonzero(appear <= t)
        corners = starts[visible] + velocities[visible] * (t - appear[visible])[:, None]
        boxes = np.concatenate([corners, corners + [h, w]], axis=1).reshape(-1, 4)
        frames.append((boxes, visible))
    return frames


# ------------------------------------------------------------------------------------------ Keras models
def _keras():
    """Keras, with TensorFlow imported first without its C++ log lines."""
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    return keras


def cnn_backbone(input_shape: Sequence[int] = (28, 28, 1), filters: Sequence[int] = (32, 64),
                 features: int = 128, name: str = "backbone"):
    """A small convolutional feature extractor: per block Conv(3×3, ReLU) → MaxPool(2), then Dense(ReLU).

    Parameters
    ----------
    input_shape : (height, width, channels)
        Images scaled to [0, 1].
    filters : sequence of int
        Filters of each convolutional block.
    features : int
        Size of the feature vector (a Dense ReLU layer on the flattened last block).
    name : str

    Returns
    -------
    keras.Model mapping (batch, *input_shape) to (batch, features); its conv layers are named
    ``conv1``, ``conv2``, ...

    Examples
    --------
    >>> backbone = cnn_backbone((28, 28, 1), filters=(8, 16), features=32)
    >>> backbone.output_shape
    (None, 32)
    """
    keras = _keras()

    if len(input_shape) != 3:
        raise ValueError(f"input_shape={tuple(input_shape)!r} must be (height, width, channels)")
    if not filters:
        raise ValueError("filters is empty; give at least one block, e.g. (32, 64)")
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    h = inputs
    for i, f in enumerate(filters, start=1):
        h = keras.layers.Conv2D(positive_int("filters", f), 3, padding="same", activation="relu",
                                name=f"conv{i}")(h)
        h = keras.layers.MaxPooling2D(2, name=f"pool{i}")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    outputs = keras.layers.Dense(positive_int("features", features), activation="relu", name="features")(h)
    return keras.Model(inputs, outputs, name=name)


def image_classifier(backbone, num_classes: int, augmentation=None, dropout: float = 0.0,
                     name: str = "classifier"):
    """A classifier = (optional augmentation) → ``backbone`` → dropout → Dense(num_classes, softmax).

    Augmentation layers inside the model act only when ``training=True`` (``fit``), never in
    ``evaluate``/``predict``: validation and test images stay untouched.

    Examples
    --------
    >>> model = image_classifier(cnn_backbone(filters=(8,)), num_classes=5)
    >>> model.output_shape
    (None, 5)
    """
    keras = _keras()

    num_classes = positive_int("num_classes", num_classes)
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout={dropout!r} must be in [0, 1)")
    inputs = keras.Input(shape=backbone.input_shape[1:], name="image")
    h = augmentation(inputs) if augmentation is not None else inputs
    h = backbone(h)
    if dropout:
        h = keras.layers.Dropout(dropout)(h)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(h)
    return keras.Model(inputs, outputs, name=name)


def augmentation(flip: bool = True, translate: float = 0.1, zoom: float = 0.1, seed: int = 0):
    """Keras preprocessing layers for image augmentation (the replacement for ``ImageDataGenerator``).

    RandomFlip (horizontal), RandomTranslation and RandomZoom; each is the identity outside training.

    Examples
    --------
    >>> aug = augmentation(seed=0)
    >>> x = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    >>> bool(np.array_equal(np.asarray(aug(x, training=False)), x))
    True
    """
    keras = _keras()

    for value, name in ((translate, "translate"), (zoom, "zoom")):
        if not 0 <= value < 1:
            raise ValueError(f"{name}={value!r} must be a fraction in [0, 1)")
    layers = [keras.layers.RandomFlip("horizontal", seed=seed)] if flip else []
    if translate:
        layers.append(
            keras.layers.RandomTranslation(translate, translate, fill_mode="constant", seed=seed + 1))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode="constant", seed=seed + 2))
    return keras.Sequential(layers, name="augmentation")


def box_regressor(canvas: int = 64, filters: Sequence[int] = (16, 32, 64), name: str = "box_regressor"):
    """A CNN that predicts one box ``(y0, x0, y1, x1) / canvas`` (sigmoid outputs in [0, 1]).

    Strided blocks then ``Flatten`` (not global pooling, which would throw away *where* things are).

    Examples
    --------
    >>> box_regressor(canvas=32, filters=(8, 8)).output_shape
    (None, 4)
    """
    keras = _keras()

    canvas = positive_int("canvas", canvas)
    if not filters:
        raise ValueError("filters is empty; give at least one block, e.g. (16, 32, 64)")
    inputs = keras.Input(shape=(canvas, canvas, 1), name="canvas")
    h = inputs
    for i, f in enumerate(filters, start=1):
        h = keras.layers.Conv2D(positive_int("filters", f), 3, strides=2, padding="same", activation="relu",
                                name=f"conv{i}")(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(64, activation="relu")(h)
    outputs = keras.layers.Dense(4, activation="sigmoid", name="box")(h)
    return keras.Model(inputs, outputs, name=name)
