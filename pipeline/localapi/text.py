"""Titles and abstracts of synthetic papers, built from per-field vocabularies.

Every field phrase below matches one of the keyword rules of ``data/demo.toml`` (the same rules as
``data/study.toml``), and no generic phrase matches any of them, so keyword labelling of a synthetic paper
reproduces its true fields exactly (tested in ``tests/test_localapi_synth.py``). Bridge papers carry the
phrases of both their fields.
"""

from __future__ import annotations

import numpy as np

FIELD_PHRASES: dict[str, tuple[str, ...]] = {
    "metrics": (
        "BLEU", "ROUGE", "METEOR", "chrF", "BERTScore", "BLEURT", "COMET", "CometKiwi", "MetricX",
        "automatic evaluation metrics", "quality estimation", "meta-evaluation of metrics",
        "correlation with human judgments", "reference-based evaluation metric",
    ),
    "reward_models": (
        "reward models", "reward modeling", "RLHF", "reinforcement learning from human feedback",
        "preference optimization", "learning from human preferences", "RLAIF", "reward model ensembles",
    ),
    "llm_judge": (
        "LLM-as-a-judge", "LLM judges", "judge models", "LLM-based evaluation", "MT-Bench", "Chatbot Arena",
        "AlpacaEval", "Arena-Hard", "LLM-based evaluators",
    ),
}

GENERIC_TOPICS: tuple[str, ...] = (
    "machine translation", "abstractive summarization", "dialogue systems", "question answering",
    "code generation", "instruction tuning", "image captioning", "speech recognition", "graph neural networks",
    "protein structure prediction", "federated learning", "robot navigation", "knowledge distillation",
    "retrieval-augmented generation", "named entity recognition", "semantic parsing", "data augmentation",
    "low-resource languages", "vision transformers", "contrastive pretraining", "sparse attention",
    "mixture of experts", "tabular data", "time series forecasting", "multilingual models", "topic models",
    "text simplification", "story generation", "math word problems", "program synthesis",
)

_FIELD_TITLES = (
    "{kw} for {topic}", "Revisiting {kw} in {topic}", "On the reliability of {kw}", "{kw} at scale",
    "Towards robust {kw} for {topic}", "A study of {kw} and {topic}", "Rethinking {kw}",
    "{kw}: lessons from {topic}", "Improving {kw} with {topic}", "When do {kw} fail? Evidence from {topic}",
)
_BRIDGE_TITLES = (
    "{kw} meets {kw2}", "From {kw} to {kw2}: a unified view", "{kw} and {kw2} for {topic}",
    "Are {kw} just {kw2}?", "Bridging {kw} and {kw2}",
)
_OTHER_TITLES = (
    "Efficient {topic}", "A survey of {topic}", "Scaling {topic} with {topic2}", "{topic} in the wild",
    "Learning {topic} from {topic2}", "Benchmarking {topic}", "{topic} without labels",
    "On {topic} and {topic2}", "Robust {topic} under distribution shift", "Neural {topic}",
)
_FIELD_SENTENCES = (
    "We study {kw} in the setting of {topic}.", "Our analysis of {kw} covers several benchmarks.",
    "We release code and data for {kw}.", "Experiments show that {kw} is sensitive to the choice of {topic}.",
)
_OTHER_SENTENCES = (
    "We propose a new method for {topic}.", "Experiments on standard benchmarks show consistent gains.",
    "Our approach combines {topic} with {topic2}.", "We analyse failure cases and discuss limitations.",
    "The method is simple, fast and easy to reproduce.",
)


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> list[str]:
    return [options[i] for i in rng.integers(0, len(options), n)]


def make_texts(labels: list[tuple[str, ...]], *, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Title and abstract for each paper given its field labels (``()`` for ``other``)."""
    n = len(labels)
    topics, topics2 = _pick(rng, GENERIC_TOPICS, n), _pick(rng, GENERIC_TOPICS, n)
    kw_draws = rng.integers(0, 1 << 30, (n, 3))
    titles, abstracts = [], []
    title_draw = rng.integers(0, 1 << 30, n)
    for i, fields in enumerate(labels):
        if not fields:
            template = _OTHER_TITLES[title_draw[i] % len(_OTHER_TITLES)]
            titles.append(_capital(template.format(topic=topics[i], topic2=topics2[i])))
            abstracts.append(" ".join(s.format(topic=topics[i], topic2=topics2[i]) for s in
                                      (_OTHER_SENTENCES[(title_draw[i] + j) % len(_OTHER_SENTENCES)] for j in range(3))))
            continue
        kws = [FIELD_PHRASES[f][kw_draws[i, j] % len(FIELD_PHRASES[f])] for j, f in enumerate(fields)]
        if len(kws) > 1:
            template = _BRIDGE_TITLES[title_draw[i] % len(_BRIDGE_TITLES)]
            titles.append(_capital(template.format(kw=kws[0], kw2=kws[1], topic=topics[i])))
        else:
            template = _FIELD_TITLES[title_draw[i] % len(_FIELD_TITLES)]
            titles.append(_capital(template.format(kw=kws[0], topic=topics[i])))
        sentences = [_FIELD_SENTENCES[(title_draw[i] + j) % len(_FIELD_SENTENCES)].format(kw=kw, topic=topics[i])
                     for j, kw in enumerate(kws)]
        sentences.append(_OTHER_SENTENCES[title_draw[i] % len(_OTHER_SENTENCES)].format(topic=topics[i],
                                                                                        topic2=topics2[i]))
        abstracts.append(" ".join(sentences))
    return titles, abstracts


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
