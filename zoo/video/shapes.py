"""Procedurally drawn clips with true captions: the offline data set of the captioning family.

Each clip shows one or two objects, each with a colour, a shape and a size, that
move (left, right, up, down), grow, shrink or stay still, over a plain, gradient
or noise background, with a little camera jitter. Every clip has several true
captions drawn from a small grammar with synonyms and varied phrasing.

Two objects in a clip never share a colour, and never touch or overlap.
The validation and test splits hold out colour-shape combinations that never
appear in training (`HELD_OUT`): every clip there has at least one such object,
and no training clip has any, so scores measure generalisation, not memory.

Example:
    >>> clips = generate(4, split="test", frames=8, size=32, seed=0)
    >>> clips.video.shape, clips.video.dtype
    ((4, 8, 32, 32, 3), dtype('uint8'))
    >>> all(any((o.colour, o.shape) in HELD_OUT for o in objs) for objs in clips.objects)
    True
    >>> describe([ShapeObject("red", "circle", "small", "left")], np.random.default_rng(0))[:1]
    ['a small red circle moves to the left']
"""

from __future__ import annotations

import dataclasses
import itertools
import zlib

import numpy as np

COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 90, 230), "yellow": (235, 215, 40),
           "purple": (150, 60, 190), "orange": (245, 140, 30), "white": (245, 245, 245)}
SHAPES = ("circle", "square", "triangle", "diamond", "cross")
SIZES = ("small", "big")
MOTIONS = ("left", "right", "up", "down", "grow", "shrink", "still")
SPLITS = ("train", "validation", "test")

#: Colour-shape pairs never seen in training; validation and test clips each hold at least one.
HELD_OUT = frozenset({("green", "triangle"), ("red", "square"), ("blue", "diamond"), ("yellow", "circle"),
                      ("purple", "cross"), ("orange", "triangle"), ("white", "square")})

_VERBS = {
    "left": ("moves to the left", "slides left", "goes left", "travels to the left"),
    "right": ("moves to the right", "slides right", "goes right", "travels to the right"),
    "up": ("moves up", "rises", "goes up", "floats upward"),
    "down": ("moves down", "falls", "goes down", "drops"),
    "grow": ("grows", "gets bigger", "expands"),
    "shrink": ("shrinks", "gets smaller", "contracts"),
    "still": ("stays still", "does not move", "rests in place"),
}
_SIZE_WORDS = {"small": ("small", "little", "tiny"), "big": ("big", "large")}
_SHAPE_WORDS = {"circle": ("circle", "disc"), "square": ("square", "box"), "triangle": ("triangle",),
                "diamond": ("diamond", "rhombus"), "cross": ("cross", "plus sign")}
_JOINERS = (" while ", " and ", ", and meanwhile ")


@dataclasses.dataclass(frozen=True)
class ShapeObject:
    """What one object is and does: the facts every caption of its clip states."""

    colour: str
    shape: str
    size: str
    motion: str


@dataclasses.dataclass
class ShapeClips:
    """Clips and their truth.

    Attributes:
        video: uint8 [N, frames, size, size, 3].
        captions: N lists of true captions.
        objects: N lists of `ShapeObject`.
        split: the split they were drawn for.
    """

    video: np.ndarray
    captions: list
    objects: list
    split: str


def _a(phrase: str) -> str:
    """The phrase with its indefinite article: "an orange ...", "a red ..."."""
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _phrase(obj: ShapeObject, rng: np.random.Generator, with_size: bool) -> str:
    size = f"{rng.choice(_SIZE_WORDS[obj.size])} " if with_size else ""
    return _a(f"{size}{obj.colour} {rng.choice(_SHAPE_WORDS[obj.shape])} {rng.choice(_VERBS[obj.motion])}")


def describe(objects, rng: np.random.Generator, count: int = 5) -> list[str]:
    """`count` true captions of a clip, varied in wording; the first is the plainest.

    Every caption names each object's colour, shape and motion; sizes are
    sometimes left out, as people leave them out.
    """
    plain = " while ".join(_a(f"{o.size} {o.colour} {o.shape} {_VERBS[o.motion][0]}") for o in objects)
    captions = [plain]
    while len(captions) < count:
        parts = [_phrase(o, rng, with_size=rng.random() < 0.6) for o in objects]
        caption = str(rng.choice(_JOINERS)).join(parts)
        if caption not in captions:
            captions.append(caption)
    return captions


