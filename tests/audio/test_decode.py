import numpy as np
import pytest
import soundfile as sf
from conftest import tone

from zoo.audio.decode import fit_length, load_clips, read_clip, read_wav, wav_blocks
from zoo.core.errors import ZooError


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_reads_every_common_wav_format(tmp_path, subtype):
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, tone(), 16000, subtype=subtype)
    x = read_wav(path, 16000)
    assert x.dtype == np.float32 and len(x) == 8000
    np.testing.assert_allclose(x, tone(), atol=1e-2)


def test_stereo_is_mixed_and_resampled(tmp_path):
    path = tmp_path / "stereo.wav"
    left = tone(rate=44100)
    sf.write(path, np.stack([left, left], axis=1), 44100)
    x = read_wav(path, 16000)
    assert abs(len(x) - 8000) <= 1
    assert 0.45 < np.max(np.abs(x)) < 0.55


@pytest.mark.parametrize("content, cause", [
    (b"", "empty file"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt garbage that is not a wav", "not a readable audio file"),
    (b"hello, I am text", "not a readable audio file"),
])
def test_bad_files_name_the_file_and_cause(tmp_path, content, cause):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(ZooError, match=f"bad.wav: {cause}"):
        read_wav(path, 16000)


def test_missing_file(tmp_path):
    with pytest.raises(ZooError, match="missing.wav: no such file"):
        read_wav(tmp_path / "missing.wav", 16000)


def test_unusable_sample_rate(tmp_path):
    path = tmp_path / "slow.wav"
    sf.write(path, tone(rate=1000), 1000)
    with pytest.raises(ZooError, match="slow.wav: unsupported sample rate 1000 Hz"):
        read_wav(path, 16000)


def test_fit_length_centres_short_and_keeps_loudest_window():
    short = fit_length(np.ones(4, np.float32), 10)
    assert short.tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
    long = np.zeros(100, np.float32)
    long[60:70] = 1.0
    window = fit_length(long, 20)
    assert len(window) == 20 and window.sum() == 10


def test_load_clips_skips_and_counts_bad_files(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, tone(), 16000)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    clips, kept, skipped = load_clips([good, bad, good], 16000, 16000)
    assert clips.shape == (2, 16000) and clips.dtype == np.int16
    assert kept.tolist() == [0, 2]
    assert len(skipped) == 1 and "bad.wav" in skipped[0]


def test_truncated_wav_is_named_not_read_in_part(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, tone(0.5, 8000), 8000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ZooError, match=r"cut.wav: truncated wav \(its header declares 8000 bytes of audio"):
        read_wav(path, 8000)


def test_wav_blocks_stream_what_read_wav_reads(tmp_path):
    rng = np.random.default_rng(0)
    stereo = (0.3 * np.sin(np.arange(3 * 44100) / 20.0)[:, None] * rng.uniform(0.5, 1, (3 * 44100, 2)))
    sf.write(tmp_path / "a.wav", stereo.astype(np.float32), 44100, subtype="PCM_24")
    whole = read_wav(tmp_path / "a.wav", 8000)
    streamed = np.concatenate(list(wav_blocks(tmp_path / "a.wav", 8000, block_seconds=0.7)))
    assert abs(len(streamed) - len(whole)) <= 1
    n = min(len(whole), len(streamed))
    assert np.max(np.abs(streamed[100:n - 100] - whole[100:n - 100])) < 1e-2


@pytest.mark.parametrize("seconds, rate", [(0.4, 8000), (1.0, 8000), (23.3, 8000), (23.3, 44100)],
                         ids=["shorter", "exact", "long", "long_resampled"])
def test_read_clip_in_blocks_is_fit_length_of_the_whole_wav(tmp_path, seconds, rate):
    rng = np.random.default_rng(0)
    audio = (0.01 * rng.normal(size=int(seconds * rate))).astype(np.float32)
    audio[int(0.55 * len(audio)):int(0.55 * len(audio)) + rate // 10] += 0.5  # a loud word in the 2nd of 3 blocks
    sf.write(tmp_path / "a.wav", audio, rate, subtype="FLOAT")
    whole = fit_length(read_wav(tmp_path / "a.wav", 8000), 8000)
    clip = read_clip(tmp_path / "a.wav", 8000, 8000)
    assert clip.shape == (8000,)
    np.testing.assert_allclose(clip, whole, atol=1e-6 if rate == 8000 else 2e-3)
