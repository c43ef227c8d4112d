import numpy as np
import pytest

from aiaas_lib import vision
from aiaas_lib.env import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402


# ------------------------------------------------------------------------------------------- conv2d
def _keras_conv(x, kernel, bias, stride, padding, dtype):
    layer = keras.layers.Conv2D(kernel.shape[3], kernel.shape[:2], strides=stride, padding=padding,
                                dtype=dtype)
    layer.build(x.shape)
    layer.set_weights([kernel, bias])
    return np.asarray(layer(x))


CASES = [  # (x shape NHWC, kernel HWIO, stride, padding)
    ((2, 7, 7, 1), (3, 3, 1, 4), 1, "valid"),
    ((2, 7, 7, 1), (3, 3, 1, 4), 1, "same"),
    ((1, 8, 9, 3), (3, 3, 3, 5), 2, "valid"),
    ((1, 8, 9, 3), (3, 3, 3, 5), 2, "same"),
    ((3, 10, 6, 2), (2, 4, 2, 3), 3, "same"),  # even kernel: TF pads the extra pixel after
    ((1, 5, 5, 4), (5, 5, 4, 2), 1, "valid"),  # kernel as large as the image: 1×1 output
    ((2, 6, 6, 2), (1, 1, 2, 6), 2, "valid"),
]


@pytest.mark.parametrize("dtype, tol", [("float32", 1e-5), ("float64", 1e-10)])
@pytest.mark.parametrize("x_shape, k_shape, stride, padding", CASES)
def test_conv2d_equals_keras_conv2d(x_shape, k_shape, stride, padding, dtype, tol):
    # tolerance: float32 sums of at most 100 products of O(1) numbers round at ~1e-6; float64 at ~1e-15
    rng = np.random.default_rng(sum(x_shape) + stride)
    x = rng.normal(size=x_shape).astype(dtype)
    kernel = rng.normal(size=k_shape).astype(dtype)
    bias = rng.normal(size=k_shape[3]).astype(dtype)
    ours = vision.conv2d(x, kernel, bias, stride=stride, padding=padding)
    theirs = _keras_conv(x, kernel, bias, stride, padding, dtype)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=tol)


def test_conv2d_is_cross_correlation_on_a_known_image():
    x = np.zeros((1, 3, 3, 1))
    x[0, 1, 1, 0] = 1.0  # an impulse returns the kernel flipped (cross-correlation, not flipped convolution)
    kernel = np.arange(9.0).reshape(3, 3, 1, 1)
    out = vision.conv2d(x, kernel, padding="same")[0, :, :, 0]
    np.testing.assert_array_equal(out, kernel[::-1, ::-1, 0, 0])


def test_sobel_finds_a_vertical_edge():
    x = np.zeros((1, 5, 6, 1))
    x[..., 3:, 0] = 1.0
    gx = vision.conv2d(x, vision.SOBEL_X[:, :, None, None])[0, :, :, 0]
    assert gx.shape == (3, 4)
    np.testing.assert_array_equal(gx, [[0, 4, 4, 0]] * 3)


@pytest.mark.parametrize("size, k, s, padding, want", [(28, 3, 1, "valid", 26), (28, 3, 2, "valid", 13),
                                                        (28, 3, 2, "same", 14), (5, 5, 1, "valid", 1),
                                                        (7, 2, 3, "same", 3)])
def test_conv_output_size(size, k, s, padding, want):
    assert vision.conv_output_size(size, k, s, padding) == want


@pytest.mark.parametrize("kwargs, match", [
    ({"x": np.zeros((4, 4, 1))}, r"x has shape \(4, 4, 1\); expected 4 dimensions"),
    ({"kernel": np.zeros((3, 3, 1))}, r"kernel has shape \(3, 3, 1\); expected 4 dimensions"),
    ({"kernel": np.zeros((3, 3, 2, 1))}, "kernel expects 2 input channels but x has 1"),
    ({"stride": 0}, r"stride=0 must be an integer >= 1"),
    ({"stride": 1.5}, r"stride=1.5 must be an integer >= 1"),
    ({"padding": "full"}, r"padding='full' is not supported; expected one of \['valid', 'same'\]"),
    ({"bias": np.zeros(3)}, r"bias has shape \(3,\); expected \(1,\), one per filter"),
    ({"kernel": np.zeros((7, 3, 1, 1))},
     "kernel size 7 is larger than the input size 5 with padding='valid'"),
])
def test_conv2d_errors(kwargs, match):
    args = {"x": np.zeros((1, 5, 5, 1)), "kernel": np.zeros((3, 3, 1, 1))} | kwargs
    with pytest.raises(ValueError, match=match):
        vision.conv2d(**args)


def test_conv_output_size_error():
    with pytest.raises(ValueError, match="size=0 must be an integer >= 1"):
        vision.conv_output_size(0, 3)


