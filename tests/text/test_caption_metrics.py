"""Caption metrics through pycocoevalcap: perfect captions score highest, wrong ones lower; Java or not."""

import shutil

import pytest

from zoo.text.caption_metrics import caption_scores

REFS = {"a": ["A red circle moves to the left.", "a red disc slides left"],
        "b": ["a blue square falls", "a big blue box drops"],
        "c": ["a green triangle grows", "a green triangle gets bigger"]}


def test_right_captions_beat_wrong_ones_without_java():
    right = caption_scores(REFS, {"a": "a red circle moves to the left", "b": "a blue square falls",
                                  "c": "a green triangle grows"}, java=False)
    wrong = caption_scores(REFS, {"a": "a blue square falls", "b": "a green triangle grows",
                                  "c": "a red circle moves to the left"}, java=False)
    assert right["BLEU-4"] > 0.99 and right["ROUGE-L"] > 0.99 and right["clips"] == 3
    for metric in ("BLEU-1", "BLEU-4", "ROUGE-L", "CIDEr"):
        assert right[metric] > wrong[metric], metric
    assert "METEOR" not in right and "Java" in right["notes"][0]
    with pytest.raises(ValueError, match="no candidate caption for 1 clip"):
        caption_scores(REFS, {"a": "x", "b": "y"}, java=False)


@pytest.mark.skipif(shutil.which("java") is None, reason="METEOR and the PTB tokenizer need Java")
def test_meteor_and_ptb_tokenizer_with_java():
    scores = caption_scores(REFS, {"a": "A red circle moves to the left.", "b": "a blue box drops",
                                   "c": "a green triangle grows"}, java=True)
    assert 0.5 < scores["METEOR"] <= 1.0 and scores["BLEU-1"] > 0.9 and not scores["notes"]
