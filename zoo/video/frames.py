"""Clips from disk: a folder of frame images or a video file, resampled in time and resized.

Images are read with Pillow (PNG, JPEG, ...), video files with PyAV, the
FFmpeg bindings whose wheels carry their own FFmpeg (no system install, no
subprocess, frames straight into NumPy); it is the decoder the PyAV and
torchvision projects maintain. Every failure is one `ZooError` naming the
file and the cause.

Example:
    >>> clip = np.zeros((20, 30, 40, 3), np.uint8)
    >>> fit_clip(clip, 8, size=16).shape
    (8, 16, 16, 3)
    >>> resample_indices(16, 8).tolist()
    [0, 2, 4, 6, 9, 11, 13, 15]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.core.errors import ZooError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".ogv")


def resample_indices(available: int, wanted: int) -> np.ndarray:
    """`wanted` frame indices spread evenly over `available` frames, first and last included."""
    return np.round(np.linspace(0, available - 1, wanted)).astype(np.int64)


def resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """uint8 [F, H, W, 3] -> [F, size, size, 3], bilinear (Pillow); square clips of that size are untouched."""
    from PIL import Image

    if frames.shape[1:3] == (size, size):
        return frames
    return np.stack([np.asarray(Image.fromarray(f).resize((size, size), Image.BILINEAR)) for f in frames])


def fit_clip(frames: np.ndarray, frames_wanted: int, size: int | None = None) -> np.ndarray:
    """Resamples a clip [F, ...] to `frames_wanted` frames and, for pixels, resizes them to `size`."""
    frames = frames[resample_indices(len(frames), frames_wanted)]
    return resize_frames(frames, size) if size else frames


def _rgb(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), np.uint8)


def read_image_folder(folder: Path) -> np.ndarray:
    """Frames of a folder of images, in file-name order, as uint8 [F, H, W, 3] (the first frame's size)."""
    from PIL import Image, UnidentifiedImageError

    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ZooError(f"{folder}: no frame images ({', '.join(IMAGE_SUFFIXES)}) in the folder")
    frames = []
    for path in files:
        try:
            with Image.open(path) as image:
                frame = _rgb(image)
        except (UnidentifiedImageError, OSError) as e:
            raise ZooError(f"{path}: not a readable image ({e})") from None
        if frames and frame.shape != frames[0].shape:  # odd frames out take the first frame's size
            frame = np.asarray(Image.fromarray(frame).resize(frames[0].shape[1::-1], Image.BILINEAR))
        frames.append(frame)
    return np.stack(frames)


def read_video(path: Path, max_frames: int = 2000) -> np.ndarray:
    """Frames of a video file as uint8 [F, H, W, 3] (PyAV), at most `max_frames`."""
    import av

    frames = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ZooError(f"{path}: has no video stream")
            for frame in container.decode(video=0):
                frames.append(frame.to_ndarray(format="rgb24"))
                if len(frames) >= max_frames:
                    break
    except av.FFmpegError as e:
        raise ZooError(f"{path}: not a decodable video ({e.strerror or type(e).__name__})") from None
    if not frames:
        raise ZooError(f"{path}: the video has no frames")
    return np.stack(frames)


def read_clip(path: Path) -> np.ndarray:
    """A clip from a folder of frame images or a video file, uint8 [F, H, W, 3]."""
    path = Path(path)
    if path.is_dir():
        return read_image_folder(path)
    if not path.exists():
        raise ZooError(f"{path}: no such clip (a folder of frame images or a video file)")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ZooError(f"{path}: not a video file ({', '.join(VIDEO_SUFFIXES)}) or a folder of frames")
    return read_video(path)


def write_video(path: Path, frames: np.ndarray, fps: int = 8) -> None:
    """Writes uint8 [F, H, W, 3] frames as an MPEG-4 video (PyAV), for samples and tests."""
    import av

    frames = np.asarray(frames, np.uint8)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
