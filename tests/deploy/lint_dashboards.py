#!/usr/bin/env python3
"""Lints fscanary's Grafana dashboards (dashboards/*.json) for file provisioning.

Checks, for each dashboard:
  - valid JSON; `uid` present, of the form fscanary-<words>, unique, at most
    40 characters; `id` present and null;
  - no `__inputs` and no `${DS_...}`: file provisioning resolves neither;
  - a variable of type datasource named `datasource` (Prometheus), and every
    panel, target and query variable using it (`${datasource}`);
  - every panel (rows aside) has a description and fieldConfig.defaults.unit;
  - every rate(), irate() and increase() window is $__rate_interval, or
    $__range in an instant query; no other range is a hard-coded duration;
  - every variable an expression uses is defined;
  - links to /d/<uid> name a dashboard in the set;
  - every expression parses: the Grafana variables are replaced by sample
    values, the expressions written into a temporary rules file as recording
    rules, and `promtool check rules` run on it.

--list-expressions prints every PromQL expression of the dashboards and of
the alerting rules as JSON lines, with where it comes from and the text with
the variables replaced (override them with --var host=web-01 and so on), for
tests that evaluate them against a live Prometheus.

Exit status: 0 clean, 1 problems found (each printed), 2 usage, 77 when
promtool is missing (after the other checks passed: the test is skipped).
Standard library only.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, Iterator, List, Optional, Tuple

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promrules  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UID_PATTERN = re.compile(r"^fscanary-[a-z0-9]+(-[a-z0-9]+)*$")
MAX_UID_LENGTH = 40  # Grafana refuses longer uids
DATASOURCE_REFS = ("${datasource}", "$datasource")

# Values the Grafana variables take when an expression is parsed or listed.
BUILTIN_VALUES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__interval_ms": "60000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "__from": "1700000000000",
    "__to": "1700003600000",
}
VARIABLE = re.compile(
    r"\$\{(?P<braced>\w+)(?::(?P<format>[^}]*))?\}|\$(?P<plain>\w+)|\[\[(?P<old>\w+)(?::[^\]]*)?\]\]")
RATE_FUNCTION = re.compile(r"(?<![\w:])(rate|irate|increase)\s*\(")
STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
DASHBOARD_LINK = re.compile(r"/d/([A-Za-z0-9_-]+)")


class Expression:
    """One PromQL expression and where it comes from."""

    def __init__(self, source: str, location: str, kind: str, expr: str, instant: bool):
        self.source = source  # file, relative to the repository when inside it
        self.location = location  # panel, target, variable or rule within it
        self.kind = kind  # "panel", "variable" or "alert"/"record"
        self.expr = expr
        self.instant = instant
        self.promql = expr  # with the variables replaced

    def where(self) -> str:
        return f"{self.source}: {self.location}"


def relative(path: str) -> str:
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO_ROOT) if path.startswith(REPO_ROOT + os.sep) else path


def all_panels(panels: list) -> Iterator[dict]:
    for panel in panels or []:
        if isinstance(panel, dict):
            yield panel
            yield from all_panels(panel.get("panels"))


def panel_name(panel: dict) -> str:
    return f'panel {panel.get("id")} "{panel.get("title", "")}"'


def variable_value(name: str, fmt: Optional[str], values: Dict[str, str]) -> Optional[str]:
    if name in ("__from", "__to") and fmt and fmt.startswith("date"):
        milliseconds = int(values[name])
        return str(milliseconds // 1000) if fmt == "date:seconds" else str(milliseconds)
    return values.get(name)


def substitute(expr: str, values: Dict[str, str]) -> Tuple[str, List[str]]:
    """Replaces Grafana variables; returns the text and the undefined names."""
    unknown: List[str] = []

    def replace(match: re.Match) -> str:
        name = match.group("braced") or match.group("plain") or match.group("old")
        value = variable_value(name, match.group("format"), values)
        if value is None:
            unknown.append(name)
            return match.group(0)
        return value

    return VARIABLE.sub(replace, expr), unknown


def call_argument(expr: str, open_paren: int) -> str:
    depth = 0
    for i in range(open_paren, len(expr)):
        if expr[i] == "(":
            depth += 1
        elif expr[i] == ")":
            depth -= 1
            if depth == 0:
                return expr[open_paren + 1:i]
    return expr[open_paren + 1:]


def check_ranges(expr: str, instant: bool) -> List[str]:
    """Range windows: variables only; $__rate_interval for rate and increase."""
    problems = []
    bare = STRING_LITERAL.sub('""', expr)
    allowed = ("$__rate_interval", "${__rate_interval}")
    if instant:
        allowed += ("$__range", "${__range}")
    for match in RATE_FUNCTION.finditer(bare):
        argument = call_argument(bare, match.end() - 1)
        windows = re.findall(r"\[([^\]]*)\]", argument)
        for window in windows:
            if window.split(":")[0].strip() not in allowed:
                problems.append(f"{match.group(1)}() over [{window}]: use $__rate_interval"
                                + (" (or $__range)" if instant else
                                   " ($__range only in an instant query)"))
    for window in re.findall(r"\[([^\]]*)\]", bare):
        if "$" not in window:
            problems.append(f"range [{window}] is a fixed duration: use $__rate_interval or $__range")
    return problems


def check_datasource(value, where: str) -> List[str]:
    if isinstance(value, dict) and value.get("type") == "grafana":
        return []  # Grafana's built-in annotations
    if not isinstance(value, dict) or value.get("uid") not in DATASOURCE_REFS:
        return [f"{where}: datasource {json.dumps(value)} is not the dashboard's variable "
                f'{{"type": "prometheus", "uid": "${{datasource}}"}}']
    if value.get("type") != "prometheus":
        return [f"{where}: datasource type {value.get('type')!r} is not prometheus"]
    return []


def variable_query(variable: dict) -> Optional[str]:
    """The PromQL inside a query variable's query, if any."""
    query = variable.get("query")
    if isinstance(query, dict):
        query = query.get("query")
    if not isinstance(query, str):
        return None
    query = query.strip()
    match = re.fullmatch(r"label_values\((.*),\s*\w+\s*\)", query, re.S)
    if match:
        return match.group(1)
    match = re.fullmatch(r"query_result\((.*)\)", query, re.S)
    if match:
        return match.group(1)
    return None


