"""Checks of a state given to ``PairStream.load_state_dict`` (issue 23 item 14: a malformed one once failed
with ``KeyError: 'root'`` deep inside torchdata).

The state's own layers -- ``epoch``, ``seed``, ``chain``, ``pipeline`` and the pipeline's nodes (torchdata's
``Loader``, the background map, the keyed batches of nodes.py, the loader's ``IterableWrapper``) -- are compared
with ``LAYOUT``, the layout ``PairStream.state_dict()`` writes: every key must be there, with a value of the same
kind (a mapping, a non-negative integer, a string), and no other key may appear. Inside the loader's own state
(which a StatefulDataLoader extends) only missing keys are refused. (The layout is written out rather than
taken from the stream: a torchdata ``Loader`` asked for its state before its first iteration ignores a state
loaded afterwards.) Errors name the path of the key, e.g. ``state['pipeline']['root']['source']: missing
'index'``; tests/test_reliability_stream_state.py checks that real states pass.
"""
from __future__ import annotations

import numbers
from typing import Any, Mapping

from ..core.errors import short_repr

HINT = "pass a dict from PairStream.state_dict() of a stream over the same kind of loader"
#: the loader's own state: below this path only missing keys are refused
_OPAQUE = ("pipeline", "root", "source", "source")
_ANY_INT = object()  # the seed: any int64
#: What PairStream.state_dict() holds (values give the kind: 0 a count >= 0, "" a string)
LAYOUT = {"epoch": 0, "seed": _ANY_INT, "chain": "",
          "pipeline": {"root": {"source": {"source": {"_num_yielded": 0}, "index": 0, "epoch": 0}}, "num_yielded": 0}}


def check_stream_state(state: Any) -> None:
    """Refuse ``state`` unless it has the layout ``PairStream.state_dict()`` writes (``LAYOUT``)."""
    _compare(state, LAYOUT, "state", ())


def _compare(got: Any, ref: Any, where: str, path: tuple[str, ...]) -> None:
    if isinstance(ref, Mapping):
        if not isinstance(got, Mapping):
            raise ValueError(f"PairStream {where}: expected a mapping, got {type(got).__name__} {short_repr(got)}; "
                             f"{HINT}")
        missing = [k for k in ref if k not in got]
        if missing:
            raise ValueError(f"PairStream {where}: missing {short_repr(missing[0])}; {HINT}")
        opaque = path[:len(_OPAQUE)] == _OPAQUE
        extra = [k for k in got if k not in ref]
        if extra and not opaque:
            raise ValueError(f"PairStream {where}: unexpected key {short_repr(extra[0])}; {HINT}")
        for key in ref:
            _compare(got[key], ref[key], f"{where}[{key!r}]", path + (str(key),))
    elif isinstance(ref, numbers.Integral) and not isinstance(ref, bool):
        if isinstance(got, bool) or not isinstance(got, numbers.Integral) or got < 0:
            raise ValueError(f"PairStream {where}: expected an integer >= 0, got {short_repr(got)}; {HINT}")
    elif ref is _ANY_INT:
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            raise ValueError(f"PairStream {where}: expected an integer, got {short_repr(got)}; {HINT}")
    elif isinstance(ref, str) and not isinstance(got, str):
        raise ValueError(f"PairStream {where}: expected a string, got {short_repr(got)}; {HINT}")
