"""Writing a drafted contract as YAML with review comments on the lines they are about.

PyYAML cannot emit comments, so the (fixed, small) contract layout is written here: nested
mappings in block style, lists of names and per-header column rules in flow style, as the
hand-written contracts are.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import yaml

_PLAIN = re.compile(r"^[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff.-]*$")


def scalar(value) -> str:
    """A YAML scalar that reads back as exactly ``value`` (strings quoted when needed)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if _PLAIN.match(text) and yaml.safe_load(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)  # JSON strings are YAML double-quoted scalars


def flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _with_comment(line: str, comment: str | None) -> str:
    return f"{line}  # {comment}" if comment else line


def _emit(doc: dict, path: tuple, indent: int, comments: dict, out: list[str], first_prefix: str = "") -> None:
    pad = " " * indent
    for i, (key, value) in enumerate(doc.items()):
        here = path + (key,)
        lead = (first_prefix if i == 0 and first_prefix else pad) + scalar(key) + ":"
        comment = comments.get(here)
        if isinstance(value, dict) and value and path[-1:] != ("columns",):
            out.append(_with_comment(lead, comment))
            _emit(value, here, indent + 2, comments, out)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.append(_with_comment(lead, comment))
            for n, item in enumerate(value):
                _emit(item, here + (n,), indent + 4, comments, out, first_prefix=" " * (indent + 2) + "- ")
        else:
            out.append(_with_comment(f"{lead} {flow(value)}", comment))


def render_contract(doc: dict, comments: dict[tuple, str], title: str = "") -> str:
    """The contract as YAML text; ``comments`` maps a key path to the comment on its line."""
    out = [f"# {line}".rstrip() for line in title.splitlines()] if title else []
    _emit(doc, (), 0, comments, out)
    text = "\n".join(out) + "\n"
    if yaml.safe_load(text) != doc:  # the writer above must never change what it writes
        raise AssertionError("rendered contract does not read back as the drafted document")
    return text
