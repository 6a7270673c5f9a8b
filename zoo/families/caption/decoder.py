"""The word decoder every caption head shares: embedding, one recurrent layer, optional attention, logits.

`CaptionDecoder` reads a whole caption at once in training (teacher forcing:
the words so far in, the next word out) and one word at a time in decoding
(`step`), the state held outside in `zoo.nn.recurrent.Stack`'s packed layout.
With `attention` it attends over the encoder's states at every word
(Luong et al. 2015 global attention with the "general" bilinear score
h^T W m): the decoder output and the context vector are combined by a tanh
layer before the logits. A bilinear score can match what the decoder has
just said ("green") with what a memory position holds (a green object)
directly, which picking the right object of several needs. In training, `word_dropout` replaces a share of the
words read (not `<bos>`) by `<unk>`, so the next word rests on the clip more
than on the word before: captions of unseen combinations ("a green
triangle" when training never paired them) need exactly that.

Example:
    >>> import numpy as np
    >>> decoder = CaptionDecoder(vocab_size=7, units=4, embedding=3, cell="gru", attention=True)
    >>> words, memory = np.ones((2, 5), "int32"), np.zeros((2, 6, 4), "float32")
    >>> tuple(decoder(words, [np.zeros((2, 4), "float32")], memory).shape)
    (2, 5, 7)
    >>> logits, state = decoder.step(words[:, 0], np.zeros((2, 4), "float32"), memory)
    >>> tuple(logits.shape), tuple(state.shape)
    ((2, 7), (2, 4))
"""

from __future__ import annotations

import keras
from keras import ops

from zoo.nn.recurrent import Stack, recurrent_layer
from zoo.text.words import UNK


class CaptionDecoder(keras.layers.Layer):
    """Words in, next-word logits out, from an initial state (and attention memory).

    Args:
        vocab_size: words, specials included.
        units: recurrent state size (the encoder's too).
        embedding: word embedding width.
        cell: `rnn`, `lstm` or `gru`.
        attention: attend over `memory` at every word.
        dropout: on the recurrent outputs (training only).
        word_dropout: share of the words read that training replaces by `<unk>`.
    """

    def __init__(self, vocab_size: int, units: int, embedding: int, cell: str, attention: bool = False,
                 dropout: float = 0.0, word_dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.units, self.embedding_dim = vocab_size, units, embedding
        self.cell, self.attention, self.dropout, self.word_dropout = cell, attention, dropout, word_dropout
        self.seed = keras.random.SeedGenerator()
        self.embed = keras.layers.Embedding(vocab_size, embedding, name="embedding")
        self.rnn = recurrent_layer(cell, units, return_sequences=True, name=f"decoder_{cell}")
        self.drop = keras.layers.Dropout(dropout)
        if attention:
            self.query = keras.layers.Dense(units, use_bias=False, name="query")
            self.attend = keras.layers.Attention(use_scale=True, name="attention")
            self.combine = keras.layers.Dense(units, activation="tanh", name="combine")
        self.logits = keras.layers.Dense(vocab_size, name="logits")

    def build(self, *shapes):
        self.embed.build((None, None))
        self.rnn.build((None, None, self.embedding_dim))
        if self.attention:
            self.query.build((None, None, self.units))
            self.attend.build([(None, None, self.units), (None, None, self.units)])
            self.combine.build((None, None, 2 * self.units))
        self.logits.build((None, None, self.units))

    def _read_out(self, y, memory):
        if self.attention:
            y = self.combine(ops.concatenate([y, self.attend([self.query(y), memory])], axis=-1))
        return self.logits(y)

    def call(self, words, state, memory, training=None):
        """Teacher forcing: words [B, L] int32, state [h] or [h, c] each [B, units],
        memory [B, F, units] -> logits [B, L, vocab_size]."""
        if training and self.word_dropout:
            drop = keras.random.uniform(ops.shape(words), seed=self.seed) < self.word_dropout
            words = ops.where(drop & (words > UNK), UNK, words)
        y = self.rnn(self.embed(words), initial_state=list(state), training=training)
        return self._read_out(self.drop(y, training=training), memory)

    def step(self, word, state, memory):
        """One word: word [B] int32, packed state [B, S], memory [B, F, units] -> (logits [B, V], state)."""
        y, state = Stack([self.rnn]).step(self.embed(word), state)
        return self._read_out(y[:, None, :], memory)[:, 0], state

    @property
    def state_size(self) -> int:
        return Stack([self.rnn]).state_size

    def compute_output_shape(self, words_shape, *args, **kwargs):
        return (*words_shape, self.vocab_size)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "units": self.units,
                "embedding": self.embedding_dim, "cell": self.cell, "attention": self.attention,
                "dropout": self.dropout, "word_dropout": self.word_dropout}
