"""Benchmark: generate a large synthetic literature (default 100k papers, ~1M citations) and serve it.

Prints generation time, peak resident memory, the realised sizes, the largest reference and citation lists
(pagination / the 9,999 cap), and how long the local server takes to index the literature and answer a
batch and a references request. Target: < 30 s and < 2 GiB for 100k papers / 1M citations.

    python benchmarks/bench_synth.py [--papers 100000] [--mean-refs 10] [--seed 0]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import httpx

from pipeline.localapi.server import LocalS2Server
from pipeline.localapi.synth import SynthParams, generate


def peak_rss_mib() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--mean-refs", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    literature = generate(SynthParams(seed=args.seed, n_papers=args.papers, mean_refs=args.mean_refs))
    generation = time.perf_counter() - start
    generation_rss = peak_rss_mib()
    papers, truth = literature.papers, literature.truth
    print(f"generate: {len(papers):,} papers, {len(literature.citations):,} citations in {generation:.1f} s, "
          f"peak RSS {generation_rss:,.0f} MiB")
    print(f"  duplicate draws dropped: {truth['duplicate_draws']:,} of {truth['reference_draws']:,} "
          f"({truth['duplicate_draws'] / truth['reference_draws']:.2%})")
    print(f"  max reference_count {int(papers.reference_count.max()):,}, "
          f"max citation_count {int(papers.citation_count.max()):,}, "
          f"papers over the 9,999 citation cap: {int((papers.citation_count > 9_999).sum())}")

    start = time.perf_counter()
    with LocalS2Server(literature) as server, httpx.Client(base_url=server.url + "/graph/v1", timeout=60) as api:
        indexing = time.perf_counter() - start
        ids = papers.paper_id.tolist()[:500]
        start = time.perf_counter()
        assert api.post("/paper/batch", params={"fields": "title,year,externalIds,referenceCount"},
                        json={"ids": ids}).status_code == 200
        batch = time.perf_counter() - start
        survey = papers.paper_id[papers.reference_count.astype(int).idxmax()]
        start = time.perf_counter()
        assert api.get(f"/paper/{survey}/references",
                       params={"fields": "title,year,isInfluential,intents", "limit": 1000}).status_code == 200
        references = time.perf_counter() - start
        start = time.perf_counter()
        total = api.get("/paper/search/bulk", params={"query": '"reward models" | RLHF', "year": "2023"}).json()["total"]
        search = time.perf_counter() - start
    print(f"serve: index {indexing:.1f} s; batch of 500 {batch * 1000:.0f} ms; 1,000 references "
          f"{references * 1000:.0f} ms; bulk search ({total:,} hits) {search * 1000:.0f} ms; "
          f"peak RSS {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
