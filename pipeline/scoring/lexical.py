"""sacrebleu's sentence-level BLEU, chrF and TER, scored for a whole corpus at once.

sacrebleu's ``sentence_score(text, refs)`` re-extracts the references' n-grams on every call, and counts matches in a
Python loop over the text's n-grams (``CHRF._get_match_statistics``, ``BLEU._compute_segment_statistics``); caching
the references (``CHRF(references=...)``) still leaves that loop, text by text (TED zh-en, 4,418 distinct outputs:
0.97 s CPU for chrF that way, 0.21 s here). Here the *integer* statistics those loops produce —
per n-gram order, the text's n-grams, the reference's, and Σ_g min(count in text, count in reference) — are
counted for every text of the corpus at once with sorted integer keys (:func:`ngram_matches`), and the score is then
computed from them exactly as sacrebleu does:

- chrF: the F-score of every (text, reference) and the best reference per text, in float operations in the same
  order as ``CHRF._compute_f_score`` (only +, −, ×, /, so bit-identical in numpy); chrF's configuration is read
  from sacrebleu's own ``CHRF()`` defaults (chrF2, character 6-grams, spaces removed, no word n-grams);
- BLEU: texts and references are tokenised by sacrebleu's own tokenizer (``13a``; ``zh`` for Chinese, ``char``
  for Japanese/Korean/Thai), reference counts merged by the maximum over references and the closest reference length
  chosen as sacrebleu does, and each score is sacrebleu's public ``BLEU.compute_bleu`` of those statistics
  (``exp``/``log`` stay libm's);
- TER has no n-gram statistics to share and is scored text by text (each segment's references cached once); it
  is the slow one (milliseconds per text), so its segments are spread over the cores (:func:`ter_scores`).

The tests check every score equals ``sentence_score``'s (hand-picked and random texts, several references, empty
texts), and the benchmark checks all 137,944 TED zh-en scores equal the plain script's. Each of chrF and BLEU runs
in one process (vectorised, a corpus takes a fraction of a second, less than splitting it over forked workers and
pickling their results would cost); :func:`pipeline.scoring.scorers.score_all` runs the two side by side.
"""

from __future__ import annotations

import itertools
import logging
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.scoring import parallel

log = logging.getLogger(__name__)

KINDS = ("bleu", "chrf", "ter")

Group = tuple[str, tuple[str, ...], list[str]]
"""(target language, references, texts) — one segment's distinct outputs."""


def target_language(language: str) -> str:
    """``zh-en`` → ``en``; ``""`` stays ``""``."""
    return language.split("-")[-1] if language else ""


def build_metric(kind: str, target: str, references: Sequence[Sequence[str]] | None = None):
    """The sacrebleu metric object for ``kind`` and a target language: BLEU with effective order (as sacrebleu's
    ``sentence_bleu``) and the ``zh`` tokenizer for Chinese, ``char`` for Japanese/Korean/Thai, ``13a`` otherwise;
    chrF with its defaults (chrF2, character 6-grams); TER with ``asian_support`` for zh/ja/ko. ``references``
    (sacrebleu's layout: one stream per reference) are cached by the metric."""
    from sacrebleu.metrics import BLEU, CHRF, TER

    if kind == "bleu":
        tokenize = "zh" if target == "zh" else "char" if target in {"ja", "ko", "th"} else "13a"
        return BLEU(effective_order=True, tokenize=tokenize, references=references)
    if kind == "chrf":
        return CHRF(references=references)
    return TER(asian_support=target in {"zh", "ja", "ko"}, references=references)


# ------------------------------------------------------------------------------------------ n-gram statistics


def _bits(count: int) -> int:
    """Bits that hold the numbers 0 … count − 1."""
    return max(1, (count - 1).bit_length())