def _sample_objects(rng: np.random.Generator, split: str) -> list[ShapeObject]:
    """One or two objects of different colours; in training no held-out pair, elsewhere at least one."""
    colours, count = list(COLOURS), 1 + int(rng.random() < 0.5)
    while True:
        objects = [ShapeObject(str(c), str(rng.choice(SHAPES)), str(rng.choice(SIZES)), str(rng.choice(MOTIONS)))
                   for c in rng.choice(colours, count, replace=False)]
        held = any((o.colour, o.shape) in HELD_OUT for o in objects)
        if held == (split != "train"):
            return objects


def _mask(shape: str, yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, r: float) -> np.ndarray:
    dy, dx = yy - cy, xx - cx
    if shape == "circle":
        return dy * dy + dx * dx <= r * r
    if shape == "square":
        return (np.abs(dy) <= r * 0.85) & (np.abs(dx) <= r * 0.85)
    if shape == "diamond":
        return np.abs(dy) + np.abs(dx) <= r * 1.1
    if shape == "cross":
        bar = r * 0.35
        return ((np.abs(dy) <= bar) & (np.abs(dx) <= r)) | ((np.abs(dx) <= bar) & (np.abs(dy) <= r))
    # triangle, apex up: inside when below the apex and within the widening sides
    return (dy <= r * 0.8) & (dy >= -r) & (np.abs(dx) <= (dy + r) * 0.58)


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    kind = rng.integers(3)
    base = rng.uniform(0, 90, 3)
    if kind == 0:
        return np.broadcast_to(base, (size, size, 3)).astype(np.float32)
    if kind == 1:
        other = rng.uniform(0, 90, 3)
        t = np.linspace(0, 1, size)[:, None, None]
        ramp = base + (other - base) * (t if rng.random() < 0.5 else t.transpose(1, 0, 2))
        return np.broadcast_to(ramp, (size, size, 3)).astype(np.float32)
    return np.clip(base + rng.normal(0, 18, (size, size, 3)), 0, 255).astype(np.float32)


def _track(obj: ShapeObject, rng: np.random.Generator, frames: int, size: int):
    """Centre (y, x) and radius of the object at every frame."""
    r0 = size * (0.075 if obj.size == "small" else 0.12) * rng.uniform(0.9, 1.1)
    margin = min(r0 * 1.7, size / 2)
    room = size - 2 * margin  # where a centre may go
    travel = min(size * rng.uniform(0.3, 0.45), room)
    t = np.linspace(0, 1, frames)
    cy, cx = margin + rng.uniform(0, 1, 2) * room
    if obj.motion in ("left", "right"):
        start = margin + rng.uniform(0, 1) * (room - travel)
        cx = start + travel * t if obj.motion == "right" else size - start - travel * t
    if obj.motion in ("up", "down"):
        start = margin + rng.uniform(0, 1) * (room - travel)
        cy = start + travel * t if obj.motion == "down" else size - start - travel * t
    r = r0 * {"grow": 1 + 0.8 * t, "shrink": 1.8 - 0.8 * t}.get(obj.motion, np.ones(frames))
    return np.broadcast_to(cy, (frames,)), np.broadcast_to(cx, (frames,)), r


#: How far each shape reaches from its centre, in radii (`_mask`): the corners of a square or a triangle.
_REACH = {"circle": 1.0, "square": 1.21, "triangle": 1.32, "diamond": 1.1, "cross": 1.06}


def _apart(objects, tracks, gap: float) -> bool:
    """True when no two objects come within `gap` pixels of each other at any frame."""
    for (a, (y1, x1, r1)), (b, (y2, x2, r2)) in itertools.combinations(zip(objects, tracks), 2):
        if np.any(np.hypot(y1 - y2, x1 - x2) < _REACH[a.shape] * r1 + _REACH[b.shape] * r2 + gap):
            return False
    return True