class Dashboard:
    def __init__(self, path: str):
        self.path = path
        self.source = relative(path)
        self.data: Optional[dict] = None
        self.text = ""

    def load(self) -> List[str]:
        try:
            with open(self.path, encoding="utf-8") as f:
                self.text = f.read()
            self.data = json.loads(self.text)
        except (OSError, UnicodeDecodeError) as e:
            return [f"{self.source}: cannot read: {e}"]
        except json.JSONDecodeError as e:
            return [f"{self.source}: invalid JSON: {e}"]
        if not isinstance(self.data, dict):
            self.data = None
            return [f"{self.source}: not a JSON object"]
        return []

    def variables(self) -> List[dict]:
        templating = self.data.get("templating") or {}
        return [v for v in templating.get("list") or [] if isinstance(v, dict)]

    def values(self, overrides: Dict[str, str]) -> Dict[str, str]:
        values = dict(BUILTIN_VALUES)
        for variable in self.variables():
            name = variable.get("name")
            if not name or variable.get("type") == "datasource":
                continue
            sample = ".*" if variable.get("multi") or variable.get("includeAll") else "x"
            values[name] = sample
        values.update(overrides)
        return values

    def expressions(self) -> List[Expression]:
        found = []
        for panel in all_panels(self.data.get("panels")):
            for t in panel.get("targets") or []:
                if isinstance(t, dict) and isinstance(t.get("expr"), str) and t["expr"].strip():
                    found.append(Expression(self.source, f'{panel_name(panel)} target {t.get("refId")}',
                                            "panel", t["expr"], bool(t.get("instant"))))
        for variable in self.variables():
            query = variable_query(variable)
            if query:
                found.append(Expression(self.source, f'variable {variable.get("name")}', "variable",
                                        query, True))
        return found

    def check(self) -> List[str]:
        d = self.data
        where = self.source
        problems = []
        uid = d.get("uid")
        if not isinstance(uid, str) or not UID_PATTERN.match(uid) or len(uid) > MAX_UID_LENGTH:
            problems.append(f"{where}: uid {uid!r} is not a stable uid of the form fscanary-<words> "
                            f"(lower case, at most {MAX_UID_LENGTH} characters)")
        if "id" not in d or d["id"] is not None:
            problems.append(f"{where}: id must be present and null (got {d.get('id', 'nothing')!r})")
        if "__inputs" in d:
            problems.append(f"{where}: __inputs: file provisioning does not resolve inputs")
        for reference in sorted(set(re.findall(r"\$\{DS_[A-Za-z0-9_]*\}", self.text))):
            problems.append(f"{where}: {reference}: file provisioning leaves it unresolved; "
                            "use the datasource variable")
        if not isinstance(d.get("title"), str) or not d["title"].strip():
            problems.append(f"{where}: no title")

        datasource_vars = [v for v in self.variables() if v.get("type") == "datasource"]
        if not any(v.get("name") == "datasource" and v.get("query") == "prometheus"
                   for v in datasource_vars):
            problems.append(f'{where}: no variable "datasource" of type datasource (query prometheus)')
        for variable in self.variables():
            if variable.get("type") == "query":
                problems += check_datasource(variable.get("datasource"),
                                             f'{where}: variable {variable.get("name")}')

        ids = set()
        for panel in all_panels(d.get("panels")):
            name = f"{where}: {panel_name(panel)}"
            if panel.get("id") in ids:
                problems.append(f"{name}: duplicate panel id")
            ids.add(panel.get("id"))
            if panel.get("type") == "row":
                continue
            if not isinstance(panel.get("description"), str) or not panel["description"].strip():
                problems.append(f"{name}: no description")
            defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
            if not isinstance(defaults.get("unit"), str) or not defaults["unit"].strip():
                problems.append(f"{name}: no unit (fieldConfig.defaults.unit)")
            if "gridPos" not in panel:
                problems.append(f"{name}: no gridPos")
            targets = panel.get("targets") or []
            if targets:
                problems += check_datasource(panel.get("datasource"), name)
            for t in targets:
                problems += check_datasource(t.get("datasource"), f'{name} target {t.get("refId")}')
                if not t.get("refId"):
                    problems.append(f"{name}: a target without refId")
        return problems

    def links(self) -> List[str]:
        return DASHBOARD_LINK.findall(self.text)


