"""The `slots` frame encoder: pixels grouped by colour into object slots, each described by one shared network.

    pixels [B, F, S, S, 3] -> per pixel, a softmax over K colour prototypes and a background
      -> per group (slot) and frame: its silhouette through a small shared CNN (what shape),
         its mean colour (which colour), area (how big) and centre (where), and how
         area and centre changed since the frame before (how it moves)
      -> tokens [B, F, K, filters[-1] + 9]

A caption has to bind each colour to its own object's shape and motion. A frame
vector that mixes the objects of a clip cannot do that for combinations training
never showed ("a green triangle" when every training triangle was another
colour): the weights that would read it were never trained. Here one network
describes every slot, so a triangle silhouette reads the same whatever colour
group it came from, and the decoder picks objects by attending over the slots
(an object-centric encoder in the spirit of MONet and Slot Attention, with
colour as the grouping cue). A pixel joins the prototype nearest its colour,
or the background when none is near; the prototypes start at the basic colour
terms of Berlin and Kay (less black and grey, the usual backgrounds) and,
with the sharpness and the background's threshold, are learned from the captions.

Example:
    >>> import numpy as np
    >>> slots = ColourSlots(filters=(2, 4))
    >>> tuple(slots(np.zeros((2, 5, 16, 16, 3), "float32")).shape)
    (2, 5, 9, 13)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from zoo.families.caption.size import SLOT_FACTS, SLOTS

#: Where the colour prototypes start (RGB, 0-1): basic colour terms, one slot each.
BASIC_COLOURS = {"red": (0.85, 0.15, 0.15), "orange": (0.95, 0.55, 0.1), "yellow": (0.92, 0.85, 0.15),
                 "green": (0.15, 0.7, 0.25), "blue": (0.2, 0.35, 0.9), "purple": (0.6, 0.25, 0.75),
                 "pink": (1.0, 0.6, 0.75), "brown": (0.55, 0.35, 0.15), "white": (0.95, 0.95, 0.95)}


class ColourSlots(keras.layers.Layer):
    """Object slots of every frame, grouped by colour.

    Args:
        filters: filters of each 3x3 convolution (ReLU, then 2x2 max pooling) of the silhouette CNN.
    """

    def __init__(self, filters: tuple[int, ...] = (4, 8, 16), **kwargs):
        super().__init__(**kwargs)
        self.slots, self.filters = SLOTS, tuple(int(f) for f in filters)
        self.convs = [keras.layers.Conv2D(f, 3, padding="same", activation="relu", name=f"silhouette{i + 1}")
                      for i, f in enumerate(self.filters)]
        self.pool = keras.layers.MaxPooling2D()

    def build(self, shape):
        side = shape[2]
        palette = np.array(list(BASIC_COLOURS.values()), "float32")
        self.prototypes = self.add_weight((SLOTS, 3), keras.initializers.Constant(palette), name="prototypes")
        self.sharpness = self.add_weight((), keras.initializers.Constant(60.0), name="sharpness")
        self.background = self.add_weight((), keras.initializers.Constant(-4.0), name="background")
        channels = 1
        for conv in self.convs:
            conv.build((None, side, side, channels))
            channels, side = conv.filters, side // 2
        grid = (np.stack(np.meshgrid(np.linspace(-1, 1, shape[2]), np.linspace(-1, 1, shape[3]), indexing="ij"),
                         axis=-1).reshape(-1, 2))
        self.grid = grid.astype("float32")  # [S*S, (y, x)], a constant of the graph

    def call(self, clip):
        frames, side, k = clip.shape[1], clip.shape[2], self.slots
        x = ops.reshape(clip, (-1, side, side, 3)) / 255.0
        distance = (ops.sum(x * x, axis=-1, keepdims=True) - 2.0 * ops.matmul(x, ops.transpose(self.prototypes))
                    + ops.sum(self.prototypes * self.prototypes, axis=-1))  # squared, [N, S, S, K]
        background = ops.zeros_like(distance[..., :1]) + self.background
        logits = ops.concatenate([-self.sharpness * distance, background], axis=-1)
        masks = ops.softmax(logits, axis=-1)[..., :k]  # [N, S, S, K]
        by_slot = ops.transpose(ops.reshape(masks, (-1, side * side, k)), (0, 2, 1))  # [N, K, S*S]
        mass = ops.sum(by_slot, axis=-1, keepdims=True) + 1e-3
        centre = ops.matmul(by_slot, ops.convert_to_tensor(self.grid)) / mass
        colour = ops.matmul(by_slot, ops.reshape(x, (-1, side * side, 3))) / mass
        area = ops.sqrt(mass / (side * side)) * 4.0  # about the object's radius over an eighth of the frame
        silhouette = ops.reshape(ops.transpose(masks, (0, 3, 1, 2)), (-1, side, side, 1))
        for conv in self.convs:
            silhouette = self.pool(conv(silhouette))
        shape = ops.reshape(ops.max(silhouette, axis=(1, 2)), (-1, k, self.filters[-1]))
        what = ops.reshape(ops.concatenate([shape, colour], axis=-1), (-1, frames, k, self.filters[-1] + 3))
        where = ops.reshape(ops.concatenate([area, centre], axis=-1), (-1, frames, k, 3))
        moved = ops.concatenate([ops.zeros_like(where[:, :1]), where[:, 1:] - where[:, :-1]], axis=1) * 4.0
        return ops.concatenate([what, where, moved], axis=-1)

    def compute_output_shape(self, shape):
        return (shape[0], shape[1], self.slots, self.filters[-1] + SLOT_FACTS)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}



class SlotEmbedding(keras.layers.Layer):
    """Adds a learned vector per slot to slot memory [B, K * P, units] (slot-major, P positions per slot):
    which slot a position belongs to, for attention to match a colour word with its colour's slot.

    Example:
        >>> import numpy as np
        >>> tuple(SlotEmbedding(slots=3)(np.zeros((2, 6, 4), "float32")).shape)
        (2, 6, 4)
    """

    def __init__(self, slots: int = SLOTS, **kwargs):
        super().__init__(**kwargs)
        self.slots = int(slots)

    def build(self, shape):
        self.table = self.add_weight((self.slots, shape[-1]), "zeros", name="table")

    def call(self, memory):
        per_slot = memory.shape[1] // self.slots
        return memory + ops.repeat(self.table, per_slot, axis=0)

    def get_config(self):
        return {**super().get_config(), "slots": self.slots}
