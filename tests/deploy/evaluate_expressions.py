#!/usr/bin/env python3
"""Evaluates every dashboard and alert expression against a synthetic fleet.

Parsing (lint_dashboards.py) does not catch what fails only on data: a join
that turns many-to-many, a label set duplicated by `or`, a histogram query
over the wrong series. This builds a small fleet shaped as docs/METRICS.md
says the collector exports it (three hosts, one with a finding, suspects,
histograms), takes the expressions from `lint_dashboards.py
--list-expressions`, and has `promtool test rules` evaluate each one:

  - a dashboard panel or variable must evaluate without error and return
    data (`absent(expr)` is empty);
  - an alert expression must evaluate without error (whether it fires is for
    fscanary.rules.test.yml).

Exit status: 0 clean, 1 problems, 77 when promtool is missing.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
LINT = os.path.join(HERE, "lint_dashboards.py")

MINUTES = 130  # samples, one a minute
EVAL_TIME = "2h"
COMMON = 'job="fscanary-collector",instance="127.0.0.1:9420"'
HOSTS = {
    # host: (kernel, blk_mq, scheduler, driver, fs)
    "web-01": ("6.1.0-18-amd64", "on", "none", "virtio_blk", "ext4"),
    "web-02": ("6.1.0-18-amd64", "on", "mq-deadline", "virtio_blk", "xfs"),
    "web-03": ("5.10.0-28-amd64", "off", "bfq", "sd", "raw"),
}
LATENCY_BOUNDS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0",
                  "10.0", "+Inf"]


def constant(value):
    return f"{value}x{MINUTES}"


def counter(step, start=0):
    return f"{start}+{step}x{MINUTES}"


def step_at(minute, before, after):
    return f"{before}x{minute - 1} {after}x{MINUTES - minute}"


def attributes(host):
    kernel, blk_mq, scheduler, driver, fs = HOSTS[host]
    return f'kernel="{kernel}",blk_mq="{blk_mq}",scheduler="{scheduler}",driver="{driver}",fs="{fs}"'


def synthetic_fleet():
    """(series, values) pairs of a fleet as the collector exports it."""
    s = [
        (f'up{{{COMMON}}}', constant(1)),
        (f'fscanary_build_info{{{COMMON},version="0.1.0",revision="0123abc"}}', constant(1)),
        (f'fscanary_hosts{{{COMMON}}}', constant(3)),
        (f'fscanary_agents_connected{{{COMMON}}}', constant(2)),
        (f'fscanary_agents_stale{{{COMMON}}}', constant(1)),
        (f'fscanary_agents_spool_records{{{COMMON}}}', counter(1)),
    ]
    # Every host counted by attributes; per-host series below are for the
    # watched ones (in a fleet this small, all of them).
    for host in HOSTS:
        s.append((f'fscanary_hosts_by_attributes{{{COMMON},{attributes(host)},distro="debian-12",'
                  f'virtualization="kvm",agent_version="0.1.0"}}', constant(1)))
    for reason in ("finding", "silent", "verification_stalled", "checker_failing", "spool_loss",
                   "spool_backlog", "small_fleet"):
        s.append((f'fscanary_hosts_watched{{{COMMON},reason="{reason}"}}',
                  constant(3 if reason == "small_fleet" else 0)))
    for host in HOSTS:
        h = f'{COMMON},host="{host}"'
        silent = host == "web-03"
        s += [
            (f"fscanary_host_up{{{h}}}", constant(0 if silent else 1)),
            (f"fscanary_host_last_seen_timestamp_seconds{{{h}}}",
             constant(600) if silent else counter(60)),
            (f"fscanary_host_last_verified_timestamp_seconds{{{h}}}",
             constant(0) if silent else counter(60)),
            (f"fscanary_host_spool_records{{{h}}}", counter(1) if host == "web-01" else constant(0)),
            (f'fscanary_host_info{{{h},{attributes(host)},distro="debian-12",virtualization="kvm",'
             f'agent_version="0.1.0"}}', constant(1)),
        ]
        for what in ("reports_summarised", "reports_dropped", "findings_dropped", "damaged"):
            lost = counter(1) if host == "web-01" and what == "reports_dropped" else constant(0)
            s.append((f'fscanary_host_spool_lost_records_total{{{h},what="{what}"}}', lost))
        # web-02's block checker fails from 90m on; every other checker is fine.
        for checker, target in (("block", "scratch"), ("page_cache", "rootfs")):
            c = f'{h},checker="{checker}",target="{target}"'
            failing = host == "web-02" and checker == "block"
            s.append((f"fscanary_host_checker_failing{{{c}}}",
                      step_at(90, 0, 1) if failing else constant(0)))
            s.append((f"fscanary_host_checker_failed_steps_total{{{c}}}",
                      counter(1) if failing else constant(0)))
        # web-01 finds a lost write at 60m, detected 10 s before.
        s.append((f"fscanary_host_findings_total{{{h}}}",
                  step_at(60, 0, 1) if host == "web-01" else constant(0)))
        s.append((f"fscanary_host_last_finding_timestamp_seconds{{{h}}}",
                  step_at(60, 0, 3590) if host == "web-01" else constant(0)))
    for host in HOSTS:
        a = f"{COMMON},{attributes(host)}"
        s.append((f"fscanary_verified_bytes_total{{{a}}}", counter(4 * 2**20 * 60)))
        s.append((f"fscanary_written_bytes_total{{{a}}}", counter(2 * 2**20 * 60)))
        for kind in ("lost_write", "checksum_mismatch"):
            found = step_at(60, 0, 1) if host == "web-01" and kind == "lost_write" else constant(0)
            s.append((f'fscanary_findings_total{{{a},kind="{kind}"}}', found))
    for rank, conj, ratio, low, q, events in (
            ("1", "blk_mq=on,scheduler=none", 180, 40, 1e-6, 12),
            ("2", "kernel=6.1.0-18-amd64", 3.5, 1.2, 0.03, 14)):
        a = f'{COMMON},rank="{rank}",attributes="{conj}"'
        s += [(f"fscanary_suspect_rate_ratio{{{a}}}", constant(ratio)),
              (f"fscanary_suspect_ci_low{{{a}}}", constant(low)),
              (f"fscanary_suspect_q_value{{{a}}}", constant(q)),
              (f"fscanary_suspect_events{{{a}}}", constant(events))]
    for bug, affected, possibly in (("blk-mq-direct-issue-merge", 0, 1),
                                    ("ext4-dio-write-position-6.1", 2, 0)):
        for verdict, hosts in (("affected", affected), ("possibly_affected", possibly)):
            s.append((f'fscanary_known_bug_hosts{{{COMMON},bug="{bug}",verdict="{verdict}"}}',
                      constant(hosts)))
    for outcome, step in (("stored", 100), ("duplicate", 1), ("commit_failed", 0)):
        s.append((f'fscanary_collector_records_total{{{COMMON},outcome="{outcome}"}}', counter(step)))
    for reason, step in (("unauthenticated", 1), ("invalid", 0)):
        s.append((f'fscanary_collector_rejected_messages_total{{{COMMON},reason="{reason}"}}',
                  counter(step)))
    for histogram in ("fscanary_collector_ingest_latency_seconds",
                      "fscanary_collector_storage_commit_seconds"):
        for i, bound in enumerate(LATENCY_BOUNDS):
            per_minute = min(100, 10 * (i + 1))  # cumulative: grows with the bound
            s.append((f'{histogram}_bucket{{{COMMON},le="{bound}"}}', counter(per_minute)))
        s.append((f"{histogram}_sum{{{COMMON}}}", counter(3)))
        s.append((f"{histogram}_count{{{COMMON}}}", counter(100)))
    return s


def yaml_string(text):
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def main():
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not promtool:
        print("SKIP: promtool not found (Debian package prometheus)")
        return 77
    listing = subprocess.run(
        [sys.executable, LINT, "--root", ROOT, "--list-expressions", "--var", "host=web-01",
         "--var", "__rate_interval=5m", "--var", "__interval=1m", "--var", "__from=0"],
        capture_output=True, text=True)
    if listing.returncode != 0:
        print(listing.stdout + listing.stderr)
        return 1
    rows = [json.loads(line) for line in listing.stdout.splitlines()]

    tests = {}  # wrapped expression -> where it comes from
    for row in rows:
        if row["kind"] in ("alert", "record"):
            wrapped = f"absent(count({row['promql']}) or vector(0))"
        else:
            wrapped = f"absent({row['promql']})"
        tests.setdefault(wrapped, []).append(f"{row['source']}: {row['location']}")

    lines = ["rule_files: []", "evaluation_interval: 1m", "tests:", "  - interval: 1m",
             "    input_series:"]
    for series, values in synthetic_fleet():
        lines += [f"      - series: {yaml_string(series)}", f"        values: {yaml_string(values)}"]
    lines.append("    promql_expr_test:")
    for wrapped in tests:
        lines += [f"      - expr: {yaml_string(wrapped)}", f"        eval_time: {EVAL_TIME}",
                  "        exp_samples: []"]
    with tempfile.TemporaryDirectory(prefix="fscanary-eval-") as tmp:
        path = os.path.join(tmp, "evaluate.test.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        result = subprocess.run([promtool, "test", "rules", path], capture_output=True, text=True)
    if result.returncode == 0:
        print(f"OK: {len(rows)} expressions evaluated by {promtool}; every panel returned data")
        return 0

    output = result.stdout + result.stderr
    reported = False
    for match in re.finditer(r'expr: "(.*?)", time: [^,]*,(.*?)(?=\n    expr: |\Z)', output, re.S):
        wrapped = match.group(1).replace('\\"', '"').replace("\\\\", "\\")
        detail = " ".join(match.group(2).split())
        what = "no data" if "got: {} 1E+00" in detail else detail
        for where in tests.get(wrapped, [f"(unknown expression) {wrapped}"]):
            print(f"FAIL {where}: {what}\n    {wrapped}")
            reported = True
    if not reported:
        print(output)
    return 1


if __name__ == "__main__":
    sys.exit(main())