def promtool_parse(expressions: List[Expression], promtool: str) -> List[str]:
    """Runs `promtool check rules` over the expressions as recording rules."""
    groups = [{"name": f"expr_{i}", "rules": [{"record": f"fscanary_lint:expr_{i}", "expr": e.promql}]}
              for i, e in enumerate(expressions)]
    with tempfile.TemporaryDirectory(prefix="fscanary-lint-") as tmp:
        path = os.path.join(tmp, "expressions.rules.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"groups": groups}, f, indent=1)
        result = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
    if result.returncode == 0:
        return []
    output = result.stdout + result.stderr
    problems = []
    for line in output.splitlines():
        match = re.search(r'group "expr_(\d+)".*?: (could not parse expression: .*)$', line)
        if match:
            e = expressions[int(match.group(1))]
            problems.append(f"{e.where()}: {match.group(2)}\n    {e.promql}")
    if not problems:
        problems.append("promtool check rules failed:\n" + output)
    return problems


def rule_expressions(root: str) -> List[Expression]:
    found = []
    for path in sorted(glob.glob(os.path.join(root, "deploy", "prometheus", "rules", "*.rules.yml"))):
        for rule in promrules.read_rules(path):
            kind = "alert" if rule.is_alert else "record"
            found.append(Expression(relative(path), f"{kind} {rule.name} (line {rule.line})", kind,
                                    rule.expr, True))
    return found


def parse_vars(pairs: List[str]) -> Dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--var wants name=value, got {pair!r}")
        values[name.lstrip("$")] = value
    return values


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dashboards", nargs="*", help="dashboard files (default: <root>/dashboards/*.json)")
    parser.add_argument("--root", default=REPO_ROOT, help="the fscanary source tree")
    parser.add_argument("--promtool", default=os.environ.get("PROMTOOL") or None,
                        help="promtool to parse with (default: $PROMTOOL, else from PATH)")
    parser.add_argument("--list-expressions", action="store_true",
                        help="print every PromQL expression of the dashboards and rules as JSON lines")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="value of a Grafana variable in the printed or parsed expressions")
    args = parser.parse_args(argv)

    paths = args.dashboards or sorted(glob.glob(os.path.join(args.root, "dashboards", "*.json")))
    if not paths:
        print(f"no dashboards found under {args.root}/dashboards", file=sys.stderr)
        return 1
    overrides = parse_vars(args.var)

    problems: List[str] = []
    dashboards = []
    for path in paths:
        dashboard = Dashboard(path)
        load_problems = dashboard.load()
        problems += load_problems
        if not load_problems:
            dashboards.append(dashboard)

    expressions: List[Expression] = []
    uids: Dict[str, str] = {}
    for dashboard in dashboards:
        problems += dashboard.check()
        uid = dashboard.data.get("uid")
        if isinstance(uid, str):
            if uid in uids:
                problems.append(f"{dashboard.source}: uid {uid!r} also used by {uids[uid]}")
            uids[uid] = dashboard.source
        values = dashboard.values(overrides)
        for e in dashboard.expressions():
            e.promql, unknown = substitute(e.expr, values)
            for name in unknown:
                problems.append(f"{e.where()}: undefined variable ${name}")
            if e.kind == "panel":
                problems += [f"{e.where()}: {p}" for p in check_ranges(e.expr, e.instant)]
            expressions.append(e)
    for dashboard in dashboards:
        for uid in dashboard.links():
            if uid not in uids:
                problems.append(f"{dashboard.source}: link to /d/{uid}, which no dashboard here has")

    if args.list_expressions:
        if not args.dashboards:
            expressions += rule_expressions(args.root)
        for e in expressions:
            print(json.dumps({"source": e.source, "location": e.location, "kind": e.kind,
                              "instant": e.instant, "expr": e.expr, "promql": e.promql},
                             ensure_ascii=False))
        for problem in problems:
            print(f"FAIL {problem}", file=sys.stderr)
        return 1 if problems else 0

    promtool = args.promtool or shutil.which("promtool")
    skipped = False
    if promtool and os.path.exists(promtool):
        problems += promtool_parse(expressions, promtool)
    else:
        skipped = True

    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        print(f"{len(problems)} problem(s) in {len(paths)} dashboard(s)")
        return 1
    if skipped:
        print(f"SKIP: promtool not found: {len(paths)} dashboard(s) checked, "
              f"{len(expressions)} expressions not parsed")
        return 77
    print(f"OK: {len(paths)} dashboard(s), {len(expressions)} expressions parsed by {promtool}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
