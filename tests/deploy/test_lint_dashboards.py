#!/usr/bin/env python3
"""Tests of lint_dashboards.py: it passes the repository's dashboards, and each
of its checks fails a dashboard broken in that one way.

Run: python3 tests/deploy/test_lint_dashboards.py (exit 77 without promtool).
"""

import contextlib
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import lint_dashboards  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
LINT = os.path.join(HERE, "lint_dashboards.py")
DASHBOARDS = sorted(glob.glob(os.path.join(ROOT, "dashboards", "*.json")))
PROMTOOL = os.environ.get("PROMTOOL") or shutil.which("promtool")


def run_lint(*args):
    """Runs lint_dashboards.py's main in this process; returns (exit code, output)."""
    promtool = [] if "--promtool" in args or not PROMTOOL else ["--promtool", PROMTOOL]
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = lint_dashboards.main(["--root", ROOT, *promtool, *args])
    return code, output.getvalue()


def load(name):
    with open(os.path.join(ROOT, "dashboards", name), encoding="utf-8") as f:
        return json.load(f)


def data_panels(dashboard):
    return [p for p in dashboard["panels"] if p.get("type") != "row"]


def first_target(dashboard, predicate):
    for panel in data_panels(dashboard):
        for target in panel.get("targets", []):
            if predicate(panel, target):
                return panel, target
    raise AssertionError("no such target")


class RepositoryDashboards(unittest.TestCase):
    def test_pass_every_check(self):
        code, output = run_lint()
        self.assertEqual(code, 0, output)
        self.assertIn("OK: 3 dashboard(s)", output)

    def test_command_line_exit_status(self):
        result = subprocess.run([sys.executable, LINT, "--root", ROOT], capture_output=True,
                                text=True, env={**os.environ, "PROMTOOL": PROMTOOL})
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        broken = os.path.join(HERE, "fixtures", "broken-dashboard.json")
        result = subprocess.run([sys.executable, LINT, "--root", ROOT, broken], capture_output=True,
                                text=True, env={**os.environ, "PROMTOOL": PROMTOOL})
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)

    def test_skip_with_77_without_promtool(self):
        code, output = run_lint("--promtool", "/nonexistent/promtool")
        self.assertEqual(code, 77, output)

    def test_expressions_listed_with_sources_and_variables_replaced(self):
        code, output = run_lint("--list-expressions", "--var", "host=web-01",
                                "--var", "__rate_interval=5s")
        self.assertEqual(code, 0, output)
        rows = [json.loads(line) for line in output.splitlines()]
        sources = {row["source"] for row in rows}
        for path in DASHBOARDS:
            self.assertIn(os.path.relpath(path, ROOT), sources)
        self.assertIn("deploy/prometheus/rules/fscanary.rules.yml", sources)
        alerts = {row["location"].split()[1] for row in rows if row["kind"] == "alert"}
        self.assertIn("FscanaryCorruptionDetected", alerts)
        self.assertIn("FscanaryWatchdog", alerts)
        for row in rows:
            self.assertNotIn("$", row["promql"], row)
        host_rows = [r for r in rows if r["source"] == "dashboards/fscanary-host.json"
                     and r["kind"] == "panel"]
        self.assertTrue(any('host="web-01"' in r["promql"] for r in host_rows))
        self.assertTrue(any("[5s]" in r["promql"] for r in rows))
        # The variable's own query is listed too.
        self.assertTrue(any(r["kind"] == "variable" and r["location"] == "variable host"
                            for r in rows))


class BrokenFixture(unittest.TestCase):
    def test_every_defect_reported(self):
        code, output = run_lint(os.path.join(HERE, "fixtures", "broken-dashboard.json"))
        self.assertEqual(code, 1, output)
        for expected in [
            "uid 'Broken Dashboard' is not a stable uid",
            "id must be present and null (got 7)",
            "__inputs: file provisioning does not resolve inputs",
            "${DS_PROMETHEUS}: file provisioning leaves it unresolved",
            'no variable "datasource" of type datasource',
            '"No unit, no description, fixed window": no description',
            '"No unit, no description, fixed window": no unit',
            "rate() over [5m]: use $__rate_interval",
            "undefined variable $host",
            "link to /d/fscanary-missing",
            '"Does not parse" target A: could not parse expression',
        ]:
            self.assertIn(expected, output)


