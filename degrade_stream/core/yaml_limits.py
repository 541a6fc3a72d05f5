"""Bounded YAML: ``yaml.safe_load`` with limits on file size, nesting and alias expansion (issue 23 item 9).

A "billion laughs" YAML -- a few anchors, each aliased nine times by the next -- is under 1 kB but stands
for 9**8 values; printed in an error, or walked by any code that copies it, it takes gigabytes. So a config
is refused when its text exceeds ``MAX_BYTES``, when its node graph expanded through its aliases would hold
more than ``MAX_NODES`` nodes, when an alias refers to a node that contains it (a recursive value), or when
it nests deeper than ``MAX_DEPTH``. The check walks the composed node graph once, counting each shared node
by the size of its expansion (memoised), so the check itself costs what the file costs, not its expansion.
"""
from __future__ import annotations

from typing import Any

import yaml

#: Largest config text accepted (chains and recipes are a few kB).
MAX_BYTES = 1 << 20
#: Largest number of YAML nodes (scalars, lists, mappings) of the value with every alias expanded.
MAX_NODES = 100_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 64


class YAMLLimitError(ValueError):
    """A YAML text over one of the limits; the message says which."""


def load_bounded_yaml(text: str, source: str) -> Any:
    """``yaml.safe_load(text)`` after checking the limits; errors name ``source`` (a file or 'config')."""
    if len(text) > MAX_BYTES:
        raise YAMLLimitError(f"{source}: {len(text)} characters, over the {MAX_BYTES} a config may have")
    _check_depth(text, source)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, source)
        return loader.construct_document(node)
    except RecursionError:
        raise YAMLLimitError(f"{source}: nested too deeply (more than {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()


def _check_depth(text: str, source: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH from the event stream (flat: no recursion, unlike composing)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YAMLLimitError(f"{source}: line {event.start_mark.line + 1}: nested more than {MAX_DEPTH} "
                                     "levels deep")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _expanded_size(root: yaml.Node, source: str) -> int:
    """Nodes of ``root`` with every alias expanded; YAMLLimitError past MAX_NODES, MAX_DEPTH or on a cycle."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def visit(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise YAMLLimitError(f"{source}: line {node.start_mark.line + 1}: an alias refers to a value that "
                                 "contains it (a recursive value); configs must be finite trees")
        if depth > MAX_DEPTH:
            raise YAMLLimitError(f"{source}: line {node.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep")
        open_nodes.add(key)
        total = 1
        for child in _children(node):
            total += visit(child, depth + 1)
            if total > MAX_NODES:
                raise YAMLLimitError(f"{source}: expands to more than {MAX_NODES} values through its aliases "
                                     f"(line {node.start_mark.line + 1}); a config must not repeat aliases this much")
        open_nodes.discard(key)
        sizes[key] = total
        return total

    return visit(root, 0)
