#!/usr/bin/env python3
"""Fit the three tempering constants of the differential by maximum likelihood.

Usage: fit_calibration.py SET.jsonl[.gz] [--every N]

The differential weighs the summed ``log10`` likelihood ratio of ``n`` present findings by
``temper / (1 + (n - 1) * dependence)`` and that of ``m`` exclusions by
``temper / (1 + (m - 1) * exclusion_dependence)``
(:meth:`contraxis.differential.parameters.ModelParameters.evidence_weight`). For every
phenopacket of SET (every Nth with ``--every``) whose diagnosis the index knows, this script
scores the case once, then computes, for each point of a grid of the three constants, the
log-likelihood of the diagnosis under the post-test probabilities those constants give; it
prints the best points with the expected calibration error of the first row's probability
(over every case, a diagnosis the index does not know counting as wrong) and the top-1 and
top-10 share. The constants in ``parameters.py`` are the best point on the broad development
set; nothing else in the model is fitted.

Run from the repository with its virtual environment: ``.venv/bin/python tools/fit_calibration.py
../shared/benchmarks/phenopackets-all-dev.jsonl.gz``.
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np

TEMPERS = (0.6, 0.8, 1.0, 1.2, 1.5)
DEPENDENCES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.7)
EXCLUSION_DEPENDENCES = (0.03, 0.05, 0.1, 0.15, 0.2, 0.3)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", help="phenopackets with known diagnoses (JSON Lines, gzipped or not)")
    parser.add_argument("--every", type=int, default=1, help="use every Nth case (default: all)")
    args = parser.parse_args(argv[1:])

    from contraxis.differential import load_index
    from contraxis.differential.ranking import score_case
    from contraxis.io.phenopacket import iter_phenopackets

    index = load_index()
    grid = list(itertools.product(TEMPERS, DEPENDENCES, EXCLUSION_DEPENDENCES))
    tau = np.array([g[0] for g in grid])[:, None]
    rho = np.array([g[1] for g in grid])[:, None]
    rho_x = np.array([g[2] for g in grid])[:, None]
    loglik = np.zeros(len(grid))
    known = 0
    confidence: list[np.ndarray] = []
    correct: list[np.ndarray] = []
    top1 = np.zeros(len(grid))
    top10 = np.zeros(len(grid))
    for i, imported in enumerate(iter_phenopackets(args.set)):
        if i % args.every:
            continue
        read, _, scores = score_case(imported.case, index=index, onset_term=imported.onset_term)
        findings = scores.present.sum(axis=0) + scores.onset + scores.unmentioned
        absent = scores.excluded.sum(axis=0)
        fixed = index.log_prior + scores.facts
        n, m = len(read.evidence.present), len(read.evidence.excluded) + len(read.evidence.excluded_by_test)
        weight = tau / (1 + max(n - 1, 0) * rho)
        weight_x = tau / (1 + max(m - 1, 0) * rho_x)
        log_odds = fixed[None, :] + weight * findings[None, :] + weight_x * absent[None, :]
        top = log_odds.max(axis=1)
        norm = np.log10(np.power(10.0, log_odds - top[:, None]).sum(axis=1)) + top
        first = log_odds.argmax(axis=1)
        confidence.append(np.power(10.0, top - norm))
        targets = [index.disease_position[d.id] for d in imported.diagnoses if d.id in index.disease_position]
        correct.append(np.isin(first, targets))
        if targets:
            known += 1
            best = np.max(log_odds[:, targets], axis=1)
            loglik += (best - norm) * np.log(10)
            above = (log_odds > best[:, None]).sum(axis=1)
            top1 += above < 1
            top10 += above < 10
    p = np.array(confidence).T
    y = np.array(correct).T.astype(float)
    bins = np.minimum((p * 10).astype(int), 9)
    ece = np.zeros(len(grid))
    for b in range(10):
        inside = bins == b
        count = inside.sum(axis=1)
        with np.errstate(invalid="ignore"):
            gap = np.abs((p * inside).sum(axis=1) - (y * inside).sum(axis=1))
        ece += np.where(count > 0, gap, 0.0) / p.shape[1]
    order = np.argsort(-loglik)
    print(f"{known} cases with a known diagnosis, {p.shape[1]} cases in all")
    print("temper dependence exclusion_dependence  mean log-likelihood   ECE  top-1  top-10")
    for j in order[:10]:
        t, r, rx = grid[j]
        print(f"{t:6.2f} {r:10.2f} {rx:20.2f} {loglik[j] / known:20.3f} {ece[j]:5.3f} {top1[j] / known:6.3f} "
              f"{top10[j] / known:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
