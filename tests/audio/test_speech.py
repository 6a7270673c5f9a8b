import numpy as np
import pytest
import soundfile as sf
from conftest import tone

from zoo.audio import speech
from zoo.audio.augment import batch_augmenter, simulate_channel, synthetic_noise_bank
from zoo.core.errors import ZooError
from zoo.core.recipe import apply_overrides
from zoo.families.kws.data import load_audio
from zoo.families.registry import registry


def _speech_commands_tree(root):
    for word in ("yes", "no", "bed"):
        for spk in ("aaaa1111", "bbbb2222", "cccc3333"):
            (root / word).mkdir(parents=True, exist_ok=True)
            sf.write(root / word / f"{spk}_nohash_0.wav", tone(0.7), 16000)
    (root / "_background_noise_").mkdir()
    sf.write(root / "_background_noise_" / "white.wav",
             np.random.default_rng(0).normal(scale=0.1, size=16000 * 5).astype(np.float32), 16000)
    (root / "validation_list.txt").write_text("yes/bbbb2222_nohash_0.wav\nno/bbbb2222_nohash_0.wav\n")
    (root / "testing_list.txt").write_text("yes/cccc3333_nohash_0.wav\n")
    (root / "no" / "broken.wav").write_bytes(b"RIFF....WAVE")


def test_speech_commands_layout_lists_noise_and_bad_files(tmp_path):
    _speech_commands_tree(tmp_path / "sc")
    aset = speech.load_recordings("speech_commands", tmp_path / "sc", 16000, 16000, tmp_path / "cache")
    assert aset.audio.shape == (9, 16000)
    assert len(aset.skipped) == 1 and "broken.wav" in aset.skipped[0]
    split = dict(zip([f"{w}/{s}" for w, s in zip(aset.labels, aset.speakers)], aset.splits))
    assert split["yes/bbbb2222"] == "validation" and split["yes/cccc3333"] == "test"
    assert split["bed/cccc3333"] == "train"  # not listed: train
    assert aset.noise.shape[1] == 4 * 16000 and len(aset.noise) >= 1
    again = speech.load_recordings("speech_commands", tmp_path / "sc", 16000, 16000, tmp_path / "cache")
    np.testing.assert_array_equal(again.audio, aset.audio)  # served from the cache


def test_fsdd_official_split_and_word_labels(digit_folder, tmp_path):
    aset = speech.load_recordings("fsdd", digit_folder, 8000, 8000, tmp_path)
    assert set(aset.labels) == {"zero", "one", "two"}
    assert set(aset.speakers) == {"alice", "bob"}
    assert (aset.splits == "test").sum() == 3 * 2 * 5  # takes 0-4 of each digit and speaker
    assert (aset.splits == "validation").sum() == 3 * 2 * 5


def test_recorded_sets_noise_does_not_depend_on_the_training_seed(digit_folder, tmp_path):
    """The cache is keyed on files, rate and length only, so what it holds must not depend on the seed:
    a cache filled by one seed's training used to hand its noise to every other seed."""
    recipe = apply_overrides(registry().get("kws_ugru_s_fsdd"), [f"data.path='{digit_folder}'"])
    noises = [load_audio(apply_overrides(recipe, [f"train.seed={seed}"]), tmp_path / str(seed)).noise
              for seed in (0, 6)]
    assert np.array_equal(noises[0], noises[1])
    bank = synthetic_noise_bank(8000, seconds=10.0, seed=0)
    assert np.array_equal(noises[0][0], bank[0, :32000])


def test_folder_split_keeps_speakers_together(tmp_path):
    root = tmp_path / "f"
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for spk in range(30):
            sf.write(root / label / f"spk{spk}_nohash_{label}.wav", tone(0.2), 16000)
    rows, _ = speech.list_folder(root)
    by_speaker = {}
    for _, _, split, spk in rows:
        by_speaker.setdefault(spk, set()).add(split)
    assert all(len(s) == 1 for s in by_speaker.values())
    assert {"train", "validation", "test"} <= {s for v in by_speaker.values() for s in v}


@pytest.mark.parametrize("kind", ["fsdd", "folder", "speech_commands"])
def test_missing_folder_is_a_clear_error(tmp_path, kind):
    with pytest.raises(ZooError, match=rf"nowhere: no such folder \({kind} data\)"):
        speech.load_recordings(kind, tmp_path / "nowhere", 16000, 16000, tmp_path)


def test_tts_synthesis_is_cached_and_split_by_voice(tmp_path):
    voices = tuple(f"en+m{i}" for i in range(1, 8)) + ("en+f1", "en+f2", "en+f3")
    spec = speech.TTSSpec(words=("yes", "no"), voices=voices, takes=1, channel_copies=1)
    aset = speech.synthesize(spec, 16000, 16000, tmp_path)
    assert aset.audio.shape == (2 * 10 * 2, 16000)
    for voice in set(aset.speakers):
        assert len(set(aset.splits[aset.speakers == voice])) == 1
    assert {"train", "validation", "test"} == set(aset.splits)
    assert np.abs(aset.audio).max() > 3000  # speech, not silence
    assert len(list(tmp_path.glob("tts-*.npz"))) == 1


def test_channel_simulation_and_batch_augmentation():
    rng = np.random.default_rng(0)
    x = tone(0.5, 8000)
    for sample_rate in (8000, 16000):
        for _ in range(100):  # every random channel must stay stable (finite, bounded)
            y = simulate_channel(x, sample_rate, rng)
            assert y.dtype == np.float32 and np.all(np.isfinite(y)) and 0.1 < np.abs(y).max() <= 1.0
    bank = synthetic_noise_bank(8000, seconds=2)
    augment = batch_augmenter(bank, shift=400, noise_prob=1.0, snr_db=(10, 10), gain_db=(0, 0))
    batch = np.stack([tone(1.0, 8000)] * 3)
    out, _ = augment(batch, np.zeros(3))
    out = np.asarray(out)
    assert out.shape == batch.shape and not np.allclose(out, batch)
    noise = out - batch
    snr = 10 * np.log10(np.mean(batch**2) / np.mean(noise**2))
    assert snr < 12  # noise (and shift) were added
