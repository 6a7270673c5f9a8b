import librosa
import numpy as np
import pytest
from scipy.fft import dct

from zoo.audio.features import AudioFeatures, SpecAugment

SETTINGS = dict(sample_rate=16000, frame_length=400, frame_step=160, fft_length=512, num_mel_bins=40,
                fmin=20.0)


def _librosa_logmel(x):
    mel = librosa.feature.melspectrogram(y=x, sr=16000, n_fft=512, hop_length=160, win_length=400,
                                         center=False, power=2.0, n_mels=40, fmin=20.0, fmax=8000)
    return np.log(mel + 1e-6).T


def test_logmel_matches_librosa():
    x = np.random.default_rng(0).normal(scale=0.1, size=(2, 16000)).astype(np.float32)
    ours = np.asarray(AudioFeatures(**SETTINGS)(x))
    ref = _librosa_logmel(x[1])
    assert ours.shape == (2, 97, 40) and ref.shape == (97, 40)
    np.testing.assert_allclose(ours[1], ref, atol=1e-3)


def test_mfcc_matches_dct_of_librosa_logmel():
    x = np.random.default_rng(1).normal(scale=0.1, size=(1, 16000)).astype(np.float32)
    ours = np.asarray(AudioFeatures(**SETTINGS, num_mfcc=13)(x))[0]
    ref = dct(_librosa_logmel(x[0]), type=2, norm="ortho", axis=1)[:, :13]
    np.testing.assert_allclose(ours, ref, atol=1e-2)


@pytest.mark.parametrize("normalize", ["max", "cmvn"])
def test_normalisation_is_gain_invariant(normalize):
    x = np.random.default_rng(2).normal(scale=0.1, size=(1, 16000)).astype(np.float32)
    layer = AudioFeatures(**SETTINGS, normalize=normalize)
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(layer(x * 0.5)), atol=2e-2)


def test_config_round_trip():
    layer = AudioFeatures(**SETTINGS, num_mfcc=10, normalize="max")
    clone = AudioFeatures.from_config(layer.get_config())
    x = np.random.default_rng(3).normal(size=(1, 16000)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(layer(x)), np.asarray(clone(x)))


def test_specaugment_masks_in_training_only():
    x = np.ones((4, 50, 20), np.float32)
    layer = SpecAugment(time_masks=2, time_width=10, freq_masks=2, freq_width=5, seed=0)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    masked = np.asarray(layer(x, training=True))
    assert masked.min() == 0.0 and 0.3 < masked.mean() < 1.0
