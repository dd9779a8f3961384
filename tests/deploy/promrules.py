"""Reads fscanary's Prometheus rule files without a YAML library.

The checks run on python3's standard library only, so this reads the plain
subset of YAML that deploy/prometheus/rules/*.rules.yml is written in:

    groups:
      - name: fscanary-findings
        rules:
          - alert: Name          (or `record: name`)
            expr: |              (a block scalar, or a one-line value)
              ...
            for: 5m
            labels:
              severity: critical
            annotations:
              summary: "..."
              description: >-
                ...

Comments, blank lines and quoted one-line values are understood; flow
collections, anchors and multi-document files are not. Callers compare the
number of rules read with `promtool check rules` ("N rules found") so a rule
this reader misses is noticed.
"""

import dataclasses
import re
from typing import Dict, List, Optional


@dataclasses.dataclass
class Rule:
    name: str  # the alert name, or the recorded series name
    is_alert: bool
    line: int  # 1-based line of `- alert:` / `- record:`
    expr: str = ""
    for_: Optional[str] = None
    labels: Dict[str, str] = dataclasses.field(default_factory=dict)
    annotations: Dict[str, str] = dataclasses.field(default_factory=dict)


_KEY = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?: +(?P<value>.*))?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        # The escapes a rules file uses; enough for the checks made on them.
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    # A plain scalar ends at " #".
    return re.sub(r"\s+#.*$", "", value)


def _block(lines: List[str], start: int, key_indent: int, style: str):
    """Reads a block scalar after the line `start`; returns (text, next line)."""
    body = []
    i = start + 1
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > key_indent):
        body.append(lines[i])
        i += 1
    while body and not body[-1].strip():
        body.pop()
    content_indent = min((_indent(l) for l in body if l.strip()), default=0)
    text_lines = [l[content_indent:] for l in body]
    if style.startswith(">"):
        text = " ".join(l.strip() for l in text_lines if l.strip())
    else:
        text = "\n".join(text_lines)
    if not style.endswith("-"):
        text += "\n"
    return text, i


def parse_rules(text: str) -> List[Rule]:
    """Returns the rules of a rules file, in file order."""
    lines = text.split("\n")
    rules: List[Rule] = []
    rule: Optional[Rule] = None
    rule_indent = -1
    section: Optional[str] = None  # "labels" or "annotations" while inside one
    section_indent = -1
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        match = _KEY.match(line)
        if not match:
            i += 1
            continue
        indent = _indent(line) + (len(match.group("dash")) if match.group("dash") else 0)
        key = match.group("key")
        raw = match.group("value") or ""
        if key in ("alert", "record") and match.group("dash"):
            rule = Rule(name=_unquote(raw), is_alert=key == "alert", line=i + 1)
            rules.append(rule)
            rule_indent = indent
            section = None
            i += 1
            continue
        if rule is not None and indent < rule_indent:
            rule = None  # a key of the group or of the file: the rule is over
            section = None
        if rule is None:
            i += 1
            continue
        if section is not None and indent <= section_indent:
            section = None
        value_is_block = raw.strip() in ("|", "|-", ">", ">-", "|+", ">+")
        if value_is_block:
            value, i = _block(lines, i, indent, raw.strip())
        else:
            value = _unquote(raw)
            i += 1
        if section is not None:
            getattr(rule, section)[key] = value
        elif indent == rule_indent:
            if key == "expr":
                rule.expr = value.strip()
            elif key == "for":
                rule.for_ = value
            elif key in ("labels", "annotations") and not raw:
                section = key
                section_indent = indent
    return rules


def read_rules(path: str) -> List[Rule]:
    with open(path, encoding="utf-8") as f:
        return parse_rules(f.read())
