"""Scorers: turn each output of a pair into a number (higher = better), scoring each distinct text once.

Names accepted by :func:`make_scorer`:

- ``bleu``, ``chrf``, ``ter`` — sacrebleu sentence-level scores against the pair's human references (TER is an
  error rate, so its negation is used); outputs without references get NaN and are left out of that scorer's
  accuracy; each segment's reference statistics are extracted once and segments are spread over the cores
  (:mod:`pipeline.scoring.lexical`);
- ``longer``, ``shorter`` — length in characters, and its negation: the spurious-length baselines;
- ``scores:PATH`` — precomputed scores, a CSV with columns ``text_id,score`` where ``text_id`` is
  :func:`pipeline.scoring.pairs.text_id` of (prompt, text) — the ids listed in ``texts.parquet``;
- ``comet:MODEL`` — a COMET / CometKiwi model (extra ``comet``): a hub name or a local ``.ckpt`` file;
  reference-free models ignore the references;
- ``rm:MODEL`` — a Hugging Face sequence-classification reward model (extra ``rm``): a hub name or a local model
  directory; score = first logit of the chat (prompt as the user turn, text as the assistant turn).

Both model adapters run on a GPU when torch sees one, else on the CPU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from pipeline.errors import UserError
from pipeline.scoring import KNOWN_SCORERS, lexical, parallel
from pipeline.scoring.pairs import text_id

log = logging.getLogger(__name__)

CONTEXT_KEYS = {
    "none": ["text"],
    "prompt": ["prompt", "text"],
    "references": ["language", "references", "text"],
    "prompt+references": ["language", "prompt", "references", "text"],
}
"""What a scorer's output depends on besides the text: the key that makes two sides "the same input"."""


@dataclass(frozen=True)
class Scorer:
    """A named scoring function over a frame of distinct inputs (columns ``text``, ``prompt``, ``references``,
    ``language``) returning one float per row; ``signature()`` says how to reproduce its numbers (call it after
    scoring: sacrebleu knows its tokenisers and reference counts only then)."""

    name: str
    context: str
    score: Callable[..., np.ndarray]
    signature: Callable[[], str]
    forkable: bool = False
    """Cheap to run in a forked process beside the others (in-process CPU work: no model, no pool of its own)."""
    model: bool = False
    """A neural model (COMET, a reward model): minutes to hours, on a GPU when there is one."""


