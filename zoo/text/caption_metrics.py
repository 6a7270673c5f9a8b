"""Caption scores with the field's standard tooling: pycocoevalcap's BLEU-1..4, METEOR, ROUGE-L and CIDEr.

METEOR and the Penn Treebank tokenizer run in Java. When no `java` is on the
PATH, captions are tokenized here instead (lower case, punctuation removed, as
the PTB tokenizer leaves them), METEOR is left out, and `notes` says so in one
line. pycocoevalcap's CIDEr takes its document frequencies from the references
being scored (CIDEr-D as in the COCO evaluation server).

Example:
    >>> refs = {"v1": ["A red circle moves left.", "a red disc slides left"], "v2": ["a blue square falls"]}
    >>> scores = caption_scores(refs, {"v1": "a red circle moves left", "v2": "a blue square falls"}, java=False)
    >>> round(scores["BLEU-1"], 3), round(scores["ROUGE-L"], 3), "METEOR" in scores, scores["notes"][0][:6]
    (1.0, 1.0, False, 'METEOR')
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil


def _simple_tokenize(captions: dict) -> dict:
    """The PTB tokenizer's output shape without Java: lower case, punctuation removed, single spaces."""
    return {k: [" ".join(re.findall(r"[\w']+", c.lower())) for c in v] for k, v in captions.items()}


def caption_scores(references: dict, candidates: dict, java: bool | None = None) -> dict:
    """Scores of one candidate caption per clip against that clip's reference captions.

    Args:
        references: clip id -> list of reference captions.
        candidates: clip id -> the generated caption (every id of `references`).
        java: use METEOR and the PTB tokenizer (None: when `java` is on the PATH).

    Returns:
        `BLEU-1`..`BLEU-4`, `METEOR` (with Java), `ROUGE-L`, `CIDEr`, `clips`, and
        `notes` (what was left out and why).
    """
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    missing = set(references) - set(candidates)
    if missing:
        raise ValueError(f"no candidate caption for {len(missing)} clip(s), e.g. {sorted(missing)[0]!r}")
    java = shutil.which("java") is not None if java is None else java
    gts = {k: list(v) for k, v in references.items()}
    res = {k: [candidates[k]] for k in references}
    notes = []
    if java:
        from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

        tokenizer = PTBTokenizer()
        gts = tokenizer.tokenize({k: [{"caption": c} for c in v] for k, v in gts.items()})
        res = tokenizer.tokenize({k: [{"caption": c} for c in v] for k, v in res.items()})
    else:
        gts, res = _simple_tokenize(gts), _simple_tokenize(res)
        notes.append("METEOR and the PTB tokenizer need Java, which is not on the PATH: scored without them")
    with contextlib.redirect_stdout(io.StringIO()):  # pycocoevalcap's BLEU prints its counts
        bleu, _ = Bleu(4).compute_score(gts, res)
    scores = {f"BLEU-{n}": float(b) for n, b in enumerate(bleu, 1)}
    if java:
        from pycocoevalcap.meteor.meteor import Meteor

        scores["METEOR"] = float(Meteor().compute_score(gts, res)[0])
    scores["ROUGE-L"] = float(Rouge().compute_score(gts, res)[0])
    scores["CIDEr"] = float(Cider().compute_score(gts, res)[0])
    return {**scores, "clips": len(references), "notes": notes}
