"""Video-captioning recipes: the model and data sections, and the named recipes.

Example:
    >>> [r.name for r in recipes()][0]
    'caption_s2vt_lstm_shapes'
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

from zoo.core.recipe import Fraction, NonNegative, NonNegativeInt, PositiveInt, Range, Recipe, TrainConfig
from zoo.nn.cells import Cell

NAME = "caption"
SOURCES = ("shapes", "features", "frames")
Head = typing.Literal["meanpool", "s2vt", "attention"]
Encoder = typing.Literal["slots", "conv", "features", "mobilenet_v3_small"]


@dataclass(frozen=True)
class CaptionModel:
    """Attributes:
        head: `meanpool` (mean-pooled frame features initialise the decoder),
            `s2vt` (a recurrent encoder over the frames hands its state to the decoder) or
            `attention` (as s2vt, and the decoder attends over the encoder's states at every word).
        cell: `rnn`, `lstm` or `gru`, for the encoder and the decoder.
        units: state size of the encoder and decoder.
        embedding: word embedding width.
        encoder: the frame encoder: `slots` (pixels grouped by colour into object slots, each
            described by one shared silhouette CNN: `slots.py`), `conv` (a small trainable CNN
            per frame), `features` (precomputed features, a Dense projection) or
            `mobilenet_v3_small` (Keras Applications, frozen, when its ImageNet weights are
            present locally; else `conv`). With `slots` the decoder always attends over the
            slots, and the head decides how each slot is summarised over time.
        frames: frames the model reads; clips are resampled to this many.
        size: frame height and width in pixels (pixel encoders); clips are resized to it.
        feature_dim: features per frame (`features` encoder).
        conv_filters: filters of each convolution (each followed by 2x2 max pooling) of the `conv`
            encoder's shape stream or of the `slots` encoder's silhouette CNN.
        frame_dim: width of the per-frame vector the heads read.
        dropout: on frame vectors and decoder outputs (training only).
        word_dropout: share of the decoder's input words replaced by `<unk>` in training.
        concepts: weight of the auxiliary concept loss (0: no concept head). The concept head
            predicts from the frames which words the clip's captions use (multi-label, as the
            semantic-attribute detectors of LSTM-TSA and SCN, Pan et al. and Gan et al. 2017),
            a direct signal to the frame encoder for every content word.
    """

    head: Head = "s2vt"
    cell: Cell = "lstm"
    units: PositiveInt = 256
    embedding: PositiveInt = 64
    encoder: Encoder = "conv"
    frames: PositiveInt = 4
    size: PositiveInt = 64
    feature_dim: PositiveInt = 4096
    conv_filters: tuple[int, ...] = (16, 32, 32)
    frame_dim: PositiveInt = 128
    dropout: Fraction = 0.1
    word_dropout: Fraction = 0.0
    concepts: NonNegative = 0.0


@dataclass(frozen=True)
class CaptionData:
    """Attributes:
        source: `shapes` (built in, drawn offline), `features` (MLDS `feat/*.npy` and a
            captions JSON) or `frames` (a folder per clip of images, or video files, and a captions JSON).
        path: the data folder for `features` and `frames`.
        captions: the captions JSON, relative to `path` (MLDS names it training_label.json).
        train_clips, validation_clips, test_clips: clips per split for `shapes`.
        frames, size: clip length and frame size `shapes` draws (the model resamples).
        min_count: a word enters the vocabulary when seen this often in training captions.
        max_words: longest caption in tokens, `<bos>` and `<eos>` included (longer ones are cut).
        validation_fraction, test_fraction: of the captioned clips of `features` / `frames`
            when the folder has no `{split}_id.txt` lists.
        seed: draws `shapes` clips and splits folders.
        meteor: score the kept model with METEOR and the PTB tokenizer when Java is on the PATH (each
            scoring starts a Java process: seconds); False scores BLEU, ROUGE-L and CIDEr without them.
    """

    source: str = "shapes"
    path: str = ""
    captions: str = "training_label.json"
    train_clips: PositiveInt = 12000
    validation_clips: PositiveInt = 300
    test_clips: PositiveInt = 500
    frames: PositiveInt = 16
    size: PositiveInt = 64
    min_count: PositiveInt = 1
    max_words: typing.Annotated[int, Range(3)] = 24  # <bos>, a word, <eos>
    validation_fraction: Fraction = 0.15
    test_fraction: Fraction = 0.15
    seed: NonNegativeInt = 0
    meteor: bool = True


# A wall-clock budget with the learning rate on a cosine over it: 780 s of training, so that data
# drawing, validation decoding and the final scoring keep `zoo train` under 15 minutes on 2 cores.
_SHAPES_TRAIN = TrainConfig(epochs=100_000, batch_size=32, learning_rate=3e-3, schedule="time_cosine",
                            weight_decay=1e-4, clipnorm=1.0, max_seconds=780.0, steps_per_epoch=150)


def recipes() -> list[Recipe]:
    """The family's named recipes (task_head_cell_dataset)."""
    shapes_model = CaptionModel(encoder="slots", conv_filters=(4, 8, 16), word_dropout=0.25, concepts=10.0)
    s2vt = Recipe("caption_s2vt_lstm_shapes", NAME,
                  "built-in shapes clips, colour slots -> LSTM encoder per slot -> LSTM decoder (S2VT) reading "
                  "the slots, 13-minute budget",
                  shapes_model, CaptionData(), _SHAPES_TRAIN)
    msvd_model = CaptionModel(head="meanpool", cell="lstm", units=512, embedding=256, encoder="features",
                              frames=80, feature_dim=4096, conv_filters=(), frame_dim=512, dropout=0.3)
    msvd_data = CaptionData(source="features", min_count=3, max_words=20)
    return [
        s2vt,
        dataclasses.replace(s2vt, name="caption_attention_gru_shapes",
                            description="built-in shapes clips, colour slots, GRU encoder, GRU decoder attending over "
                                        "every slot and frame",
                            model=dataclasses.replace(s2vt.model, head="attention", cell="gru")),
        dataclasses.replace(s2vt, name="caption_meanpool_lstm_shapes",
                            description="built-in shapes clips, colour slots mean-pooled over time -> LSTM decoder",
                            model=dataclasses.replace(s2vt.model, head="meanpool")),
        Recipe("caption_meanpool_lstm_msvd", NAME,
               "MSVD features (MLDS layout: feat/*.npy 80x4096), mean pool -> LSTM 512 decoder",
               msvd_model, msvd_data,
               TrainConfig(epochs=200, batch_size=64, learning_rate=1e-3, weight_decay=1e-4, clipnorm=1.0,
                           patience=20)),
    ]
