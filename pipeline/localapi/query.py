"""The subset of S2 bulk-search query syntax the local server understands, evaluated over all papers at once.

Syntax (as documented for ``/paper/search/bulk``): terms are ANDed by default; ``+`` is AND, ``|`` is OR,
a leading ``-`` negates a term or group, ``"…"`` is a phrase, a trailing ``*`` is a prefix match,
parentheses group, ``~N`` (fuzziness / slop) is accepted and ignored. Precedence: ``-`` over AND over OR.
Matching is case-insensitive on whole words of title + abstract (the real service also stems; we don't).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

_TOKEN = re.compile(r'\s*(?:(?P<phrase>"[^"]*"?)|(?P<op>[()|+])|(?P<neg>-)(?=[\w"(])|(?P<word>[^\s()|"]+))')


class QuerySyntaxError(ValueError):
    """The query cannot be parsed (unbalanced parentheses or quotes, a dangling operator)."""


def tokenize(query: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    query = query.strip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if not match or match.end() == pos:
            raise QuerySyntaxError(f"cannot parse query at {query[pos:]!r}")
        pos = match.end()
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "word":
            text = re.sub(r"~\d*$", "", text).strip("+")
            if not text:
                continue
        if kind == "phrase":
            if len(text) < 2 or not text.endswith('"'):
                raise QuerySyntaxError("unbalanced quote in query")
            text = re.sub(r"~\d*$", "", text[1:-1])
        tokens.append((kind, text))
    return tokens


def parse(query: str):
    """The query as a tree: ("or"|"and", [children]) | ("not", child) | ("term"|"prefix"|"phrase", text)."""
    tokens = tokenize(query)
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else (None, None)

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def expr():
        parts = [conjunction()]
        while peek() == ("op", "|"):
            take()
            parts.append(conjunction())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conjunction():
        parts = [unary()]
        while True:
            kind, text = peek()
            if (kind, text) == ("op", "+"):
                take()
                parts.append(unary())
            elif kind in ("word", "phrase", "neg") or (kind, text) == ("op", "("):
                parts.append(unary())
            else:
                break
        return parts[0] if len(parts) == 1 else ("and", parts)

    def unary():
        kind, text = peek()
        if kind == "neg":
            take()
            return ("not", unary())
        if (kind, text) == ("op", "+"):
            take()
            return unary()
        if (kind, text) == ("op", "("):
            take()
            inner = expr()
            if peek() != ("op", ")"):
                raise QuerySyntaxError("unbalanced parenthesis in query")
            take()
            return inner
        if kind == "word":
            take()
            return ("prefix", text[:-1].lower()) if text.endswith("*") else ("term", text.lower())
        if kind == "phrase":
            take()
            return ("phrase", text.lower())
        raise QuerySyntaxError(f"unexpected {text!r} in query" if text else "query ends with an operator")

    if not tokens:
        raise QuerySyntaxError("empty query")
    tree = expr()
    if pos != len(tokens):
        raise QuerySyntaxError(f"unexpected {tokens[pos][1]!r} in query")
    return tree


def _pattern(kind: str, text: str) -> str:
    words = re.findall(r"\w+", text)
    if not words:
        return r"(?!)"
    body = r"\W+".join(re.escape(w) for w in words)
    return rf"\b{body}\w*" if kind == "prefix" else rf"\b{body}\b"


class Matcher:
    """Evaluates queries over a fixed corpus of documents, caching each term's match vector."""

    def __init__(self, documents: pd.Series):
        self._docs = documents.fillna("").str.lower()
        self._term = lru_cache(maxsize=512)(self._match_term)

    def _match_term(self, kind: str, text: str) -> np.ndarray:
        return self._docs.str.contains(_pattern(kind, text), regex=True).to_numpy(bool)

    def match(self, query: str) -> np.ndarray:
        """Boolean vector: which documents match ``query`` (raises :class:`QuerySyntaxError`)."""
        return self._eval(parse(query))

    def _eval(self, node) -> np.ndarray:
        kind, arg = node
        if kind == "or":
            return np.logical_or.reduce([self._eval(c) for c in arg])
        if kind == "and":
            return np.logical_and.reduce([self._eval(c) for c in arg])
        if kind == "not":
            return ~self._eval(arg)
        return self._term(kind, arg)