class EachCheckFailsAlone(unittest.TestCase):
    """Breaks one thing in a copy of the dashboards; the lint must say so."""

    def lint_with(self, mutate, expected, name="fscanary-fleet.json", raw=None):
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for path in DASHBOARDS:
                base = os.path.basename(path)
                dashboard = load(base)
                text = json.dumps(dashboard, indent=2)
                if base == name:
                    if raw is not None:
                        text = raw(text)
                    else:
                        mutate(dashboard)
                        text = json.dumps(dashboard, indent=2)
                target = os.path.join(tmp, base)
                with open(target, "w", encoding="utf-8") as f:
                    f.write(text)
                paths.append(target)
            code, output = run_lint(*paths)
        self.assertEqual(code, 1, f"lint passed a dashboard that should fail:\n{output}")
        self.assertIn(expected, output)

    def test_id_not_null(self):
        self.lint_with(lambda d: d.update(id=12), "id must be present and null")

    def test_id_missing(self):
        self.lint_with(lambda d: d.pop("id"), "id must be present and null")

    def test_uid_missing(self):
        self.lint_with(lambda d: d.pop("uid"), "is not a stable uid")

    def test_uid_not_stable_form(self):
        self.lint_with(lambda d: d.update(uid="Fleet Overview"), "is not a stable uid")

    def test_uid_too_long(self):
        self.lint_with(lambda d: d.update(uid="fscanary-" + "a" * 40), "is not a stable uid")

    def test_uid_shared_by_two_dashboards(self):
        self.lint_with(lambda d: d.update(uid="fscanary-fleet"), "also used by",
                       name="fscanary-correlation.json")

    def test_inputs(self):
        self.lint_with(lambda d: d.update(__inputs=[{"name": "DS_PROMETHEUS"}]), "__inputs")

    def test_ds_placeholder(self):
        def mutate(d):
            _, target = first_target(d, lambda p, t: True)
            target["datasource"] = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        self.lint_with(mutate, "${DS_PROMETHEUS}: file provisioning leaves it unresolved")

    def test_datasource_variable_missing(self):
        def mutate(d):
            d["templating"]["list"] = [v for v in d["templating"]["list"] if v["type"] != "datasource"]
        self.lint_with(mutate, 'no variable "datasource" of type datasource')

    def test_panel_with_fixed_datasource(self):
        def mutate(d):
            panel, _ = first_target(d, lambda p, t: True)
            panel["datasource"] = {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}
        self.lint_with(mutate, "is not the dashboard's variable")

    def test_query_variable_with_fixed_datasource(self):
        def mutate(d):
            variable = next(v for v in d["templating"]["list"] if v["name"] == "host")
            variable["datasource"] = "Prometheus"
        self.lint_with(mutate, "variable host: datasource", name="fscanary-host.json")

    def test_panel_without_unit(self):
        self.lint_with(lambda d: data_panels(d)[0]["fieldConfig"]["defaults"].pop("unit"),
                       "no unit (fieldConfig.defaults.unit)")

    def test_panel_with_empty_unit(self):
        self.lint_with(lambda d: data_panels(d)[1]["fieldConfig"]["defaults"].update(unit=""),
                       "no unit (fieldConfig.defaults.unit)")

    def test_text_panel_without_unit(self):
        def mutate(d):
            text = next(p for p in data_panels(d) if p["type"] == "text")
            text["fieldConfig"]["defaults"].pop("unit")
        self.lint_with(mutate, "no unit", name="fscanary-host.json")

    def test_panel_without_description(self):
        self.lint_with(lambda d: data_panels(d)[2].pop("description"), "no description")

    def test_rate_over_fixed_window(self):
        def mutate(d):
            _, target = first_target(d, lambda p, t: "rate(" in t["expr"] and not t.get("instant"))
            target["expr"] = target["expr"].replace("$__rate_interval", "5m")
        self.lint_with(mutate, "over [5m]: use $__rate_interval")

    def test_increase_over_range_in_range_query(self):
        def mutate(d):
            _, target = first_target(d, lambda p, t: "increase(" in t["expr"] and not t.get("instant"))
            target["expr"] = target["expr"].replace("$__rate_interval", "$__range")
        self.lint_with(mutate, "$__range only in an instant query")

    def test_other_range_fixed(self):
        def mutate(d):
            _, target = first_target(d, lambda p, t: True)
            target["expr"] = f'max_over_time(({target["expr"]})[1h:])'
        self.lint_with(mutate, "is a fixed duration")

    def test_expression_that_does_not_parse(self):
        def mutate(d):
            _, target = first_target(d, lambda p, t: True)
            target["expr"] += ")"
        self.lint_with(mutate, "could not parse expression")

    def test_expression_with_a_type_error(self):
        def mutate(d):
            _, target = first_target(d, lambda p, t: "rate(" in t["expr"])
            target["expr"] = "rate(fscanary_verified_bytes_total)"
        self.lint_with(mutate, "could not parse expression")

    def test_undefined_variable(self):
        def mutate(d):
            _, target = first_target(d, lambda p, t: True)
            target["expr"] = 'fscanary_host_up{host="$nohost"}'
        self.lint_with(mutate, "undefined variable $nohost")

    def test_link_to_missing_dashboard(self):
        self.lint_with(None, "link to /d/fscanary-nope",
                       raw=lambda text: text.replace("/d/fscanary-host?", "/d/fscanary-nope?"))

    def test_invalid_json(self):
        self.lint_with(None, "invalid JSON", raw=lambda text: text[: len(text) // 2])


if __name__ == "__main__":
    if not PROMTOOL:
        print("SKIP: promtool not found (Debian package prometheus)")
        sys.exit(77)
    unittest.main(verbosity=2)
