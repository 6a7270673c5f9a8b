"""The audio front end as Keras layers, so trained and exported models take raw audio.

The short-time Fourier transform frames the signal and takes a real FFT
(LiteRT builtin RFFT2D, no weights), matching librosa (`center=False`,
periodic Hann). The mel projection is applied in blocks of fewer than 1,024
weights: LiteRT's dynamic-range quantization leaves tensors that small in float,
and quantizing the power spectrum to 8 bits (what a quantized projection does
to its input) costs accuracy, while the recurrent layers quantize well.

Example:
    >>> import numpy as np
    >>> layer = AudioFeatures(sample_rate=8000, frame_length=200, frame_step=80,
    ...                       fft_length=256, num_mel_bins=40)
    >>> layer(np.zeros((2, 8000), "float32")).shape
    TensorShape([2, 97, 40])
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from zoo.nn.layers import AttentionPooling, MeanProbabilities, TrainingOnly


def mel_matrix(sample_rate, fft_length, num_mel_bins, fmin, fmax):
    import librosa

    return librosa.filters.mel(sr=sample_rate, n_fft=fft_length, n_mels=num_mel_bins,
                               fmin=fmin, fmax=fmax).T.astype(np.float32)  # [bins, mels]


def hann_window(frame_length, fft_length):
    """Periodic Hann of `frame_length`, centred in `fft_length` zeros (as librosa pads it)."""
    window = np.zeros(fft_length, np.float32)
    left = (fft_length - frame_length) // 2
    n = np.arange(frame_length)
    window[left:left + frame_length] = 0.5 - 0.5 * np.cos(2 * np.pi * n / frame_length)
    return window


def sparse_mel(mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A [bins, mels] filterbank as the bins each band reads: (index, weight), both [mels, width].

    Each triangular band covers a few FFT bins, so gathering them and summing is
    the same projection as the dense matrix with a tenth of its constants (and
    no weight tensor large enough for LiteRT to quantize).

    Example:
        >>> index, weight = sparse_mel(np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 2.0]], np.float32))
        >>> index.tolist(), weight.tolist()
        ([[0, 1], [1, 2]], [[1.0, 0.5], [0.5, 2.0]])
    """
    width = max(1, int((mel != 0).sum(axis=0).max()))
    index = np.zeros((mel.shape[1], width), np.int32)
    weight = np.zeros((mel.shape[1], width), np.float32)
    for band in range(mel.shape[1]):
        rows = np.flatnonzero(mel[:, band])
        index[band, :len(rows)] = rows
        weight[band, :len(rows)] = mel[rows, band]
    return index, weight


