"""The search: CMA-ES (Hansen 2016, "The CMA Evolution Strategy: A Tutorial") over the unit cube of the
search space, from the chain's own values, with the ``cmaes`` package (the ``calibrate`` extra)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from .space import SearchSpace

EXTRA_HINT = "pip install 'degrade_stream[calibrate]' (or: pip install cmaes)"


def import_cmaes() -> Any:
    """The ``cmaes`` module, or an error naming the extra that provides it."""
    try:
        import cmaes
    except ImportError:
        raise ImportError(f"calibrate needs the optional package 'cmaes': {EXTRA_HINT}") from None
    return cmaes


@dataclass
class SearchResult:
    """The best point, its score terms, the start's terms, and every candidate evaluated (in order)."""

    best: np.ndarray
    best_terms: dict[str, float]
    start_terms: dict[str, float]
    evaluated: int
    history: list[float] = field(default_factory=list)
    configs: list[dict[str, Any]] = field(default_factory=list, repr=False)


def search(space: SearchSpace, score: Callable[[dict[str, Any]], dict[str, float]], budget: int, seed: int,
           sigma: float = 0.2, progress: bool = True, keep_configs: bool = False) -> SearchResult:
    """Minimise ``score(config)["objective"]`` over ``budget`` candidates (the first is the chain itself).

    CMA-ES samples inside [0, 1]^d (``bounds``; the decoder clips too). A candidate that decodes to a
    config already scored (values are rounded) reuses its score. ``cmaes`` needs two coordinates or more,
    so a one-coordinate space gets an inert second one.
    """
    cmaes = import_cmaes()
    start = space.encode()
    pad = start.size < 2
    mean = np.append(start, 0.5) if pad else start
    optimizer = cmaes.CMA(mean=mean, sigma=sigma, bounds=np.tile([0.0, 1.0], (mean.size, 1)), seed=seed)
    cache: dict[str, dict[str, float]] = {}
    configs: list[dict[str, Any]] = []

    def evaluate(point: np.ndarray) -> dict[str, float]:
        config = space.config_for(point[:start.size])
        if keep_configs:
            configs.append(config)
        key = json.dumps(config, sort_keys=True)
        if key not in cache:
            cache[key] = score(config)
        return cache[key]

    bar = tqdm(total=budget, desc="calibrate", unit="candidate", disable=not progress, dynamic_ncols=True)
    start_terms = evaluate(start)
    best, best_terms, history = start, start_terms, [start_terms["objective"]]
    bar.update(1)
    bar.set_postfix(best=f"{best_terms['objective']:.3f}")
    while len(history) < budget:
        told = []
        for _ in range(optimizer.population_size):
            if len(history) >= budget:
                break
            x = optimizer.ask()
            terms = evaluate(x)
            told.append((x, terms["objective"]))
            history.append(terms["objective"])
            if terms["objective"] < best_terms["objective"]:
                best, best_terms = np.clip(x[:start.size], 0.0, 1.0), terms
            bar.update(1)
            bar.set_postfix(best=f"{best_terms['objective']:.3f}")
        if len(told) == optimizer.population_size:
            optimizer.tell(told)
    bar.close()
    return SearchResult(best=best, best_terms=best_terms, start_terms=start_terms, evaluated=len(history),
                        history=history, configs=configs)