def ngram_matches(texts: list[np.ndarray], text_group: np.ndarray, references: list[list[np.ndarray]],
                  symbols: int, max_order: int, *, merge_references: bool) -> list[np.ndarray]:
    """Clipped n-gram matches of every text against its group's references, for n = 1 … ``max_order``.

    ``texts`` and ``references`` are sequences of symbol numbers 0 … ``symbols`` − 1 (characters, tokens); text t belongs to group
    ``text_group[t]``, whose references are ``references[text_group[t]]``. Returns one array per order n of
    Σ_g min(c_t(g), c_r(g)) over the order-n n-grams g, c being counts in a sequence: shape (texts, references)
    with r each reference of the group (missing ones count 0; chrF), or, with ``merge_references``, shape (texts,)
    with c_r the maximum count over the group's references (BLEU's merged reference counts).

    How: an n-gram is numbered exactly by packing its symbols' numbers into an int64 (id_n = id_{n−1} · 2^b + its
    last symbol; the ids are renumbered densely when the next order would not fit beside the
    owner's number), so equal n-grams get equal ids and no others do; counts come from np.unique over
    (owner, id) keys, and each text's n-grams find their references' counts by a hash lookup of (group, id).
    """
    slots = max((len(refs) for refs in references), default=0)
    shape = (len(texts),) if merge_references else (len(texts), slots)
    out = [np.zeros(shape, dtype=np.int64) for _ in range(max_order)]
    flat_refs = [ref for refs in references for ref in refs]
    sequences = list(texts) + flat_refs
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    if not len(texts) or not flat_refs or not lengths.sum():
        return out
    codes = np.concatenate(sequences).astype(np.int64)
    symbol_bits = _bits(symbols)
    # the owner of a position: a text's own number, a reference's group (its slot kept beside)
    ref_group = np.repeat(np.arange(len(references)), [len(refs) for refs in references])
    ref_slot = np.concatenate([np.arange(len(refs)) for refs in references])
    owner = np.repeat(np.concatenate([np.arange(len(texts)), ref_group]), lengths)
    slot_of = np.repeat(np.concatenate([np.zeros(len(texts), dtype=np.int64), ref_slot]), lengths)
    is_text = np.repeat(np.arange(len(sequences)) < len(texts), lengths)
    left = np.repeat(np.cumsum(lengths), lengths) - np.arange(len(codes))  # symbols from here to the sequence end
    room = 63 - _bits(max(len(texts), len(references)))
    ids, id_bits = codes, symbol_bits
    for n in range(1, max_order + 1):
        if n > 1:
            if id_bits + symbol_bits > room:
                ids = np.unique(ids, return_inverse=True)[1].astype(np.int64)
                id_bits = _bits(int(ids.max()) + 1)
            ids = (ids[:-1] << symbol_bits) | codes[n - 1:]
            id_bits += symbol_bits
        valid = left[:len(ids)] >= n  # windows inside one sequence
        text_keys, text_counts = np.unique((owner[:len(ids)] << id_bits | ids)[valid & is_text[:len(ids)]],
                                           return_counts=True)
        in_ref = valid & ~is_text[:len(ids)]
        if not in_ref.any() or not len(text_keys):
            continue
        ref_keys, where = np.unique((owner[:len(ids)] << id_bits | ids)[in_ref], return_inverse=True)
        ref_counts = np.bincount(where * slots + slot_of[:len(ids)][in_ref],
                                 minlength=len(ref_keys) * slots).reshape(len(ref_keys), slots)
        text = text_keys >> id_bits
        query = (text_group[text] << id_bits) | (text_keys & ((1 << id_bits) - 1))
        found = pd.Index(ref_keys).get_indexer(query)  # a hash lookup: binary search of unsorted keys is slower
        hit = np.flatnonzero(found >= 0)  # n-grams of a text that its references have
        text, text_counts, counts = text[hit], text_counts[hit], ref_counts[found[hit]]
        if merge_references:
            out[n - 1] = np.bincount(text, np.minimum(text_counts, counts.max(axis=1)),
                                     minlength=len(texts)).astype(np.int64)
        else:
            for j in range(slots):
                out[n - 1][:, j] = np.bincount(text, np.minimum(text_counts, counts[:, j]),
                                               minlength=len(texts)).astype(np.int64)
    return out


