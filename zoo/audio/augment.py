"""Augmentation: offline channel simulation (NumPy) and on-line batch ops (tf.data).

Offline, applied once when a synthetic set is built: speed/vocal-tract
perturbation, telephone band-limiting, random equalisation, room reverberation
and soft clipping, so that clean synthetic speech looks like recordings.
On-line, applied per training batch: random time shift, background noise at a
random SNR, and gain. SpecAugment masks act on features, so they live in the
model (`zoo.audio.features.SpecAugment`).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = simulate_channel(np.random.default_rng(1).normal(size=8000).astype("float32"), 8000, rng)
    >>> y.dtype.name
    'float32'
"""

from __future__ import annotations

import numpy as np


def colored_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Noise with power spectrum 1/f**exponent (0 white, 1 pink, 2 brown), unit RMS."""
    spectrum = np.fft.rfft(rng.normal(size=n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    spectrum /= f ** (exponent / 2.0)
    x = np.fft.irfft(spectrum, n)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def synthetic_noise_bank(sample_rate: int, seconds: float = 10.0, seed: int = 0) -> np.ndarray:
    """White, pink and brown noise plus hum, for data sets without recorded noise."""
    rng = np.random.default_rng(seed)
    n = int(sample_rate * seconds)
    bank = [colored_noise(n, e, rng) for e in (0.0, 1.0, 2.0, 0.5, 1.5)]
    t = np.arange(n) / sample_rate
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 6)) + 0.3 * bank[1]
    bank.append((hum / np.sqrt(np.mean(hum**2))).astype(np.float32))
    return np.stack(bank)


def _room_impulse(sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    rt60 = rng.uniform(0.1, 0.6)
    n = int(rt60 * sample_rate)
    t = np.arange(n) / sample_rate
    ir = rng.normal(size=n) * np.exp(-6.9 * t / rt60)
    ir[0] = 1.0 / rng.uniform(0.2, 1.0)  # direct path against the reverberant tail
    return ir / np.sqrt(np.sum(ir**2))


def simulate_channel(audio: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One random recording channel: speed, band-limit, EQ, room, clipping."""
    import librosa
    from scipy import signal

    x = audio.astype(np.float64)
    if rng.random() < 0.8:  # speed perturbation moves pitch and formants together
        factor = rng.uniform(0.85, 1.15)
        x = librosa.resample(x, orig_sr=sample_rate, target_sr=int(sample_rate * factor), res_type="soxr_mq")
    nyq = sample_rate / 2
    if rng.random() < 0.5:  # telephone-like band
        lo, hi = rng.uniform(100, 400), min(rng.uniform(2800, 3900), nyq * 0.95)
        sos = signal.butter(4, [lo, hi], btype="bandpass", fs=sample_rate, output="sos")
        x = signal.sosfilt(sos, x)
    for _ in range(rng.integers(0, 3)):  # random peaking / notch equaliser bands
        f0 = rng.uniform(150, nyq * 0.7)
        sos = signal.tf2sos(*signal.iirpeak(f0, rng.uniform(1.5, 5.0), fs=sample_rate))
        x = x + rng.uniform(-0.7, 1.5) * signal.sosfilt(sos, x)
    if rng.random() < 0.6:
        wet = signal.fftconvolve(x, _room_impulse(sample_rate, rng))[: len(x)]
        x = wet
    if rng.random() < 0.2:
        drive = rng.uniform(1.5, 6.0)
        x = np.tanh(drive * x / (np.max(np.abs(x)) + 1e-9)) / np.tanh(drive)
    peak = np.max(np.abs(x)) + 1e-9
    return (x / peak * rng.uniform(0.2, 0.9)).astype(np.float32)


