#!/usr/bin/env python3
"""Checks what promtool does not about fscanary's alerting rules and routing.

  - every rule file is read whole (the count matches `promtool check rules`);
  - every alert has a severity (critical, warning, info or none), a summary,
    a description and a runbook_url docs/runbook.md#<alert name in lower
    case>, and docs/runbook.md has that heading;
  - FscanaryCorruptionDetected is critical and has no `for:` (it pages on
    the first finding);
  - every alert has a unit test where it fires and one where it does not
    (the Watchdog, which always fires, only the first);
  - the Alertmanager example sends critical alerts with group_wait 0s and the
    Watchdog to its own receiver.

Exit status: 0 clean, 1 problems, 77 when promtool is missing. Standard
library only.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
from typing import Dict, List, Set

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promrules  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEVERITIES = {"critical", "warning", "info", "none"}
ALWAYS_FIRING = {"FscanaryWatchdog"}
FIRST_CORRUPTION = "FscanaryCorruptionDetected"


def github_anchors(markdown: str) -> Set[str]:
    """Anchors GitHub (and most renderers) give the headings of a page."""
    anchors = set()
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            text = re.sub(r"[`*_]", "", match.group(1)).strip().lower()
            anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text)))
        anchors.update(re.findall(r'<a\s+(?:id|name)="([^"]+)"', line))
    return anchors


def severity_problems(value: str) -> List[str]:
    # A template may choose among severities: every literal part must be one.
    parts = [p.strip() for p in re.split(r"\{\{.*?\}\}", value) if p.strip()]
    if not parts:
        return [f"severity {value!r} names no severity"]
    return [f"severity {p!r} is not one of {sorted(SEVERITIES)}" for p in parts if p not in SEVERITIES]


def tested_outcomes(test_text: str) -> Dict[str, Set[str]]:
    """For each alertname in a promtool test file: {"fires", "quiet"} seen."""
    outcomes: Dict[str, Set[str]] = {}
    lines = test_text.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"^\s*(?:-\s+)?alertname:\s*(\S+)\s*$", line)
        if not match:
            continue
        for following in lines[i + 1:i + 4]:
            expected = re.match(r"^\s*exp_alerts:\s*(.*?)\s*$", following)
            if expected:
                quiet = expected.group(1) == "[]"
                outcomes.setdefault(match.group(1), set()).add("quiet" if quiet else "fires")
                break
    return outcomes


def route_blocks(alertmanager_text: str) -> List[str]:
    """The text of each child route (`- matchers:` items)."""
    blocks, current, indent = [], None, None
    for line in alertmanager_text.splitlines():
        match = re.match(r"^(\s*)- matchers:", line)
        if match:
            if current is not None:
                blocks.append("\n".join(current))
            current, indent = [line], len(match.group(1))
            continue
        if current is not None:
            stripped = line.strip()
            if stripped and not stripped.startswith("#") and len(line) - len(line.lstrip()) <= indent:
                blocks.append("\n".join(current))
                current = None
            else:
                current.append(line)
    if current is not None:
        blocks.append("\n".join(current))
    return blocks


def check_alertmanager(path: str) -> List[str]:
    with open(path, encoding="utf-8") as f:
        blocks = route_blocks(f.read())
    problems = []
    critical = [b for b in blocks if 'severity="critical"' in b]
    if not critical:
        problems.append(f"{path}: no route for severity=\"critical\"")
    for block in critical:
        if not re.search(r"^\s*group_wait:\s*0s\s*$", block, re.M):
            problems.append(f"{path}: the critical route does not have group_wait: 0s")
    if not any('alertname="FscanaryWatchdog"' in b and re.search(r"receiver:\s*\S+", b) for b in blocks):
        problems.append(f"{path}: no route of its own for FscanaryWatchdog")
    return problems


def promtool_count(promtool: str, path: str) -> int:
    result = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
    match = re.search(r"SUCCESS: (\d+) rules found", result.stdout + result.stderr)
    return int(match.group(1)) if result.returncode == 0 and match else -1


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=REPO_ROOT)
    parser.add_argument("--promtool", default=os.environ.get("PROMTOOL") or None,
                        help="default: $PROMTOOL, else from PATH")
    args = parser.parse_args(argv)
    root = args.root
    promtool = args.promtool or shutil.which("promtool")
    if not promtool or not os.path.exists(promtool):
        print("SKIP: promtool not found (Debian package prometheus)")
        return 77

    with open(os.path.join(root, "docs", "runbook.md"), encoding="utf-8") as f:
        anchors = github_anchors(f.read())
    problems: List[str] = []
    rule_files = sorted(glob.glob(os.path.join(root, "deploy", "prometheus", "rules", "*.rules.yml")))
    if not rule_files:
        problems.append("no rule files under deploy/prometheus/rules")
    alerts = 0
    for path in rule_files:
        name = os.path.relpath(path, root)
        rules = promrules.read_rules(path)
        found = promtool_count(promtool, path)
        if found != len(rules):
            problems.append(f"{name}: read {len(rules)} rules, promtool check rules found {found}: "
                            "keep the file in the form tests/deploy/promrules.py reads")
        test_path = path[: -len(".yml")] + ".test.yml"
        outcomes: Dict[str, Set[str]] = {}
        if os.path.exists(test_path):
            with open(test_path, encoding="utf-8") as f:
                outcomes = tested_outcomes(f.read())
        for rule in rules:
            if not rule.is_alert:
                continue
            alerts += 1
            where = f"{name}:{rule.line}: {rule.name}"
            if not rule.expr:
                problems.append(f"{where}: no expr read")
            severity = rule.labels.get("severity")
            if severity is None:
                problems.append(f"{where}: no severity label")
            else:
                problems += [f"{where}: {p}" for p in severity_problems(severity)]
            for key in ("summary", "description", "runbook_url"):
                if not rule.annotations.get(key, "").strip():
                    problems.append(f"{where}: no {key} annotation")
            url = rule.annotations.get("runbook_url", "")
            expected = f"docs/runbook.md#{rule.name.lower()}"
            if url and not url.endswith(expected):
                problems.append(f"{where}: runbook_url {url!r} should end in {expected!r}")
            anchor = url.partition("#")[2]
            if url and anchor not in anchors:
                problems.append(f"{where}: docs/runbook.md has no heading for #{anchor}")
            if rule.name == FIRST_CORRUPTION:
                if severity != "critical":
                    problems.append(f"{where}: must be severity critical")
                if rule.for_ is not None:
                    problems.append(f"{where}: must not wait (for: {rule.for_}): it pages on the first finding")
            wanted = {"fires"} if rule.name in ALWAYS_FIRING else {"fires", "quiet"}
            missing = wanted - outcomes.get(rule.name, set())
            for outcome in sorted(missing):
                problems.append(f"{where}: no unit test in {os.path.relpath(test_path, root)} where "
                                f"it {'fires' if outcome == 'fires' else 'stays quiet'}")

    problems += check_alertmanager(os.path.join(root, "deploy", "alertmanager", "alertmanager.yml"))
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print(f"OK: {alerts} alerts in {len(rule_files)} rule file(s): labels, annotations, runbook "
          "anchors, tests; Alertmanager routes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
