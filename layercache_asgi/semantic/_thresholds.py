"""Per embedding model: the cosine a hit needs and the guard's word-similarity cut.

Cosines are not comparable across models (MiniLM spreads paraphrases over 0.75-0.95, bge
packs everything above 0.7), so one number cannot serve every model. The table says, per
model, what was measured and on what; ``caching.semantic.similarity_threshold`` and
``caching.semantic.word_similarity`` override it when set.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .._config import SemanticCacheSettings
from ._weigh import Weighing

__all__ = ["MODEL_THRESHOLDS", "ModelThresholds", "resolve_thresholds", "resolve_weighing", "thresholds_for"]


@dataclass(frozen=True)
class ModelThresholds:
    similarity: float  # cosine of the two questions for a candidate
    word_cut: float  # cosine of two single words for the guard to pair them
    measured: str  # on what data, by which command; "" when not measured
    folders: tuple[str, ...] = ()  # local export folder names that hold this model
    # The sentence model's say on content words the guard leaves unpaired (``_weigh.py``); None:
    # not measured for this model, so unpaired words refuse.
    weighing: Weighing | None = None


# Unknown models get these: the values of the measured model nearest in kind (a small
# English sentence-transformer), and a log line saying they were not measured.
FALLBACK = ModelThresholds(similarity=0.85, word_cut=0.6, measured="")

MODEL_THRESHOLDS: dict[str, ModelThresholds] = {
    # The guard does the precision work, so the cosine only needs to find candidates: on the
    # dev split, precision stayed at 0.99 from 0.4 to 0.7 while recall fell with the threshold
    # (0.45 over 0.55: 2 more paraphrases, shorthand and typos the model scores low; no near-miss;
    # 0.40 over 0.45: one more typo; one near-miss between them, refused by the guard; 0.3 adds nothing).
    "sentence-transformers/all-MiniLM-L6-v2": ModelThresholds(
        similarity=0.40,
        word_cut=0.55,
        measured="int8 ONNX export; bench/semantic_quality.py, dev split of bench/data/semantic_pairs",
        folders=("all-minilm-l6-v2", "all-minilm-l6-v2-int8"),
        # Dev split, 193 paraphrases found without weighing: the swap cuts (at most 0.3 of the
        # deletions' move, cosine >= 0.85) add 5, the framing share (0.06 of the paired words'
        # weight) 12, both 17, and no near-miss. 0.35 let "pronounce" / "spell" through; 0.08 "How
        # much does it cost to return..." for "How do I return...".
        weighing=Weighing(swap_ratio=0.3, swap_cosine=0.85, filler_share=0.06),
    ),
    # The product default; its files were not available where the table was measured.
    "BAAI/bge-small-en-v1.5": ModelThresholds(similarity=0.85, word_cut=0.6, measured=""),
}


@lru_cache(maxsize=64)  # asked on every lookup
def thresholds_for(model: str, model_path: str | None = None) -> ModelThresholds:
    """The table's row for a model: by its local folder's name when loaded from one, else by name."""
    if model_path:
        folder = Path(model_path).expanduser().name.lower()
        for row in MODEL_THRESHOLDS.values():
            if folder in row.folders:
                return row
        for name, row in MODEL_THRESHOLDS.items():
            if folder == name.rsplit("/", 1)[-1].lower():
                return row
        return FALLBACK
    for name, row in MODEL_THRESHOLDS.items():
        if name.lower() == model.lower():
            return row
    return FALLBACK


def resolve_weighing(settings: SemanticCacheSettings) -> Weighing | None:
    """The weighing cuts of the model in use (None where not measured)."""
    return thresholds_for(settings.model, settings.model_path).weighing


def resolve_thresholds(settings: SemanticCacheSettings) -> tuple[float, float]:
    """(similarity threshold, word cut) in force: the settings where set, else the model's row."""
    row = thresholds_for(settings.model, settings.model_path)
    similarity = settings.similarity_threshold if settings.similarity_threshold is not None else row.similarity
    word_cut = settings.word_similarity if settings.word_similarity is not None else row.word_cut
    return similarity, word_cut
