"""Captioning: encode a clip once, then decode words greedily or by beam search, in Keras or from an export.

`zoo.load(PATH)` on a captioning model returns a `Captioner` (from a run, a
SavedModel or a LiteRT file); `caption` is its verb. All three share the
decoding (`zoo.nn.decode`): only the encoder and the one-word step differ.
Inputs are a features `.npy`, a folder of frame images or a video file; clips
are resampled to the model's frame count and resized to its frame size.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from zoo.core import litert
from zoo.core.errors import ZooError
from zoo.core.load import Loaded
from zoo.nn.decode import beam_search, greedy
from zoo.text.words import BOS, EOS, WordVocabulary
from zoo.video import features as feature_files
from zoo.video import frames as frame_files


def _rowwise(fn):
    """A batch-1 function applied row by row to a batch (LiteRT files have a batch of 1)."""
    def run(*arrays):
        outs = [fn(*(a[i:i + 1] for a in arrays)) for i in range(len(arrays[0]))]
        return [np.concatenate([o[k] for o in outs]) for k in range(len(outs[0]))]

    return run


class Captioner:
    """Writes captions for clips with any encoder and step function of the same signatures.

    Args:
        encode: clips [N, ...] float32 -> [state [N, S], memory [N, F, U]] (memory may be None).
        step: (words [N] int32, state, memory) -> (logits [N, V], state).
        vocab: the word vocabulary.
        meta: the export sidecar (input kind, frames, size, feature size, max words).
    """

    def __init__(self, encode, step, vocab: WordVocabulary, meta: dict):
        self.encode, self.step_fn, self.vocab, self.meta = encode, step, vocab, meta

    # -- constructors ------------------------------------------------------------

    @classmethod
    def from_keras(cls, model, vocab: WordVocabulary, meta: dict) -> Captioner:
        import tensorflow as tf

        from zoo.families.caption.model import decoder_layer, encoder_model

        encoder, decoder = encoder_model(model), decoder_layer(model)
        encode_fn = tf.function(lambda clips: encoder(clips, training=False), reduce_retracing=True)
        step_fn = tf.function(decoder.step, reduce_retracing=True)

        def encode(clips):
            *state, memory = encode_fn(tf.constant(clips, tf.float32))
            return np.concatenate([np.asarray(s) for s in state], axis=-1), np.asarray(memory)

        def step(words, state, memory):
            logits, state = step_fn(tf.constant(words), tf.constant(state), tf.constant(memory))
            return np.asarray(logits), np.asarray(state)

        return cls(encode, step, vocab, meta)

    @classmethod
    def from_litert(cls, path: Path, meta: dict) -> Captioner:
        interpreter = litert.open_interpreter(path)
        enc = interpreter.get_signature_runner("encode")
        dec = interpreter.get_signature_runner("decode_step")
        attention = meta["attention"]

        def encode_one(clip):
            out = enc(clip=clip.astype(np.float32))
            return out["state"], out["memory"] if attention else np.zeros((1, 1, 1), np.float32)

        def step_one(words, state, memory):
            feeds = dict(word=words.astype(np.int32), state=state)
            out = dec(**feeds, memory=memory) if attention else dec(**feeds)
            return out["logits"], out["state"]

        return cls(_rowwise(encode_one), _rowwise(step_one), WordVocabulary.from_json(meta["vocabulary"]), meta)

    @classmethod
    def from_savedmodel(cls, path: Path, meta: dict) -> Captioner:
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))
        enc, dec = loaded.signatures["encode"], loaded.signatures["decode_step"]
        attention = meta["attention"]

        def encode(clips):
            out = enc(clip=tf.constant(clips, tf.float32))
            memory = out["memory"].numpy() if attention else np.zeros((len(clips), 1, 1), np.float32)
            return out["state"].numpy(), memory

        def step(words, state, memory):
            feeds = dict(word=tf.constant(words, tf.int32), state=tf.constant(state))
            out = dec(**feeds, memory=tf.constant(memory)) if attention else dec(**feeds)
            return out["logits"].numpy(), out["state"].numpy()

        return cls(encode, step, WordVocabulary.from_json(meta["vocabulary"]), meta)

    # -- decoding ----------------------------------------------------------------

    def ids(self, clips: np.ndarray, beam: int = 1, length_penalty: float = 1.0,
            batch_size: int = 64) -> list[list[int]]:
        """Word ids of the caption of each clip (model-ready [N, F, ...]), greedy or beam search."""
        out = []
        for start in range(0, len(clips), batch_size):
            state, memory = self.encode(np.asarray(clips[start:start + batch_size], np.float32))

            def step(words, carried):
                logits, new_state = self.step_fn(words, carried[0], carried[1])
                return logits, [new_state, carried[1]]

            limit = self.meta["max_words"] - 1
            if beam <= 1:
                out += greedy(step, [state, memory], BOS, EOS, limit)
            else:
                out += beam_search(step, [state, memory], BOS, EOS, limit, beam, length_penalty)
        return out

    def caption_clips(self, clips: np.ndarray, beam: int = 1, length_penalty: float = 1.0) -> list[str]:
        """Captions of model-ready clips [N, F, ...]."""
        return [self.vocab.decode(ids) for ids in self.ids(clips, beam, length_penalty)]

    def read(self, path: Path) -> np.ndarray:
        """One clip from disk, fitted to the model: a features .npy, a frames folder or a video file."""
        m = self.meta
        path = Path(path)
        if m["input"] == "features":
            if path.suffix != ".npy":
                raise ZooError(f"{path}: this model reads a features .npy (frames x {m['feature_dim']})")
            return frame_files.fit_clip(feature_files.read_clip(path, m["feature_dim"]), m["frames"])
        if path.suffix == ".npy":
            raise ZooError(f"{path}: this model reads pixels (a folder of frame images or a video file), "
                           "not features")
        return frame_files.fit_clip(frame_files.read_clip(path), m["frames"], m["size"])

    def caption(self, inputs, beam: int = 1, length_penalty: float = 1.0) -> list[dict]:
        """`{"input", "caption", "ms"}` for each input path (or `{"input", "error"}`, one line)."""
        results, clips, where = [], [], []
        for path in inputs:
            try:
                clips.append(self.read(path))
                where.append(len(results))
                results.append({"input": str(path)})
            except ZooError as e:
                results.append({"input": str(path), "error": str(e)})
        if clips:
            start = time.perf_counter()
            texts = self.caption_clips(np.stack(clips), beam, length_penalty)
            ms = round((time.perf_counter() - start) * 1000 / len(clips), 2)
            for k, text in zip(where, texts):
                results[k].update(caption=text, ms_per_caption=ms)
        return results


def open_captioner(run: Loaded) -> Captioner:
    """The captioner of a loaded model: a run, a SavedModel or a LiteRT file."""
    if run.kind == "keras":
        return Captioner.from_keras(run.model, run.run_meta, run.meta)
    if run.kind == "tflite":
        return Captioner.from_litert(run.path, run.meta)
    return Captioner.from_savedmodel(run.path, run.meta)
