"""The `slots` frame encoder: objects land in their colour's slot, and a shape reads the same in any colour."""

import keras
import numpy as np
import pytest

from zoo.families.caption.size import SLOT_FACTS, SLOTS
from zoo.families.caption.slots import BASIC_COLOURS, ColourSlots, SlotEmbedding
from zoo.video.shapes import COLOURS, ShapeObject, render

FILTERS = (3, 4)


def _clip(*objects, seed=0):
    """One rendered clip [1, 4, 32, 32, 3] of still objects over a plain dark background."""
    rng = np.random.default_rng(seed)
    video = render(list(objects), rng, frames=4, size=32)
    return video[None].astype("float32")


def _slot(colour: str) -> int:
    return list(BASIC_COLOURS).index(colour)


def test_one_prototype_per_slot():
    assert len(BASIC_COLOURS) == SLOTS


def test_objects_land_in_their_colour_slots():
    layer = ColourSlots(FILTERS)
    tokens = np.asarray(layer(_clip(ShapeObject("red", "circle", "big", "still"),
                                    ShapeObject("blue", "square", "big", "still"))))
    assert tokens.shape == (1, 4, SLOTS, FILTERS[-1] + SLOT_FACTS)
    area = tokens[0, 0, :, FILTERS[-1] + 3]  # after shape features and mean colour
    busy = set(np.flatnonzero(area > 0.3))
    assert {_slot("red"), _slot("blue")} <= busy
    colour = tokens[0, 0, _slot("blue"), FILTERS[-1]:FILTERS[-1] + 3]
    np.testing.assert_allclose(colour, np.array(COLOURS["blue"]) / 255, atol=0.1)


@pytest.mark.parametrize("shape, other", [("triangle", "circle"), ("cross", "square")])
def test_a_shape_reads_the_same_in_any_colour(shape, other):
    """The silhouette CNN is shared by the slots: a shape in two colours gives nearly the same
    shape features in two different slots, much nearer than another shape in the same colour
    (the property that held-out colour-shape pairs rest on). Untrained, it holds on average over
    initialisations (seeds 0-4 here; one draw alone can miss, and the seed must not depend on test order)."""
    def features(layer, colour, form):
        tokens = np.asarray(layer(_clip(ShapeObject(colour, form, "big", "still"), seed=3)))
        return tokens[0, :, _slot(colour), :FILTERS[-1]]

    same, different = [], []
    for seed in range(5):
        keras.utils.set_random_seed(seed)
        layer = ColourSlots(FILTERS)
        same.append(np.abs(features(layer, "red", shape) - features(layer, "green", shape)).mean())
        different.append(np.abs(features(layer, "red", shape) - features(layer, "red", other)).mean())
    assert np.mean(same) < 0.5 * np.mean(different), (same, different)


def test_motion_is_in_the_centre_change():
    layer = ColourSlots(FILTERS)
    tokens = np.asarray(layer(_clip(ShapeObject("yellow", "diamond", "small", "right"))))
    moved_x = tokens[0, 1:, _slot("yellow"), -1]  # the last fact: change of the centre's x
    assert np.all(moved_x > 0.1)


def test_slot_embedding_marks_each_slot():
    layer = SlotEmbedding(slots=3)
    memory = np.zeros((2, 6, 4), "float32")
    layer.build(memory.shape)
    layer.table.assign(np.arange(12, dtype="float32").reshape(3, 4))
    out = np.asarray(layer(memory))
    np.testing.assert_array_equal(out[0, :2], np.tile(np.arange(4), (2, 1)))  # slot 0: positions 0 and 1
    np.testing.assert_array_equal(out[1, 4], np.arange(8, 12))  # slot 2