def batch_augmenter(noise_bank: np.ndarray, shift: int, noise_prob: float,
                    snr_db: tuple[float, float], gain_db: tuple[float, float],
                    speed: tuple[float, float] = (1.0, 1.0), cut: float = 0.0, cut_label: int | None = None,
                    cut_beyond: tuple[int, int] = (0, 0), place: float = 0.0, partial: float = 0.0):
    """Returns a tf function (audio [B, N] float32, one-hot labels) -> augmented (audio, labels).

    Speed perturbation resamples the whole batch by one random factor (tempo
    and pitch together) about the clip's centre; shift is zero-filled (no
    wrap-around); noise segments are cut at random offsets from `noise_bank`
    and scaled to a random SNR against each clip.

    With `cut` > 0, that fraction of the clips not already labelled `cut_label` is
    moved later until its sound (the last sample above 5 % of the clip's peak) runs
    `cut_beyond` samples past the clip's end, and relabelled `cut_label`: a causal
    model learns not to name a word before it has heard all of it.

    With `place` > 0, that fraction of the clips not labelled `cut_label` has its sound
    (from the first to the last sample above 5 % of the clip's peak) moved to a uniformly
    random place where it still fits whole, as a detector's sliding windows see words:
    anywhere from the window's start to its end, not only near the middle.

    With `partial` > 0 (needs `cut_label`), that fraction of the clips not labelled
    `cut_label` keeps a uniformly random share f of its sound: the rest runs past the clip's
    start or its end (either, evenly), and the label becomes f of the word and 1 - f of
    `cut_label`. A detector's windows hear parts of words; this teaches the model to be as
    sure of a word as the share of it that it heard.
    """
    import tensorflow as tf

    bank = tf.constant(noise_bank, tf.float32)

    def change_speed(audio, n):
        factor = tf.random.uniform([], speed[0], speed[1])
        new_n = tf.cast(tf.round(tf.cast(n, tf.float32) / factor), tf.int32)
        resized = tf.image.resize(audio[:, :, None, None], tf.stack([new_n, 1]), method="bilinear")[:, :, 0, 0]
        extra = new_n - n  # crop (longer) or zero-pad (shorter) about the centre
        start = tf.maximum(extra // 2, 0)
        resized = resized[:, start:start + n]
        missing = n - tf.shape(resized)[1]
        return tf.pad(resized, [[0, 0], [missing // 2, missing - missing // 2]])

    def augment(audio, labels):
        b = tf.shape(audio)[0]
        n = tf.shape(audio)[1]
        if speed != (1.0, 1.0):
            audio = tf.ensure_shape(change_speed(audio, n), audio.shape)
        if shift > 0:
            padded = tf.pad(audio, [[0, 0], [shift, shift]])
            offsets = tf.random.uniform([b], 0, 2 * shift + 1, tf.int32)
            idx = offsets[:, None] + tf.range(n)[None, :]
            audio = tf.gather(padded, idx, batch_dims=1)

        def extent(audio):  # first and one past the last sample above 5 % of each clip's peak
            loud = tf.cast(tf.abs(audio) > 0.05 * tf.reduce_max(tf.abs(audio), axis=1, keepdims=True), tf.int32)
            first = tf.argmax(loud, axis=1, output_type=tf.int32)
            return first, n - tf.argmax(tf.reverse(loud, [1]), axis=1, output_type=tf.int32)

        def move_by(audio, move):  # later by `move` samples each (earlier if negative), zero-filled
            idx = tf.range(n)[None, :] - move[:, None]
            inside = (idx >= 0) & (idx < n)
            return tf.where(inside, tf.gather(audio, tf.clip_by_value(idx, 0, n - 1), batch_dims=1), 0.0)

        def chosen(fraction):
            pick = tf.random.uniform([b]) < fraction
            if cut_label is None:
                return pick
            return pick & (tf.argmax(labels, axis=1, output_type=tf.int32) != cut_label)

        if place > 0:
            first, end = extent(audio)
            start = tf.cast(tf.floor(tf.random.uniform([b]) * tf.cast(n - (end - first) + 1, tf.float32)), tf.int32)
            audio = move_by(audio, tf.where(chosen(place), start - first, 0))
        if cut_label is not None:  # cut words become `cut_label`, wholly or in part
            silence = tf.one_hot(cut_label, tf.shape(labels)[1], dtype=labels.dtype)
        if cut > 0 and cut_label is not None:
            _, end = extent(audio)
            cut_now = chosen(cut)
            move = n - end + tf.random.uniform([b], cut_beyond[0], cut_beyond[1] + 1, tf.int32)
            audio = move_by(audio, tf.where(cut_now, move, 0))
            labels = tf.where(cut_now[:, None], silence, labels)
        if partial > 0 and cut_label is not None:
            first, end = extent(audio)
            part = chosen(partial)
            share = tf.random.uniform([b])
            gone = tf.cast(tf.round((1.0 - share) * tf.cast(end - first, tf.float32)), tf.int32)
            move = tf.where(tf.random.uniform([b]) < 0.5, n + gone - end, -gone - first)
            audio = move_by(audio, tf.where(part, move, 0))
            kept = tf.cast(share, labels.dtype)[:, None]
            labels = tf.where(part[:, None], kept * labels + (1 - kept) * silence, labels)
        if noise_prob > 0 and noise_bank.shape[0] > 0:
            which = tf.random.uniform([b], 0, tf.shape(bank)[0], tf.int32)
            start = tf.random.uniform([b], 0, tf.shape(bank)[1] - n, tf.int32)
            idx = start[:, None] + tf.range(n)[None, :]
            noise = tf.gather(tf.gather(bank, which), idx, batch_dims=1)

            def rms(x):
                return tf.sqrt(tf.reduce_mean(tf.square(x), axis=1, keepdims=True) + 1e-10)

            snr = tf.random.uniform([b, 1], snr_db[0], snr_db[1])
            scale = rms(audio) / rms(noise) * tf.pow(10.0, -snr / 20.0)
            # Silent clips (the _silence_ class) get noise at an absolute level instead.
            scale = tf.where(rms(audio) < 1e-4, tf.random.uniform([b, 1], 0.0, 0.1), scale)
            use = tf.cast(tf.random.uniform([b, 1]) < noise_prob, tf.float32)
            audio = audio + use * scale * noise
        gain = tf.pow(10.0, tf.random.uniform([b, 1], gain_db[0], gain_db[1]) / 20.0)
        audio = tf.clip_by_value(audio * gain, -1.0, 1.0)
        return audio, labels

    return augment