def frame(waveform, length: int, step: int):
    """Frames [B, samples] -> [B, frames, length] by reshape and slices (no index table).

    `tf.signal.frame` gathers with a [frames, length / gcd] index constant that
    LiteRT stores in the file (6 KB for one second at 8 kHz); cutting the signal
    into rows of `step` samples and concatenating a few shifted views of the rows
    gives the same frames from a handful of shape constants. Needs a static
    number of samples (otherwise falls back to `tf.signal.frame`).

    Example:
        >>> import tensorflow as tf
        >>> x = tf.reshape(tf.range(2 * 23, dtype=tf.float32), (2, 23))
        >>> bool(tf.reduce_all(frame(x, 7, 3) == tf.signal.frame(x, 7, 3)))
        True
    """
    import tensorflow as tf

    samples = waveform.shape[-1]
    if samples is None:
        return tf.signal.frame(waveform, length, step)
    frames = 1 + (samples - length) // step
    views = -(-length // step)  # rows of `step` samples that one frame spans
    rows = frames + views - 1
    if rows * step > samples:
        waveform = tf.pad(waveform, [[0, 0], [0, rows * step - samples]])
    rows_of = tf.reshape(waveform[:, :rows * step], (-1, rows, step))
    return tf.concat([rows_of[:, j:j + frames] for j in range(views)], axis=-1)[:, :, :length]


class AudioFeatures(keras.layers.Layer):
    """Raw waveform [B, samples] -> log-mel or MFCC frames [B, frames, features].

    Args:
        sample_rate: input rate in Hz.
        frame_length: analysis window in samples.
        frame_step: hop in samples.
        fft_length: FFT size (>= frame_length).
        num_mel_bins: mel bands.
        fmin: lowest mel frequency (Hz).
        fmax: highest mel frequency (Hz); 0 means sample_rate / 2.
        num_mfcc: 0 for log-mel, else the number of MFCCs (DCT-II of the log-mel, orthonormal).
        normalize: `none`; `max`: log-mel relative to the clip's loudest bin, floored
            at `floor_db` below it and scaled to [0, 1] (gain-invariant, and silence
            always looks the same); `cmvn`: the same floor, then per-clip mean and
            variance normalisation of each feature (MFCCs are taken after the floor).
        floor_db: how far below the clip's peak the floor lies (`max` and `cmvn`).
    """

    def __init__(self, sample_rate=16000, frame_length=400, frame_step=160, fft_length=512,
                 num_mel_bins=40, fmin=20.0, fmax=0.0, num_mfcc=0, normalize="none",
                 floor_db=80.0, **kwargs):
        super().__init__(**kwargs)
        if normalize not in ("none", "max", "cmvn"):
            raise ValueError(f"normalize must be none, max or cmvn, got {normalize!r}")
        self.sample_rate = sample_rate
        self.frame_length = frame_length
        self.frame_step = frame_step
        self.fft_length = fft_length
        self.num_mel_bins = num_mel_bins
        self.fmin = fmin
        self.fmax = fmax
        self.num_mfcc = num_mfcc
        self.normalize = normalize
        self.floor_db = floor_db
        self._window = hann_window(frame_length, fft_length)
        self._mel_index, self._mel_weight = sparse_mel(
            mel_matrix(sample_rate, fft_length, num_mel_bins, fmin, fmax or sample_rate / 2))
        if num_mfcc:
            from scipy.fft import dct

            self._dct = dct(np.eye(num_mel_bins), type=2, norm="ortho", axis=0).T[:, :num_mfcc].astype(np.float32)

    def num_frames(self, samples: int) -> int:
        return 1 + (samples - self.fft_length) // self.frame_step

    def call(self, waveform):
        import tensorflow as tf  # framing and the real FFT are TensorFlow ops (RFFT2D in LiteRT)

        frames = frame(waveform, self.fft_length, self.frame_step) * self._window
        spectrum = tf.signal.rfft(frames)
        power = tf.math.square(tf.math.real(spectrum)) + tf.math.square(tf.math.imag(spectrum))
        mel = ops.sum(ops.take(power, self._mel_index, axis=-1) * self._mel_weight, axis=-1)
        logmel = ops.log(mel + 1e-6)
        floor = float(self.floor_db * np.log(10.0) / 10.0)  # dB -> natural log of power (a Python float keeps float32)
        if self.normalize != "none":  # silence, padding and noise floor all sit at peak - floor_db
            peak = ops.max(logmel, axis=(1, 2), keepdims=True)
            logmel = ops.maximum(logmel - peak, -floor)
        if self.normalize == "max":
            logmel = logmel / floor + 1.0  # in [0, 1]
        if self.num_mfcc:
            logmel = ops.matmul(logmel, ops.convert_to_tensor(self._dct))
        if self.normalize == "cmvn":
            centred = logmel - ops.mean(logmel, axis=1, keepdims=True)
            variance = ops.mean(centred * centred, axis=1, keepdims=True)
            logmel = centred * ops.rsqrt(variance + 1e-2)  # no DIV: int8 LiteRT has none safe here
        return logmel

    def compute_output_shape(self, input_shape):
        samples = input_shape[1]
        frames = None if samples is None else self.num_frames(samples)
        return (input_shape[0], frames, self.num_mfcc or self.num_mel_bins)

    def get_config(self):
        config = super().get_config()
        config.update(
            sample_rate=self.sample_rate, frame_length=self.frame_length,
            frame_step=self.frame_step, fft_length=self.fft_length,
            num_mel_bins=self.num_mel_bins, fmin=self.fmin, fmax=self.fmax,
            num_mfcc=self.num_mfcc, normalize=self.normalize, floor_db=self.floor_db,
        )
        return config


class SpecAugment(TrainingOnly, keras.layers.Layer):
    """Random time and frequency masks on [B, frames, features], in training only.

    Args:
        time_masks: number of time masks per example.
        time_width: maximum width of each, in frames.
        freq_masks: number of frequency masks per example.
        freq_width: maximum width of each, in features.
    """

    def __init__(self, time_masks=2, time_width=10, freq_masks=2, freq_width=5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.time_masks = time_masks
        self.time_width = time_width
        self.freq_masks = freq_masks
        self.freq_width = freq_width
        self.seed = seed
        self._rng = keras.random.SeedGenerator(seed)

    def _mask(self, shape_b, size, count, width):
        pos = ops.arange(size, dtype="float32")[None, None, :]
        w = keras.random.uniform((shape_b, count, 1), 0, width + 1, seed=self._rng)
        start = keras.random.uniform((shape_b, count, 1), 0, 1, seed=self._rng) * (size - w)
        inside = ops.logical_and(pos >= ops.floor(start), pos < ops.floor(start) + ops.floor(w))
        return 1.0 - ops.max(ops.cast(inside, "float32"), axis=1)  # [B, size]

    def call(self, x, training=False):
        if not training or (self.time_masks == 0 and self.freq_masks == 0):
            return x
        b = ops.shape(x)[0]
        frames, feats = x.shape[1], x.shape[2]
        if self.time_masks:
            x = x * self._mask(b, frames, self.time_masks, self.time_width)[:, :, None]
        if self.freq_masks:
            x = x * self._mask(b, feats, self.freq_masks, self.freq_width)[:, None, :]
        return x

    def get_config(self):
        config = super().get_config()
        config.update(time_masks=self.time_masks, time_width=self.time_width,
                      freq_masks=self.freq_masks, freq_width=self.freq_width, seed=self.seed)
        return config


CUSTOM_OBJECTS = {cls.__name__: cls for cls in (AudioFeatures, SpecAugment, AttentionPooling, MeanProbabilities)}
