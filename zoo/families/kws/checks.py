"""Keyword recipes whose fields are each in range but do not fit together: one line before any clip is read.

Example:
    >>> import dataclasses
    >>> from zoo.families.kws.recipes import recipes
    >>> recipe = recipes()[0]
    >>> check(recipe)
    >>> check(dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, num_mfcc=60)))
    Traceback (most recent call last):
    ...
    zoo.core.errors.ZooError: model.num_mfcc=60: at most model.num_mel_bins (40) coefficients
"""

from __future__ import annotations

from zoo.core.errors import ZooError
from zoo.core.recipe import Recipe
from zoo.families.kws.size import why_not_causal


def check(recipe: Recipe) -> None:
    """Raises ZooError naming the first pair of fields of `recipe` that contradict each other."""
    m, d = recipe.model, recipe.data
    nyquist = d.sample_rate / 2
    if m.causal and why_not_causal(m):
        raise ZooError(f"{recipe.name}: model.causal=True, but {why_not_causal(m)}")
    if m.num_mfcc > m.num_mel_bins:
        raise ZooError(f"model.num_mfcc={m.num_mfcc}: at most model.num_mel_bins ({m.num_mel_bins}) coefficients")
    if m.fmax > nyquist:
        raise ZooError(f"model.fmax={m.fmax}: above half of data.sample_rate={d.sample_rate} ({nyquist:g} Hz); "
                       "0 means half")
    if m.fmin >= (m.fmax or nyquist):
        raise ZooError(f"model.fmin={m.fmin}: must be below model.fmax ({m.fmax or nyquist:g} Hz)")
    if m.frame_ms > 1000 * d.clip_seconds:
        raise ZooError(f"model.frame_ms={m.frame_ms}: longer than a clip (data.clip_seconds={d.clip_seconds})")
    for name in ("cut_percent", "partial_percent"):
        if getattr(d, name) and not d.silence_percent:
            raise ZooError(f"data.{name} labels cut words _silence_ (wholly or in part); "
                           "set data.silence_percent above 0")
    if d.train_on_validation and recipe.train.keep != "last":
        raise ZooError("data.train_on_validation trains on the clips that would choose the kept epoch; "
                       "set train.keep='last'")
