"""Peak memory of `zoo predict` and `zoo listen` on long recordings: it must not grow with their length.

    python bench/long_audio.py RUN [--minutes 1 60] [--rate 16000] [--out /tmp/long_audio]

RUN is a causal keyword run (or a streaming `.tflite`), so it can both score a clip (`predict`: the
recording's loudest clip-long window) and detect keywords through the recording (`listen`). For each length
a wav of low noise with a tone burst every few seconds is written in blocks at `--rate` (16 kHz: resampled
to the model's rate on the way in), and each command runs as its own process; its peak resident memory is
the kernel's count for that process (`wait4`'s `ru_maxrss`). The shortest recording is the baseline of
the same run: the JSON gives each command's peak at every length and its ratio to the baseline's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import soundfile as sf
from measure import measure

from zoo.cli import command_line
from zoo.core.errors import ZooError, one_line_errors


def write_recording(path: Path, minutes: float, rate: int) -> Path:
    """Noise with a 0.3 s tone every 4 s, written a minute at a time (bounded memory here too)."""
    rng = np.random.default_rng(0)
    t = np.arange(rate * 60) / rate
    minute = (0.005 * rng.normal(size=len(t))).astype(np.float32)
    minute += np.where((t % 4.0) < 0.3, 0.3 * np.sin(2 * np.pi * 440 * t), 0).astype(np.float32)
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as f:
        for _ in range(int(round(minutes))):
            f.write(minute)
    return path


def peak(args: list, log: Path) -> dict:
    """Runs `zoo ARGS` (its output to `log`) and returns its peak resident memory (MB) and wall time."""
    done = measure(command_line(*args), log)
    if done.returncode != 0:
        raise ZooError(f"zoo {' '.join(map(str, args))}: exit {done.returncode}: {done.last_line(log)}")
    return {"peak_mb": done.peak_mb, "seconds": done.seconds}


@one_line_errors
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 60])
    parser.add_argument("--rate", type=int, default=16000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/long_audio"))
    args = parser.parse_args(argv)
    if not args.run.exists():
        raise ZooError(f"{args.run}: no such run or model")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for minutes in sorted(args.minutes):
        wav = write_recording(args.out / f"{minutes:g}min.wav", minutes, args.rate)
        for command in ("predict", "listen"):
            rows.append({"minutes": minutes, "command": command, "wav_mb": round(wav.stat().st_size / 2**20, 1),
                         **peak([command, args.run, wav], args.out / f"{command}.log")})
        wav.unlink()
    for row in rows:
        base = next(r for r in rows if r["command"] == row["command"])
        row["peak_vs_shortest"] = round(row["peak_mb"] / base["peak_mb"], 3)
    print(json.dumps({"run": str(args.run), "rate": args.rate, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