def render(objects, rng: np.random.Generator, frames: int = 16, size: int = 64) -> np.ndarray:
    """One clip, uint8 [frames, size, size, 3]: the objects over a background, with camera jitter.

    Objects are placed so that they never touch or hide one another (up to 100 draws of their
    tracks; the last draw is kept if none is clear).
    """
    background = _background(rng, size)
    for _ in range(100):
        tracks = [_track(o, rng, frames, size) for o in objects]
        if _apart(objects, tracks, gap=size / 32):
            break
    jitter = np.cumsum(rng.normal(0, 0.4, (frames, 2)), axis=0)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    video = np.empty((frames, size, size, 3), np.uint8)
    for f in range(frames):
        image = background.copy()
        for obj, (cy, cx, r) in zip(objects, tracks):
            inside = _mask(obj.shape, yy, xx, cy[f] + jitter[f, 0], cx[f] + jitter[f, 1], r[f])
            image[inside] = COLOURS[obj.colour]
        video[f] = np.clip(image, 0, 255).astype(np.uint8)
    return video


def generate(count: int, split: str = "train", frames: int = 16, size: int = 64, seed: int = 0,
             captions_per_clip: int = 5) -> ShapeClips:
    """`count` clips of `split`, reproducible from `seed` (each split has its own stream).

    Args:
        count: clips to draw.
        split: `train` (no held-out colour-shape pair) or `validation` / `test`
            (each clip holds at least one).
        frames, size: clip length and frame size in pixels.
        seed: the same seed and split give the same clips.
        captions_per_clip: true captions per clip.
    """
    if split not in SPLITS:
        raise ValueError(f"split {split!r}: choose one of {', '.join(SPLITS)}")
    rng = np.random.default_rng([seed, zlib.crc32(split.encode())])
    video = np.empty((count, frames, size, size, 3), np.uint8)
    objects, captions = [], []
    for i in range(count):
        objs = _sample_objects(rng, split)
        video[i] = render(objs, rng, frames, size)
        objects.append(objs)
        captions.append(describe(objs, rng, captions_per_clip))
    return ShapeClips(video, captions, objects, split)


def _canonical() -> dict[str, tuple[str, str]]:
    """Every word or phrase of the grammar -> (attribute, canonical value)."""
    table = {c: ("colour", c) for c in COLOURS}
    table.update({w: ("shape", s) for s, words in _SHAPE_WORDS.items() for w in words})
    table.update({w: ("size", s) for s, words in _SIZE_WORDS.items() for w in words})
    table.update({v: ("motion", m) for m, verbs in _VERBS.items() for v in verbs})
    return table


def parse_caption(caption: str) -> list[dict]:
    """What a caption says of each object it names: [{"colour", "shape", "size", "motion"}, ...].

    The caption is cut into one clause per object at the grammar's joiners; in
    each clause the longest known phrases are matched first. Missing attributes are None.

    Example:
        >>> parse_caption("a little blue plus sign falls, and meanwhile an orange box goes right")
        [{'colour': 'blue', 'shape': 'cross', 'size': 'small', 'motion': 'down'}, \
{'colour': 'orange', 'shape': 'square', 'size': None, 'motion': 'right'}]
    """
    table = _canonical()
    phrases = sorted(table, key=len, reverse=True)
    text = f" {caption.lower().strip().rstrip('.')} "
    for joiner in sorted(_JOINERS, key=len, reverse=True):  # ", and meanwhile " before " and "
        text = text.replace(joiner, " | ")
    found = []
    for clause in text.split("|"):
        clause, said = f" {clause.strip()} ", {"colour": None, "shape": None, "size": None, "motion": None}
        for phrase in phrases:
            if f" {phrase} " in clause:
                attribute, value = table[phrase]
                said[attribute] = said[attribute] or value
                clause = clause.replace(f" {phrase} ", " ")
        if any(said.values()):
            found.append(said)
    return found


def attribute_scores(caption: str, objects) -> dict:
    """How many of the clip's objects the caption gets right, attribute by attribute.

    Clauses are matched to objects in the order that agrees best. Returns counts
    for `colour`, `shape` and `motion` (of `objects` objects) and `all_correct`:
    every object's colour, shape and motion named, and no object invented.
    """
    said = parse_caption(caption)
    best = None
    for order in itertools.permutations(range(max(len(said), len(objects))), len(objects)):
        counts = {a: sum(1 for o, k in zip(objects, order) if k < len(said) and said[k][a] == getattr(o, a))
                  for a in ("colour", "shape", "motion")}
        if best is None or sum(counts.values()) > sum(best.values()):
            best = counts
    n = len(objects)
    return {**best, "objects": n, "all_correct": len(said) == n and all(v == n for v in best.values())}
