"""Long test streams: held-out keyword clips placed at random times into minutes of noise.

A stream is written as a wav and a JSON list of its true events (start, end,
keyword, source clip), for `zoo eval RUN --stream LONG.wav --events TRUTH.json`.
Each keyword is scaled to the chosen signal-to-noise ratio over its spoken part;
optional distractor clips (words the model does not know) are mixed in the
same way and listed apart, as events nobody should report.

Example:
    >>> rng = np.random.default_rng(0)
    >>> words = [("yes", rng.normal(0, 0.1, 4000).astype("float32"), "a.wav")]
    >>> audio, truth = make_stream(words, rng.normal(0, 1, (2, 8000)).astype("float32"), 8000,
    ...                            seconds=20, snr_db=10, seed=0)
    >>> len(audio), truth["events"][0]["keyword"], truth["snr_db"]
    (160000, 'yes', 10)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.audio.decode import read_wav, write_wav
from zoo.audio.speech import SILENCE, UNKNOWN, AudioSet
from zoo.core.errors import ZooError
from zoo.core.runs import atomic_path, write_json
from zoo.families.kws.data import load_audio

NOISE_RMS = 0.02  # the background's level; keywords are scaled to the SNR above it
PEAK = 0.99  # a stream whose loudest sample would pass this is scaled down whole, never clipped


def spoken_part(audio: np.ndarray, sample_rate: int, floor_db: float = 35.0, margin_s: float = 0.05) -> np.ndarray:
    """The clip between the first and last 10 ms frame within `floor_db` of its loudest, plus a margin.

    Example:
        >>> clip = np.zeros(8000, np.float32); clip[3000:5000] = 0.5
        >>> len(spoken_part(clip, 8000))
        2880
    """
    frame = max(1, sample_rate // 100)
    frames = len(audio) // frame
    if frames == 0:
        return audio
    rms = np.sqrt(np.mean(audio[:frames * frame].reshape(frames, frame) ** 2, axis=1) + 1e-12)
    active = np.flatnonzero(20 * np.log10(rms / rms.max()) > -floor_db)
    margin = int(margin_s * sample_rate)
    return audio[max(0, active[0] * frame - margin):min(len(audio), (active[-1] + 1) * frame + margin)]


def held_out_words(aset: AudioSet, split: str, words, sample_rate: int) -> list[tuple[str, np.ndarray, str]]:
    """(word, spoken part, speaker) for the clips of `split` whose word is in `words`."""
    keep = (aset.splits == split) & np.isin(aset.labels, [w for w in words if w not in (SILENCE, UNKNOWN)])
    return [(str(aset.labels[i]), spoken_part(aset.audio[i].astype(np.float32) / 32768.0, sample_rate),
             str(aset.speakers[i])) for i in np.flatnonzero(keep)]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)) + 1e-12))


def at_snr(clip: np.ndarray, snr_db: float) -> np.ndarray:
    """`clip` scaled so that its RMS is `snr_db` over the background's level (`NOISE_RMS`)."""
    return clip * (NOISE_RMS * 10 ** (snr_db / 20) / _rms(clip))


def within_peak(audio: np.ndarray) -> tuple[np.ndarray, float]:
    """(`audio`, 1.0), or `audio` scaled down whole so its loudest sample is `PEAK`, and the scale.

    Loud words (a high SNR over the fixed noise level) would pass full scale; scaling the whole
    mixture, not clipping it, keeps every SNR. Mixtures at 10 dB stay below `PEAK`, unscaled.
    """
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= PEAK:
        return audio, 1.0
    return audio * np.float32(PEAK / peak), PEAK / peak