# ---------------------------------------------------------------------------------------------- iou
def test_iou_known_boxes():
    assert vision.iou([0, 0, 4, 4], [0, 0, 4, 4]) == 1.0
    assert vision.iou([0, 0, 4, 4], [4, 4, 8, 8]) == 0.0  # touching corners: no overlap
    assert vision.iou([0, 0, 4, 4], [0, 2, 4, 6]) == pytest.approx(8 / 24)  # half of each box overlaps
    assert vision.iou([0, 0, 4, 4], [1, 1, 3, 3]) == pytest.approx(4 / 16)  # one inside the other
    assert vision.iou([0, 0, 0, 0], [0, 0, 0, 0]) == 0.0  # empty boxes: 0, not nan


def test_iou_is_symmetric_and_vectorised():
    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 10, size=(5, 3, 2, 2))
    boxes = np.concatenate([corners.min(axis=2), corners.max(axis=2)], axis=-1)  # (5, 3, 4)
    a, b = boxes[:, :1], boxes[:1, :]  # (5, 1, 4) against (1, 3, 4)
    out = vision.iou(a, b)
    assert out.shape == (5, 3)
    np.testing.assert_allclose(out, vision.iou(b, a))
    assert np.all((out >= 0) & (out <= 1))
    assert out[0, 0] == 1.0
    assert vision.iou_matrix(boxes[:, 0], boxes[0]).shape == (5, 3)


@pytest.mark.parametrize("a, b, match", [
    ([0, 0, 1], [0, 0, 1, 1], r"box_a has shape \(3,\); boxes need a last axis of 4"),
    ([0, 0, 1, 1], [2, 0, 1, 1], r"box_b holds the box \[2.0, 0.0, 1.0, 1.0\] with y1 < y0"),
    (np.zeros((2, 4)), np.zeros((3, 4)), r"box_a \(2, 4\) and box_b \(3, 4\) do not broadcast"),
])
def test_iou_errors(a, b, match):
    with pytest.raises(ValueError, match=match):
        vision.iou(a, b)


# ------------------------------------------------------------------------------------------- canvas
def test_canvas_boxes_contain_the_object():
    rng = np.random.default_rng(0)
    images = np.zeros((20, 28, 28), dtype=np.uint8)
    for img in images:
        y, x = rng.integers(0, 20, size=2)
        img[y:y + rng.integers(2, 8), x:x + rng.integers(2, 8)] = rng.integers(1, 256)
    canvases, boxes = vision.place_on_canvas(images, canvas=64, seed=3)
    assert canvases.shape == (20, 64, 64) and canvases.dtype == np.uint8 and boxes.shape == (20, 4)
    for c, img, (y0, x0, y1, x1) in zip(canvases, images, boxes.astype(int)):
        assert c[y0:y1, x0:x1].sum() == c.sum() == img.sum()  # everything inside the box
        assert vision.object_box(c).tolist() == [y0, x0, y1, x1]  # and the box is tight
    assert len({tuple(b) for b in boxes}) > 10  # positions vary
    again = vision.place_on_canvas(images, canvas=64, seed=3)
    np.testing.assert_array_equal(again[1], boxes)


@pytest.mark.parametrize("images, canvas, match", [
    (np.zeros((28, 28)), 64, r"images has shape \(28, 28\); expected \(n, height, width\)"),
    (np.ones((1, 28, 28)), 20, "images of 28×28 pixels do not fit on a canvas of 20×20"),
    (np.ones((1, 28, 28)), 0, "canvas=0 must be an integer >= 1"),
    (np.zeros((1, 4, 4)), 8, "image has no pixel above threshold=0.0"),
])
def test_canvas_errors(images, canvas, match):
    with pytest.raises(ValueError, match=match):
        vision.place_on_canvas(images, canvas=canvas)


def test_object_box_error():
    with pytest.raises(ValueError, match=r"image has shape \(1, 4, 4\); expected a 2-D"):
        vision.object_box(np.ones((1, 4, 4)))


# ------------------------------------------------------------------------------------------ tracker
@pytest.mark.parametrize("method", ["greedy", "hungarian"])
def test_tracker_keeps_ids_of_moving_boxes_and_numbers_new_objects(method):
    frames = vision.moving_boxes([[0, 0], [40, 60]], [[0, 3], [2, -2]], num_frames=10, size=(20, 20))
    tracker = vision.IouTracker(iou_threshold=0.3, method=method)
    ids = [tracker.update(boxes).tolist() for boxes, _ in frames]
    assert ids == [[1, 2]] * 10
    newcomer = np.vstack([frames[-1][0] + [0, 3, 0, 3], [[80, 0, 100, 20]]])
    assert tracker.update(newcomer).tolist() == [1, 2, 3]


def test_tracker_bridges_a_short_miss_but_not_a_long_one():
    box = np.array([[10, 10, 30, 30]])
    tracker = vision.IouTracker(max_misses=1)
    assert tracker.update(box).tolist() == [1]
    assert tracker.update([]).tolist() == []  # missed once: the track survives
    assert tracker.update(box).tolist() == [1]
    tracker.update(np.zeros((0, 4)))
    tracker.update(np.zeros((0, 4)))  # missed twice > max_misses: the track ends
    assert tracker.update(box).tolist() == [2]


