"""Speech synthesis with eSpeak NG through the `espeakng-loader` wheel (ctypes).

The wheel ships `libespeak-ng.so` and its data folder and only returns their
paths; this module drives the C API directly, so no system package is needed.
eSpeak NG is GPL-3.0+; it is loaded at run time as a separate library.

Example:
    >>> from zoo.audio.tts import Synthesizer
    >>> wav = Synthesizer().say("seven", voice="en-us+m3", rate=160, pitch=50)
    >>> wav.dtype, wav.ndim
    (dtype('float32'), 1)
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

SAMPLE_RATE = 22050  # eSpeak NG's native output rate.

_AUDIO_OUTPUT_SYNCHRONOUS = 0x02
_CHARS_UTF8 = 1
_RATE, _PITCH, _RANGE = 1, 3, 4
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class Synthesizer:
    """A process-wide handle on the eSpeak NG library (it keeps global state)."""

    _lock = threading.Lock()
    _lib = None
    _callback = None
    _chunks: list[np.ndarray] = []

    def __init__(self):
        with Synthesizer._lock:
            if Synthesizer._lib is None:
                Synthesizer._lib = self._load()

    @staticmethod
    def _load():
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if rate != SAMPLE_RATE:
            raise RuntimeError(f"eSpeak NG initialisation failed (returned {rate})")

        def on_audio(wav, n, _events):
            if n > 0:
                Synthesizer._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        Synthesizer._callback = _CALLBACK(on_audio)  # keep a reference alive
        lib.espeak_SetSynthCallback(Synthesizer._callback)
        return lib

    def say(self, text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50,
            pitch_range: int = 50) -> np.ndarray:
        """Speaks `text`; returns float32 samples in [-1, 1] at 22,050 Hz.

        Args:
            text: what to say.
            voice: an eSpeak voice name, optionally with a variant (`en-us+f3`).
            rate: words per minute (80-450).
            pitch: base pitch, 0-100.
            pitch_range: intonation range, 0-100.
        """
        lib = Synthesizer._lib
        with Synthesizer._lock:
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"unknown eSpeak voice {voice!r}")
            lib.espeak_SetParameter(_RATE, int(rate), 0)
            lib.espeak_SetParameter(_PITCH, int(pitch), 0)
            lib.espeak_SetParameter(_RANGE, int(pitch_range), 0)
            Synthesizer._chunks = []
            data = text.encode("utf-8") + b"\0"
            lib.espeak_Synth(data, len(data), 0, 0, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            chunks, Synthesizer._chunks = Synthesizer._chunks, []
        if not chunks:
            return np.zeros(0, np.float32)
        return (np.concatenate(chunks).astype(np.float32) / 32768.0)
