"""The procedural captioning clips: reproducible, held-out combinations really held out, captions true."""

import numpy as np
import pytest

from zoo.video import shapes
from zoo.video.shapes import HELD_OUT, ShapeObject


def test_same_seed_same_clips_and_splits_differ():
    a = shapes.generate(3, "train", frames=6, size=24, seed=5)
    b = shapes.generate(3, "train", frames=6, size=24, seed=5)
    c = shapes.generate(3, "validation", frames=6, size=24, seed=5)
    assert np.array_equal(a.video, b.video) and a.captions == b.captions
    assert not np.array_equal(a.video, c.video)


def test_held_out_combinations_never_reach_training():
    train = shapes.generate(300, "train", frames=2, size=16, seed=1)
    pairs = {(o.colour, o.shape) for objs in train.objects for o in objs}
    assert not pairs & HELD_OUT
    assert len(pairs) >= len(shapes.COLOURS) * len(shapes.SHAPES) - len(HELD_OUT) - 3  # nearly all others seen
    for split in ("validation", "test"):
        clips = shapes.generate(100, split, frames=2, size=16, seed=1)
        assert all(any((o.colour, o.shape) in HELD_OUT for o in objs) for objs in clips.objects)
    assert {len(objs) for objs in train.objects} == {1, 2}


def test_every_caption_names_each_objects_colour_shape_and_motion():
    clips = shapes.generate(60, "test", frames=2, size=16, seed=2)
    for objs, captions in zip(clips.objects, clips.captions):
        assert len(captions) == len(set(captions)) == 5
        for caption in captions:
            for o in objs:
                assert o.colour in caption
                assert any(word in caption for word in shapes._SHAPE_WORDS[o.shape])
                assert any(verb in caption for verb in shapes._VERBS[o.motion])
            assert " a orange" not in f" {caption}"  # "an orange"


def _footprint(video, colour):
    """Per frame: (centre y, centre x, area) of the pixels of exactly `colour`."""
    hits = np.all(video == np.array(shapes.COLOURS[colour], np.uint8), axis=-1)
    out = []
    for frame in hits:
        ys, xs = np.nonzero(frame)
        out.append((ys.mean(), xs.mean(), len(ys)))
    return np.array(out)


@pytest.mark.parametrize("motion", shapes.MOTIONS)
@pytest.mark.parametrize("shape", shapes.SHAPES)
def test_the_pixels_do_what_the_caption_says(motion, shape):
    video = shapes.render([ShapeObject("yellow", shape, "big", motion)], np.random.default_rng(3), frames=8, size=64)
    y, x, area = _footprint(video, "yellow").T
    moved = {"left": x[0] - x[-1], "right": x[-1] - x[0], "up": y[0] - y[-1], "down": y[-1] - y[0]}
    if motion in moved:
        assert moved[motion] > 10  # pixels, of 64
    elif motion == "grow":
        assert area[-1] > 2 * area[0]
    elif motion == "shrink":
        assert area[0] > 2 * area[-1]
    else:  # still: only the camera jitters
        assert abs(x[-1] - x[0]) < 4 and abs(y[-1] - y[0]) < 4 and abs(area[-1] - area[0]) < 0.3 * area[0]


def test_every_true_caption_scores_all_correct_and_wrong_ones_do_not():
    clips = shapes.generate(80, "validation", frames=2, size=16, seed=4)
    for objs, captions in zip(clips.objects, clips.captions):
        for caption in captions:
            assert shapes.attribute_scores(caption, objs)["all_correct"], (caption, objs)
    obj = [ShapeObject("red", "circle", "small", "left")]
    assert shapes.attribute_scores("a red circle moves up", obj) == \
        {"colour": 1, "shape": 1, "motion": 0, "objects": 1, "all_correct": False}
    assert not shapes.attribute_scores("a red circle slides left while a blue box falls", obj)["all_correct"]
    two = [ShapeObject("red", "circle", "small", "left"), ShapeObject("blue", "square", "big", "down")]
    assert shapes.attribute_scores("a blue box falls and a red disc goes left", two)["all_correct"]  # any order
    # Colours swapped: the clauses match the objects by shape and motion, so the colours are what is wrong.
    assert shapes.attribute_scores("a red box falls and a blue disc goes left", two) == \
        {"colour": 0, "shape": 2, "motion": 2, "objects": 2, "all_correct": False}
