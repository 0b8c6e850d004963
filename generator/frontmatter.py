"""Split a source file into YAML front matter and Markdown body, and read the YAML.

Every scalar is kept as the raw text the author wrote (or None when empty): YAML 1.1 would
otherwise turn ``2023-10-23`` into a date, ``02023`` into an octal number and ``NO`` (Norway)
into False behind the author's back. Later stages give the text a type and report problems
at the line recorded here for each value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

import yaml

from generator import messages as M
from generator.diagnostics import Diagnostic, error

Value = Union[None, str, list["Value"], dict[str, "Value"]]  # noqa: UP007 - recursive alias
# Values in one file's front matter, an alias counted as the values it repeats.
MAX_VALUES = 10_000

try:  # the C parser is several times faster when libyaml is present
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

_NULL = "tag:yaml.org,2002:null"
_FENCES = ("---", "...")


@dataclass(frozen=True)
class FrontMatter:
    """``fields`` maps each top-level key to its value; ``lines`` maps dotted paths
    (``"sources"``, ``"sources.2"``, ``"sources.2.url"``) to 1-based lines of the file."""

    fields: Mapping[str, Value]
    lines: Mapping[str, int]
    body: str
    body_line: int

    def line(self, *path: str | int) -> int:
        """The line of the deepest recorded part of ``path``, else the closest parent."""
        parts = [str(p) for p in path]
        while parts:
            found = self.lines.get(".".join(parts))
            if found:
                return found
            parts.pop()
        return 1


def read_front_matter(text: str, path: str) -> tuple[FrontMatter | None, list[Diagnostic]]:
    """Read ``text`` (already decoded, LF line ends, no BOM)."""
    lines = text.split("\n")
    first = lines[0].rstrip()
    if first != "---":
        return None, [error(path, 1, _missing_opening(first, text))]
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() in _FENCES), None)
    if close is None:
        return None, [error(path, 1, M.FM_UNCLOSED())]
    yaml_text = "\n".join(lines[1:close])
    body = "\n".join(lines[close + 1 :])
    try:
        fields, where = _parse_yaml(yaml_text, first_line=2)
    except _Problem as problem:
        return None, [error(path, problem.line, problem.message)]
    return FrontMatter(fields, where, body, close + 2), []


def _missing_opening(first: str, text: str) -> str:
    if not text.strip():
        return M.FM_EMPTY()
    if first == "+++":
        return M.FM_TOML()
    if first.startswith("---"):
        return M.FM_FENCE()
    return M.FM_MISSING()


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _parse_yaml(text: str, first_line: int) -> tuple[dict[str, Value], dict[str, int]]:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else first_line
        source_line = (
            text.split("\n")[mark.line] if mark and mark.line < text.count("\n") + 1 else ""
        )
        opened = exc.context_mark
        started = ""
        if exc.context and opened is not None and opened.line + first_line != line:
            started = f" ({exc.context} started on line {first_line + opened.line})"
        raise _Problem(line, _yaml_message(exc, source_line, started)) from None
    except yaml.YAMLError as exc:
        raise _Problem(first_line, M.FM_YAML(problem=exc, hint="")) from None
    except RecursionError:
        raise _Problem(first_line, M.FM_TOO_DEEP()) from None
    if root is None:
        return {}, {}
    if not isinstance(root, yaml.MappingNode):
        raise _Problem(
            first_line + root.start_mark.line,
            M.FM_NOT_MAPPING(),
        )
    where: dict[str, int] = {}
    try:
        if _expanded_size(root, {}) > MAX_VALUES:
            raise _Problem(first_line, M.FM_TOO_MANY_VALUES(limit=MAX_VALUES))
        fields = _Walker(first_line, where).mapping(root, "")
    except RecursionError:
        raise _Problem(first_line, M.FM_TOO_DEEP()) from None
    return fields, where


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values ``node`` stands for, each alias counted as all it repeats: a few
    lines of aliases can stand for billions, which the reader shares but the cache's
    JSON, the page fingerprints and the templates would each write out."""
    known = sizes.get(id(node))
    if known is None:
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        known = sizes[id(node)] = 1 + sum(_expanded_size(child, sizes) for child in children)
    return known


class _Walker:
    """Turns composed YAML nodes into plain values, recording each value's line."""

    def __init__(self, first_line: int, where: dict[str, int]) -> None:
        self.first_line = first_line
        self.where = where
        self.seen: dict[int, Value] = {}  # aliases share their node; convert it once

    def value(self, node: yaml.Node, path: str) -> Value:
        self.where[path] = self.first_line + node.start_mark.line
        known = id(node)
        if known in self.seen:
            return self.seen[known]
        result: Value
        if isinstance(node, yaml.MappingNode):
            result = self.mapping(node, path + ".")
        elif isinstance(node, yaml.SequenceNode):
            result = [self.value(item, f"{path}.{i}") for i, item in enumerate(node.value)]
        else:
            result = None if node.tag == _NULL else str(node.value)
        self.seen[known] = result
        return result

    def mapping(self, node: yaml.MappingNode, prefix: str) -> dict[str, Value]:
        result: dict[str, Value] = {}
        for key_node, value_node in node.value:
            line = self.first_line + key_node.start_mark.line
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Problem(line, M.FM_KEY_NOT_TEXT())
            key = str(key_node.value)
            if key == "<<":
                raise _Problem(line, M.FM_MERGE_KEY())
            if key in result:
                first = self.where.get(prefix + key, line)
                raise _Problem(line, M.FM_DUPLICATE_KEY(key=key, first=first))
            self.where[prefix + key] = line
            result[key] = self.value(value_node, prefix + key)
            self.where[prefix + key] = line
        return result


def _yaml_message(exc: yaml.MarkedYAMLError, source_line: str, started: str) -> str:
    problem = exc.problem or exc.context or "could not parse"
    if "nesting depth" in problem:  # libyaml's own limit
        return M.FM_TOO_DEEP()
    hint = started
    if "tab" in problem or "\t" in source_line[: len(source_line) - len(source_line.lstrip())]:
        hint += "; indent with spaces, not tabs"
    elif "mapping values are not allowed" in problem:
        hint += "; put quotes around a value that contains ': '"
    elif "found character" in problem and ("'@'" in problem or "'`'" in problem):
        hint += "; put quotes around a value that starts with @ or `"
    return M.FM_YAML(problem=problem, hint=hint)