def distinct_inputs(pairs: pd.DataFrame, context: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct (text, context) inputs of both sides of every pair, and where each side's is: ``(inputs,
    where)``, ``inputs.iloc[where[i]]`` being side i (the chosen sides, then the rejected ones)."""
    key = CONTEXT_KEYS[context]
    texts = pairs["chosen"].tolist() + pairs["rejected"].tolist()
    columns = [texts if column == "text" else pairs[column].tolist() * 2 for column in key]
    distinct: dict[tuple, int] = {}
    where = np.fromiter((distinct.setdefault(k, len(distinct)) for k in zip(*columns)), dtype=np.int64,
                        count=len(texts))
    return pd.DataFrame(list(distinct), columns=key), where


def score_pairs(pairs: pd.DataFrame, scorer: Scorer, *, quiet: bool = False,
                inputs: tuple[pd.DataFrame, np.ndarray] | None = None) -> pd.DataFrame:
    """Scores of both sides of every pair, each distinct (text, context) scored once (``inputs``: the pairs'
    :func:`distinct_inputs` for the scorer's context, when already at hand).

    Returns ``pair_id, chosen_score, rejected_score`` aligned with ``pairs``.
    """
    inputs, where = inputs or distinct_inputs(pairs, scorer.context)
    log.info("%s: %d distinct inputs for %d pairs", scorer.name, len(inputs), len(pairs))
    scored = np.asarray(scorer.score(inputs, quiet=quiet), dtype=float)[where]
    n = len(pairs)
    return pd.DataFrame({"pair_id": pairs["pair_id"].to_numpy(), "chosen_score": scored[:n],
                         "rejected_score": scored[n:]})


def score_all(pairs: pd.DataFrame, chosen: list[Scorer], *, quiet: bool = False) -> list[tuple[pd.DataFrame, str]]:
    """:func:`score_pairs` of every scorer, with its signature (taken after scoring), in the order given.

    Forkable scorers but one each run in a forked process (:class:`~pipeline.scoring.parallel.Forked`: the pairs
    are shared copy-on-write, only the scores come back) while this process scores the others, so chrF and BLEU
    take the time of the slower one on two cores. Model scorers and TER (which spreads itself over the cores)
    always run here, one after the other. Scorers of the same context share one :func:`distinct_inputs`."""
    inputs = {context: distinct_inputs(pairs, context) for context in dict.fromkeys(s.context for s in chosen)}

    def scored(scorer: Scorer) -> tuple[pd.DataFrame, str]:
        return score_pairs(pairs, scorer, quiet=quiet, inputs=inputs[scorer.context]), scorer.signature()

    forkable = [i for i, scorer in enumerate(chosen) if scorer.forkable]
    forked = {i: parallel.Forked(lambda scorer=chosen[i]: scored(scorer)) for i in forkable[:-1]}
    try:
        here = {i: scored(scorer) for i, scorer in enumerate(chosen) if i not in forked}
        return [forked[i].result() if i in forked else here[i] for i in range(len(chosen))]
    finally:
        for process in forked.values():
            process.__exit__(None, None, None)


# ------------------------------------------------------------------------------------------------ sacrebleu


def _sacrebleu_scorer(kind: str) -> Scorer:
    import sacrebleu.metrics  # noqa: F401  (0.2 s: imported once here, before score_all forks, not in each process)

    scores = lexical.SacrebleuScores(kind)

    def score(inputs: pd.DataFrame, *, quiet: bool = False) -> np.ndarray:
        return scores(inputs["text"].tolist(), inputs["references"].tolist(), inputs["language"].tolist(),
                      quiet=quiet)

    return Scorer(kind, "references", score, scores.signature, forkable=kind != "ter")


# -------------------------------------------------------------------------------------------- simple scorers


def _length_scorer(name: str, sign: float) -> Scorer:
    def score(inputs: pd.DataFrame, *, quiet: bool = False) -> np.ndarray:
        return sign * inputs["text"].str.len().to_numpy(dtype=float)

    return Scorer(name, "none", score, lambda: f"{'+' if sign > 0 else '-'}len(text) in characters")


def _precomputed_scorer(path: Path) -> Scorer:
    """Scores from ``path`` (CSV: ``text_id,score``)."""
    if path.is_dir():
        raise UserError(f"scores file {path} is a directory; pass scores:PATH with a CSV of text_id,score")
    if not path.is_file():
        raise UserError(f"scores file {path} not found; pass scores:PATH with a CSV of text_id,score")
    try:
        table = pd.read_csv(path, dtype={"text_id": str}, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text; re-save it as UTF-8") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(f"{path} is not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in ("text_id", "score") if c not in table.columns]
    if missing:
        raise UserError(f"{path} lacks column(s) {', '.join(missing)}; expected a CSV with header text_id,score")
    values = pd.to_numeric(table["score"], errors="coerce")
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise UserError(f"{path} row {row + 2}: score {table['score'].iloc[row]!r} is not a number")
    lookup = pd.Series(values.to_numpy(), index=table["text_id"].to_numpy())
    repeated = lookup.groupby(level=0).nunique() > 1
    if repeated.any():
        first = repeated.index[repeated.to_numpy()][0]
        rows = [int(i) + 2 for i in np.flatnonzero(table["text_id"].to_numpy() == first)]
        raise UserError(f"{path}: text_id {first} has different scores on rows {', '.join(map(str, rows))}; "
                        "give each text_id one score")
    lookup = lookup[~lookup.index.duplicated()]

    def score(inputs: pd.DataFrame, *, quiet: bool = False) -> np.ndarray:
        ids = [text_id(p, t) for p, t in zip(inputs["prompt"], inputs["text"])]
        found = lookup.reindex(ids).to_numpy()
        if np.isnan(found).any():
            first = ids[int(np.flatnonzero(np.isnan(found))[0])]
            raise UserError(f"{path} has no score for {int(np.isnan(found).sum())} of {len(ids)} texts "
                            f"(first: {first}); score every text_id listed in texts.parquet")
        return found

    return Scorer(f"scores:{path.stem}", "prompt", score, lambda: f"precomputed scores from {path.name}")


# ------------------------------------------------------------------------------------------ optional adapters


def _comet_scorer(model_name: str, *, batch_size: int = 16) -> Scorer:
    try:
        from comet import download_model, load_from_checkpoint
    except ImportError:
        raise UserError(f"scorer comet:{model_name} needs the comet extra: "
                        "pip install 'trenchcoat-pipeline[comet]'") from None
    try:
        checkpoint = model_name if Path(model_name).is_file() else download_model(model_name)
        model = load_from_checkpoint(checkpoint)
    except Exception as exc:  # hub, network, checkpoint and licence-gating errors all mean "no weights"
        raise UserError(f"could not load COMET model {model_name} ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); it needs the Hugging Face hub "
                        "or a local checkpoint path") from None

    def score(inputs: pd.DataFrame, *, quiet: bool = False) -> np.ndarray:
        import torch

        data = [{"src": p, "mt": t, **({"ref": r[0]} if len(r) else {})}
                for p, t, r in zip(inputs["prompt"], inputs["text"], inputs["references"])]
        gpus = 1 if torch.cuda.is_available() else 0
        return np.asarray(model.predict(data, batch_size=batch_size, gpus=gpus, progress_bar=not quiet).scores)

    return Scorer(f"comet:{model_name}", "prompt+references", score, lambda: f"COMET {model_name}", model=True)


def _reward_model_scorer(model_name: str, *, batch_size: int = 8) -> Scorer:
    try:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
    except ImportError:
        raise UserError(f"scorer rm:{model_name} needs the rm extra: pip install 'trenchcoat-pipeline[rm]'") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_name)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = AutoModelForSequenceClassification.from_pretrained(model_name).eval().to(device)
    except Exception as exc:  # OSError from the hub, ValueError for a non-classification checkpoint
        raise UserError(f"could not load reward model {model_name} ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); it needs the Hugging Face hub "
                        "or a local model directory") from None

    def chat(prompt: str, text: str) -> str:
        if tokenizer.chat_template:
            messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": text}]
            return tokenizer.apply_chat_template(messages, tokenize=False)
        return f"{prompt}\n{text}"

    def score(inputs: pd.DataFrame, *, quiet: bool = False) -> np.ndarray:
        from tqdm import tqdm  # here, not at the top: only the model scorers show a bar

        texts = [chat(p, t) for p, t in zip(inputs["prompt"], inputs["text"])]
        # a chat template writes the model's special tokens itself (BOS, CLS …): adding them again would double them
        special = not tokenizer.chat_template
        out = []
        for start in tqdm(range(0, len(texts), batch_size), disable=quiet, desc="rm", leave=False):
            batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True, truncation=True,
                              add_special_tokens=special)
            with torch.no_grad():
                out.append(model(**batch.to(device)).logits[:, 0].float().cpu().numpy())
        return np.concatenate(out) if out else np.array([])

    return Scorer(f"rm:{model_name}", "prompt", score, lambda: f"reward model {model_name} (first logit)",
                  model=True)


def make_scorer(spec: str) -> Scorer:
    """The scorer named by ``spec`` (see the module docstring); unknown names are a user error."""
    kind, _, argument = spec.partition(":")
    if spec in {"bleu", "chrf", "ter"}:
        return _sacrebleu_scorer(spec)
    if spec in {"longer", "shorter"}:
        return _length_scorer(spec, 1.0 if spec == "longer" else -1.0)
    if kind == "scores" and argument:
        return _precomputed_scorer(Path(argument))
    if kind == "comet" and argument:
        return _comet_scorer(argument)
    if kind == "rm" and argument:
        return _reward_model_scorer(argument)
    raise UserError(f"unknown scorer {spec!r}; known: {KNOWN_SCORERS}")