def _numbered_characters(strings: list[str]) -> tuple[list[np.ndarray], int]:
    """Each string as an array of numbers, one per distinct character (code point; lone surrogates, which JSON can
    carry, included), and how many distinct characters there are."""
    points = np.frombuffer("".join(strings).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    present = np.bincount(points) > 0 if len(points) else np.zeros(1, dtype=bool)
    number = np.cumsum(present) - 1
    ends = np.cumsum([len(string) for string in strings])[:-1]
    return np.split(number[points], ends) if strings else [], int(present.sum())


def chrf_scores(groups: list[Group]) -> list[list[float]]:
    """sacrebleu's sentence chrF (its ``CHRF()`` defaults) of every group's texts against the group's references."""
    if not groups:
        return []
    metric = build_metric("chrf", "")
    if metric.word_order or metric.eps_smoothing:
        raise NotImplementedError("sacrebleu's CHRF() defaults changed (word n-grams or eps smoothing): "
                                  "pipeline.scoring.lexical.chrf_scores implements chrF2 without them")

    def prepared(text: str) -> str:  # CHRF._preprocess_segment, then extract_all_char_ngrams's cleaning
        text = text.lower() if metric.lowercase else text
        return text if metric.whitespace else "".join(text.split())

    n_texts = sum(len(group) for _, _, group in groups)
    sequences, symbols = _numbered_characters([prepared(text) for _, _, group in groups for text in group]
                                              + [prepared(reference) for _, refs, _ in groups for reference in refs])
    texts = sequences[:n_texts]
    references = _split(sequences[n_texts:], [len(refs) for _, refs, _ in groups])
    text_group = np.repeat(np.arange(len(groups)), [len(group) for _, _, group in groups])
    matches = ngram_matches(texts, text_group, references, symbols, metric.char_order, merge_references=False)
    slots = matches[0].shape[1]
    text_length = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    ref_length = np.full((len(groups), slots), -1, dtype=np.int64)  # −1: no such reference
    for g, refs in enumerate(references):
        ref_length[g, :len(refs)] = [len(ref) for ref in refs]
    ref_length = ref_length[text_group]
    scores = np.full((len(texts), slots), -1.0)  # a missing reference never wins
    present = ref_length >= 0
    scores[present] = _chrf_f_scores(metric.beta, matches, text_length, ref_length)[present]
    return _regroup(scores.max(axis=1), groups)


def _chrf_f_scores(beta: float, matches: list[np.ndarray], text_length: np.ndarray,
                   ref_length: np.ndarray) -> np.ndarray:
    """``CHRF._compute_f_score`` (sacrebleu 2.x, no eps smoothing) of every (text, reference): the same float
    operations in the same order, so the same numbers to the last bit."""
    factor = beta ** 2
    avg_prec = np.zeros(ref_length.shape)
    avg_rec = np.zeros(ref_length.shape)
    effective_order = np.zeros(ref_length.shape, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for n, n_match in enumerate(matches, 1):
            n_ref = np.maximum(ref_length - n + 1, 0)
            n_hyp = np.where(n_ref > 0, np.maximum(text_length - n + 1, 0)[:, None], 0)  # 0 without ref n-grams
            both = (n_hyp > 0) & (n_ref > 0)
            avg_prec = np.where(both, avg_prec + n_match / n_hyp, avg_prec)
            avg_rec = np.where(both, avg_rec + n_match / n_ref, avg_rec)
            effective_order += both
        avg_prec = np.where(effective_order > 0, avg_prec / effective_order, 0.0)
        avg_rec = np.where(effective_order > 0, avg_rec / effective_order, 0.0)
        score = (1 + factor) * avg_prec * avg_rec
        score = score / ((factor * avg_prec) + avg_rec)
        return np.where(avg_prec + avg_rec != 0, 100 * score, 0.0)


def bleu_scores(groups: list[Group]) -> list[list[float]]:
    """sacrebleu's sentence BLEU (:func:`build_metric`'s tokenizer per target language, effective order, exp
    smoothing) of every group's texts against the group's references."""
    if not groups:
        return []
    metrics = {target: build_metric("bleu", target) for target in dict.fromkeys(target for target, _, _ in groups)}
    # what BLEU does to hypotheses and references alike (per target language), then one number per distinct token
    segments = [(target, text) for target, _, group in groups for text in group]
    n_texts = len(segments)
    segments += [(target, reference) for target, refs, _ in groups for reference in refs]
    words: list[list[str] | None] = [None] * len(segments)
    for target, metric in metrics.items():
        where = [i for i, (t, _) in enumerate(segments) if t == target]
        for i, tokens in zip(where, _bleu_tokens(metric, [segments[i][1] for i in where])):
            words[i] = tokens
    sequences, symbols = _numbered(words)
    texts, references = sequences[:n_texts], _split(sequences[n_texts:], [len(refs) for _, refs, _ in groups])
    text_group = np.repeat(np.arange(len(groups)), [len(group) for _, _, group in groups])
    order = next(iter(metrics.values())).max_ngram_order
    correct = ngram_matches(texts, text_group, references, symbols, order, merge_references=True)
    text_length = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    # the closest reference length, the shorter one on a tie (BLEU._get_closest_ref_len)
    ref_lengths = [[len(ref) for ref in refs] for refs in references]
    closest = [min(lengths, key=lambda r, h=h: (abs(h - r), r))
               for h, lengths in zip(text_length.tolist(), (ref_lengths[g] for g in text_group.tolist()))]
    total = [np.maximum(text_length - n + 1, 0) for n in range(1, order + 1)]
    correct_rows, total_rows = np.stack(correct, axis=1).tolist(), np.stack(total, axis=1).tolist()
    targets = [target for target, _, group in groups for _ in group]
    scores = []
    for target, hits, counts, length, ref_length in zip(targets, correct_rows, total_rows, text_length.tolist(),
                                                        closest):
        metric = metrics[target]
        scores.append(metric.compute_bleu(hits, counts, length, ref_length, smooth_method=metric.smooth_method,
                                          smooth_value=metric.smooth_value, effective_order=metric.effective_order,
                                          max_ngram_order=order).score)
    return _regroup(np.asarray(scores), groups)


_13A_RULES = [(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])", r" \1 "), (r"([^0-9])([\.,])", r"\1 \2 "),
              (r"([\.,])([^0-9])", r" \1 \2"), (r"([0-9])(-)", r"\1 \2 ")]
"""sacrebleu 2.x's ``TokenizerRegexp`` rules (the ``13a`` tokenizer's second half), as :func:`_bleu_tokens`
expects them."""
_13A_ENTITIES = (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"))


def _bleu_tokens(metric, texts: list[str]) -> list[list[str]]:
    """``metric._preprocess_segment(text).split()`` of every text: sacrebleu's own call, except for its default
    ``13a`` tokenizer, whose work is done for all texts at once with the same rules.

    Why: ``13a`` runs four regex substitutions per text with template replacements, and Python expands the
    template match by match (TED zh-en: 130,000 matches, 0.3 s — the slowest part of BLEU here). The first rule
    puts spaces around every character of one class: that is ``str.translate`` (a table built from the compiled
    rule itself). The other three (periods, commas, dashes; few matches) run once over the texts joined by
    newlines. Every text is padded with a space on both sides as ``13a`` pads it, and no rule can match a newline
    next to a space or a space next to a newline across a join (rule 2 needs ``.``/``,`` after the newline, rule 3
    before it), so no match spans two texts and each text is rewritten as on its own. Any other tokenizer, or
    ``13a`` rules not exactly :data:`_13A_RULES` (another sacrebleu), take sacrebleu's call text by text."""
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    tokenizer = metric.tokenizer
    rules = getattr(getattr(tokenizer, "_post_tokenizer", None), "_re", None)
    if type(tokenizer) is not Tokenizer13a or [(p.pattern, r) for p, r in rules or []] != _13A_RULES:
        return [metric._preprocess_segment(text).split() for text in texts]
    spaced = {i: f" {chr(i)} " for i in range(128) if rules[0][0].fullmatch(chr(i))}
    lines = []
    for text in texts:  # BLEU._preprocess_segment, then Tokenizer13a.__call__'s language-independent part
        text = (text.lower() if metric.lowercase else text).rstrip()
        text = text.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
        if "&" in text:
            for entity, character in _13A_ENTITIES:
                text = text.replace(entity, character)
        lines.append(text)
    joined = (" " + " \n ".join(lines) + " ").translate(spaced)
    for pattern, replacement in rules[1:]:
        joined = pattern.sub(replacement, joined)
    return [line.split() for line in joined.split("\n")] if texts else []


TER_PARALLEL_FROM = 100
"""TER of fewer texts than this is scored in-process (sacrebleu's TER takes milliseconds per text, a fork tens)."""


def ter_scores(groups: list[Group], *, workers: int | None = None, quiet: bool = False) -> list[list[float]]:
    """sacrebleu's sentence TER of every group's texts, each segment's references cached once (sacrebleu's public
    ``TER(references=...)``; a one-sentence corpus score is the sentence score). The slowest sacrebleu metric by
    far, so the groups are split into contiguous chunks of about equal size, scored in ``workers`` processes
    (default: :func:`~pipeline.scoring.parallel.available_cores`) and put back in order: the scores do not depend
    on the number of workers."""
    from tqdm import tqdm

    total = sum(len(texts) for _, _, texts in groups)
    workers = 1 if total < TER_PARALLEL_FROM else parallel.available_cores() if workers is None else workers
    chunks = _chunks(groups, 4 * workers if workers > 1 else min(len(groups), 20))
    out: list[list[float]] = []
    with tqdm(total=total, disable=quiet, desc="ter", unit="text", leave=False) as bar:
        for scored in parallel.ordered_map(_ter_chunk, chunks, workers=workers):
            out.extend(scored)
            bar.update(sum(map(len, scored)))
    return out


def _ter_chunk(groups: list[Group]) -> list[list[float]]:
    out = []
    for target, references, texts in groups:
        metric = build_metric("ter", target, [[reference] for reference in references])
        out.append([metric.corpus_score([text], None).score for text in texts])
    return out


def _chunks(groups: list[Group], parts: int) -> list[list[Group]]:
    """Contiguous runs of ``groups`` with about the same number of texts each."""
    total = sum(len(texts) for _, _, texts in groups)
    chunks, current, size = [], [], 0
    for group in groups:
        current.append(group)
        size += len(group[2])
        if size >= total * (len(chunks) + 1) / parts:
            chunks.append(current)
            current = []
    return chunks + ([current] if current else [])


def _numbered(sequences: list[list[str]]) -> tuple[list[np.ndarray], int]:
    """Each sequence of strings as an array of numbers, one per distinct string, and how many there are."""
    flat = list(itertools.chain.from_iterable(sequences))
    number = {word: i for i, word in enumerate(dict.fromkeys(flat))}
    ids = np.fromiter(map(number.__getitem__, flat), dtype=np.int64, count=len(flat))
    return np.split(ids, np.cumsum([len(sequence) for sequence in sequences])[:-1]) if sequences else [], len(number)


def _split(items: list, sizes: list[int]) -> list[list]:
    ends = itertools.accumulate(sizes)
    return [items[end - size:end] for size, end in zip(sizes, ends)]


def _regroup(flat: np.ndarray, groups: list[Group]) -> list[list[float]]:
    ends = np.cumsum([len(texts) for _, _, texts in groups])
    return [part.tolist() for part in np.split(flat, ends[:-1])] if len(groups) else []




class SacrebleuScores:
    """Scores distinct inputs (``text``, ``references``, ``language``) with one sacrebleu metric; remembers the
    reference counts and target languages it saw, for :meth:`signature`."""

    def __init__(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown sacrebleu metric {kind!r}")
        self.kind = kind
        self.sign = -1.0 if kind == "ter" else 1.0  # TER is an error rate: negate so higher is better
        self.seen: dict[str, set[int]] = {}

    def __call__(self, texts: Sequence[str], references: Sequence[Sequence[str]], languages: Sequence[str], *,
                 quiet: bool = False) -> np.ndarray:
        out = np.full(len(texts), np.nan)
        positions: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        for i, (refs, language) in enumerate(zip(references, languages)):
            if len(refs):
                positions.setdefault((target_language(language), tuple(refs)), []).append(i)
        groups = [(target, refs, [texts[i] for i in where]) for (target, refs), where in positions.items()]
        scores = ter_scores(groups, quiet=quiet) if self.kind == "ter" else \
            (bleu_scores if self.kind == "bleu" else chrf_scores)(groups)
        for (target, refs), where, scored in zip(positions, positions.values(), scores):
            out[where] = scored
            self.seen.setdefault(target, set()).add(len(refs))
        missing = np.isnan(out)
        if missing.any():
            without = sorted({languages[i] or "no language" for i in np.flatnonzero(missing)})
            log.warning("%s: %d of %d outputs have no human reference (%s) and are left out of its accuracy; "
                        "use a reference-free scorer for those", self.kind, int(missing.sum()), len(out),
                        ", ".join(without))
        return self.sign * out

    def signature(self) -> str:
        """sacrebleu's signature of the metric per target language it scored (``nrefs:var`` when segments had
        different numbers of references)."""
        parts = []
        for target, counts in self.seen.items():
            metric = build_metric(self.kind, target)
            metric.num_refs = next(iter(counts)) if len(counts) == 1 else -1  # what sacrebleu's own caching records
            parts.append(metric.get_signature().format())
        used = " ; ".join(parts) or "not run"
        return f"sacrebleu sentence-level {used}{' (negated)' if self.kind == 'ter' else ''}"