def background(noise_bank: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """`samples` of noise: random stretches of the bank's rows, each at `NOISE_RMS`."""
    out = np.zeros(samples, np.float32)
    pos = 0
    while pos < samples:
        row = noise_bank[rng.integers(len(noise_bank))]
        start = int(rng.integers(0, max(1, len(row) // 2)))
        piece = row[start:start + samples - pos]
        out[pos:pos + len(piece)] = piece * (NOISE_RMS / _rms(piece))
        pos += len(piece)
    return out


def make_stream(keywords, noise_bank: np.ndarray, sample_rate: int, seconds: float, snr_db: float,
                gap_seconds=(2.0, 6.0), distractors=(), distractor_share: float = 0.3, seed: int = 0):
    """Mixes keyword clips into noise at random times.

    Args:
        keywords: (word, float32 samples, source) triples; used in a shuffled cycle.
        noise_bank: float32 [rows, samples] of background noise at `sample_rate`.
        seconds: stream length.
        snr_db: each clip's level over the noise (clip RMS over noise RMS, in dB).
        gap_seconds: range of silence-only time between the end of a clip and the next start.
        distractors: (word, samples, source) of words the model should not report.
        distractor_share: fraction of placements that take a distractor (when any).
        seed: placement, choice and noise.

    Returns:
        (float32 samples, truth dict with `events` and `distractors` lists of
        {start, end, keyword, source} in seconds, and the settings). The noise is at `NOISE_RMS`
        unless a word would pass `PEAK`: then the whole stream is scaled down by `scale`.
    """
    rng = np.random.default_rng(seed)
    total = int(seconds * sample_rate)
    audio = background(noise_bank, total, rng)
    order, distract_order = [], []
    events, others = [], []
    t = rng.uniform(*gap_seconds)
    while True:
        use_distractor = len(distractors) > 0 and rng.random() < distractor_share
        pool, queue = (distractors, distract_order) if use_distractor else (keywords, order)
        if not queue:
            queue.extend(rng.permutation(len(pool)).tolist())
        word, clip, source = pool[queue.pop()]
        start = int(t * sample_rate)
        if start + len(clip) > total:
            break
        audio[start:start + len(clip)] += at_snr(clip, snr_db)
        record = {"start": round(start / sample_rate, 3), "end": round((start + len(clip)) / sample_rate, 3),
                  "keyword": word, "source": source}
        (others if use_distractor else events).append(record)
        t = (start + len(clip)) / sample_rate + rng.uniform(*gap_seconds)
    audio, scale = within_peak(audio)
    truth = {"sample_rate": sample_rate, "seconds": seconds, "snr_db": snr_db, "seed": seed,
             "gap_seconds": list(gap_seconds), "scale": round(scale, 6), "events": events, "distractors": others}
    return audio, truth


def distractor_clips(folder: Path, keywords, sample_rate: int, limit: int = 500, seed: int = 0):
    """(word, spoken part, file) of `label/*.wav` clips in `folder` whose label is not one of `keywords`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ZooError(f"{folder}: no such folder")
    files = sorted(p for p in folder.glob("*/*.wav") if p.parent.name not in keywords and
                   not p.parent.name.startswith("_"))
    if not files:
        raise ZooError(f"{folder}: no label/*.wav clips of words other than the keywords")
    picked = [files[i] for i in np.sort(np.random.default_rng(seed).permutation(len(files))[:limit])]
    out = []
    for path in picked:
        try:
            out.append((path.parent.name, spoken_part(read_wav(path, sample_rate), sample_rate), path.name))
        except ZooError:
            continue  # a bad file in a data set is skipped
    return out


def write_stream(recipe, labels, data_root: Path, out: Path, split: str = "test", minutes: float = 30.0,
                 snr_db: float = 10.0, seed: int = 0, distractors: Path | None = None) -> dict:
    """Writes OUT.wav and OUT.json: `split`'s keyword clips of the recipe's data set in its noise."""
    aset = load_audio(recipe, data_root)
    rate = recipe.data.sample_rate
    words = held_out_words(aset, split, labels, rate)
    if not words:
        raise ZooError(f"{recipe.data.source}:{recipe.data.path}: no {split} clips of the model's keywords")
    others = distractor_clips(distractors, labels, rate, seed=seed) if distractors else ()
    audio, truth = make_stream(words, aset.noise, rate, minutes * 60, snr_db, distractors=others, seed=seed)
    truth.update(data=f"{recipe.data.source}:{recipe.data.path}", split=split, keyword_clips=len(words))
    out = Path(out).with_suffix(".wav")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        write_wav(tmp, audio, rate)
    write_json(out.with_suffix(".json"), truth)
    return {"wav": str(out), "events": str(out.with_suffix(".json")), "keywords": len(truth["events"]),
            "distractors": len(truth["distractors"]), "minutes": minutes, "snr_db": snr_db}
