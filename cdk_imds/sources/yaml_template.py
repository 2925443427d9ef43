"""YAML CloudFormation templates: short-form intrinsic tags, and limits that hold against hostile files.

Imported only when a YAML file is read, so that checking JSON (every template CDK writes) never
loads PyYAML.

Before PyYAML builds anything, one pass over the parser's events measures the document: how deeply
it nests, how many nodes it writes, how many aliases it uses, and how many nodes it would hold if
every alias were copied out. A document past any limit is rejected with the reason, never built:

* aliases are how a 1 KB file describes a structure of 2**40 nodes ("billion laughs"); the engine
  evaluates each shared node once, but any tool walking the template as a tree would not;
* an alias inside the node it names would make a structure that contains itself;
* PyYAML composes a node object (with two position marks) for every node written, about 300 bytes
  each, and constructs the document recursively: the written size and the depth bound its memory
  and its stack.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from cdk_imds.errors import TemplateError

MAX_DEPTH: Final = 100
MAX_NODES: Final = 300_000
MAX_ALIASES: Final = 10_000
MAX_EXPANDED_NODES: Final = 1_000_000

# The C loader is several times faster; PyYAML wheels without libyaml only have the pure-Python one.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Short forms whose long form is "Fn::<Name>". Ref, GetAtt and Condition are not "Fn::" and are
# registered separately.
_FN_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
)


def _construct_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    # deep=True: a tag's argument often holds further tags (!If [c, !Ref A, ...]) and they must be
    # finished values when the enclosing dict is built, not filled in later by PyYAML's generators.
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, "unexpected YAML node", node.start_mark)


def _intrinsic(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _construct_value(loader, node)}

    return construct


def _construct_get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        # Attribute names may contain dots (Endpoint.Address); only the first dot ends the resource.
        return {"Fn::GetAtt": loader.construct_scalar(node).split(".", 1)}
    return {"Fn::GetAtt": _construct_value(loader, node)}


def _construct_plain_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    # CloudFormation reads "2010-09-09" as a string; PyYAML would make it a datetime.date.
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


class CloudFormationLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML loader that understands CloudFormation's short-form intrinsic tags."""

    def construct_document(self, node: yaml.Node) -> Any:
        # Everything deep, at once: an alias to a node still being built is then PyYAML's
        # "recursive node" error instead of a structure that contains itself. The event scan has
        # already rejected such documents; this keeps the loader safe on its own.
        data = self.construct_object(node, deep=True)
        self.constructed_objects: dict[yaml.Node, Any] = {}
        self.recursive_objects: dict[yaml.Node, None] = {}
        self.deep_construct = False
        return data


CloudFormationLoader.add_constructor("!Ref", _intrinsic("Ref"))
CloudFormationLoader.add_constructor("!Condition", _intrinsic("Condition"))
CloudFormationLoader.add_constructor("!GetAtt", _construct_get_att)
for _name in _FN_TAGS:
    CloudFormationLoader.add_constructor(f"!{_name}", _intrinsic(f"Fn::{_name}"))
CloudFormationLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_plain_string)


class _TooLarge(Exception):
    """The document is past a limit; the message says which."""


def parse_yaml(path: str, text: str) -> Any:
    """The YAML document in ``text``; TemplateError (naming ``path``) if it is malformed or too large."""
    try:
        _measure(text)
        return yaml.load(text, Loader=CloudFormationLoader)  # a SafeLoader subclass: no arbitrary objects
    except _TooLarge as error:
        raise TemplateError(path, f"rejected: {error}") from None
    except yaml.MarkedYAMLError as error:
        # Not str(error): the pure-Python loader appends a snippet of the offending source lines.
        raise TemplateError(path, describe_yaml_error(error)) from None
    except yaml.YAMLError as error:
        position = getattr(error, "position", None)
        where = f" at character {position}" if isinstance(position, int) else ""
        raise TemplateError(path, f"malformed YAML{where}") from None
    except (ValueError, TypeError):
        # Explicit standard tags with bad values (!!int abc) fail in Python's int()/float(), not in
        # PyYAML's error hierarchy.
        raise TemplateError(path, "malformed YAML: a value does not match its explicit tag") from None
    except RecursionError:
        raise TemplateError(path, "malformed YAML: nested too deeply") from None


def describe_yaml_error(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
    problem = error.problem or error.context or "invalid syntax"
    return f"malformed YAML{where}: {problem}"


def _measure(text: str) -> None:
    """Walk the parser's events once, keeping only counters: raise _TooLarge past any limit.

    Each open collection on ``stack`` holds [anchor, nodes it expands to so far]; ``sizes`` is the
    expanded size of every finished anchored node, which is what an alias to it adds.
    """
    stack: list[list[Any]] = []
    open_anchors: set[str] = set()
    sizes: dict[str, int] = {}
    nodes = aliases = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _TooLarge(f"more than {MAX_ALIASES:,} YAML aliases")
            anchor = event.anchor or ""
            if anchor in open_anchors:
                raise _TooLarge(f"the alias *{anchor} is inside the node it names (a cycle)")
            # An undefined alias is left to PyYAML, which reports it with its line.
            _add(stack, sizes.get(anchor, 1))
        elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            nodes += 1
            if nodes > MAX_NODES:
                raise _TooLarge(f"more than {MAX_NODES:,} YAML nodes")
            if isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                _add(stack, 1)
            else:
                if len(stack) >= MAX_DEPTH:
                    raise _TooLarge(f"nested more than {MAX_DEPTH} levels deep")
                if event.anchor is not None:
                    open_anchors.add(event.anchor)
                stack.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent) and stack:
            anchor, size = stack.pop()
            if anchor is not None:
                open_anchors.discard(anchor)
                sizes[anchor] = size
            _add(stack, size)


def _add(stack: list[list[Any]], size: int) -> None:
    if size > MAX_EXPANDED_NODES or (stack and stack[-1][1] + size > MAX_EXPANDED_NODES):
        raise _TooLarge(f"its aliases expand it to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb)")
    if stack:
        stack[-1][1] += size
