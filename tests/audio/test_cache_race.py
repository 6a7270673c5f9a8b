"""Data-set caches: writers racing for one cache file all succeed, and the file is whole."""

import threading

import numpy as np

from zoo.audio.speech import AudioSet, _save_npz


def test_processes_that_fill_the_same_cache_at_once_all_succeed(tmp_path):
    s = AudioSet(audio=np.zeros((200, 8000), np.int16), labels=np.array(["a"] * 200), splits=np.array(["t"] * 200),
                 speakers=np.array(["x"] * 200), noise=np.zeros((2, 8000), np.float32), skipped=[])
    path, errors = tmp_path / "cache" / "set.npz", []

    def write():
        try:
            _save_npz(path, s)
        except OSError as e:  # the old fixed temporary name: one writer's rename took another's file
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with np.load(path) as z:
        assert z["audio"].shape == (200, 8000)
    assert [p.name for p in path.parent.iterdir()] == ["set.npz"]  # no temporary left behind