def test_hungarian_beats_greedy_when_the_best_pair_is_a_trap():
    # greedy takes the single best pair (track 1 with detection a, IoU 0.67) and leaves track 2 with nothing;
    # Hungarian maximises the total IoU (0.43 + 0.43 > 0.67 + 0) and continues both tracks.
    tracks = np.array([[0, 4, 10, 14], [0, 10, 10, 20]], dtype=float)
    dets = np.array([[0, 6, 10, 16], [0, 0, 10, 10]], dtype=float)
    scores = vision.iou_matrix(tracks, dets)
    np.testing.assert_allclose(scores, [[8 / 12, 6 / 14], [6 / 14, 0]])
    greedy, hungarian = vision.IouTracker(0.2, method="greedy"), vision.IouTracker(0.2, method="hungarian")
    for t in (greedy, hungarian):
        t.update(tracks)
    assert greedy.update(dets).tolist() == [1, 3]
    assert hungarian.update(dets).tolist() == [2, 1]


@pytest.mark.parametrize("kwargs, match", [
    ({"iou_threshold": 0}, r"iou_threshold=0 must be a number in \(0, 1\]"),
    ({"max_misses": -1}, "max_misses=-1 must be an integer >= 0"),
    ({"method": "nearest"}, r"method='nearest' is not a matcher; expected one of \['greedy', 'hungarian'\]"),
])
def test_tracker_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        vision.IouTracker(**kwargs)


def test_tracker_rejects_bad_detections():
    with pytest.raises(ValueError, match=r"detections has shape \(4,\); expected \(n, 4\)"):
        vision.IouTracker().update([0, 0, 1, 1])


def test_moving_boxes_appear_later():
    frames = vision.moving_boxes([[0, 0], [5, 5]], [[1, 0], [0, 1]], num_frames=3, size=(2, 2), appear=[0, 2])
    assert [f[1].tolist() for f in frames] == [[0], [0], [0, 1]]
    assert frames[2][0][1].tolist() == [5.0, 5.0, 7.0, 7.0]
    with pytest.raises(ValueError,
                       match=r"appear has shape \(1,\); expected one frame index per object \(2,\)"):
        vision.moving_boxes([[0, 0], [5, 5]], [[1, 0], [0, 1]], num_frames=3, appear=[0])
    with pytest.raises(ValueError, match=r"starts \(2,\) and velocities \(2,\) must both have shape"):
        vision.moving_boxes([0, 0], [1, 1], num_frames=3)


# ----------------------------------------------------------------------------------------- builders
def test_backbone_and_classifier_shapes():
    backbone = vision.cnn_backbone((28, 28, 1), filters=(4, 8), features=16)
    assert backbone.output_shape == (None, 16)
    assert [layer.name for layer in backbone.layers if "conv" in layer.name] == ["conv1", "conv2"]
    model = vision.image_classifier(backbone, 5, augmentation=vision.augmentation(), dropout=0.2)
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    probs = np.asarray(model(x))
    assert probs.shape == (3, 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-6)


def test_augmentation_changes_only_training_batches():
    aug = vision.augmentation(seed=1)
    x = np.zeros((4, 28, 28, 1), dtype="float32")
    x[:, 5:15, 3:10] = 1
    assert np.array_equal(np.asarray(aug(x, training=False)), x)
    assert not np.array_equal(np.asarray(aug(x, training=True)), x)


def test_box_regressor_shape_and_range():
    model = vision.box_regressor(canvas=32, filters=(4, 8))
    out = np.asarray(model(np.zeros((2, 32, 32, 1), dtype="float32")))
    assert out.shape == (2, 4) and np.all((out > 0) & (out < 1))


@pytest.mark.parametrize("build, match", [
    (lambda: vision.cnn_backbone((28, 28)), r"input_shape=\(28, 28\) must be \(height, width, channels\)"),
    (lambda: vision.cnn_backbone(filters=()), "filters is empty"),
    (lambda: vision.cnn_backbone(filters=(8, 0)), "filters=0 must be an integer >= 1"),
    (lambda: vision.cnn_backbone(features=0), "features=0 must be an integer >= 1"),
    (lambda: vision.image_classifier(vision.cnn_backbone(filters=(4,)), 0),
     "num_classes=0 must be an integer >= 1"),
    (lambda: vision.image_classifier(vision.cnn_backbone(filters=(4,)), 3, dropout=1.0),
     r"dropout=1.0 must be in \[0, 1\)"),
    (lambda: vision.augmentation(zoom=1.5), r"zoom=1.5 must be a fraction in \[0, 1\)"),
    (lambda: vision.box_regressor(filters=()), "filters is empty"),
])
def test_builder_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()
