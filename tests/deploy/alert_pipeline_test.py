#!/usr/bin/env python3
"""End to end on loopback: a corruption injected behind a running agent pages.

Runs the real fscanary-collector and fscanary-agent, Prometheus with the
project's rules (deploy/prometheus/prometheus-1s.yml: 1 s scrapes) and
Alertmanager with the example configuration (deploy/alertmanager), whose
webhook receivers point at a small HTTP server in this script. Asserts that:
  - the host's findings series exists at 0 before any finding, and nothing pages;
  - FscanaryCorruptionDetected reaches the page receiver within 15 s of the
    agent detecting the corruption, labelled with the host and severity critical;
  - every PromQL expression of dashboards/ and of the rules evaluates against
    that Prometheus without error, and the main fleet panels return data;
  - restarting the collector does not page again for the same finding.
With --backend postgres the collector stores in a fresh database on the
PostgreSQL server of the ctest fixture `postgres` (the file
$FSCANARY_TEST_POSTGRES names its directory), and the test checks that the
host and its findings are there and that no SQLite file was written.
Exit 77 (skipped) when prometheus or the alertmanager is not installed, or
(not as root) when there is no PostgreSQL server for --backend postgres.
Usage: alert_pipeline_test.py --root SRC --collector BIN --agent BIN --cli BIN
                              [--backend sqlite|postgres]
"""

import argparse
import glob
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

PAGE_DEADLINE_SECONDS = 15.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Webhook:
    """Records what Alertmanager posts, with the time it arrived."""

    def __init__(self):
        self.posts = []
        self.lock = threading.Lock()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook.lock:
                    hook.posts.append((time.time(), self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pages(self, alertname):
        """(arrival time, alert) for every firing alert of that name posted to /fscanary/page."""
        found = []
        with self.lock:
            for arrived, path, body in self.posts:
                if path != "/fscanary/page":
                    continue
                for alert in body.get("alerts", []):
                    if alert["labels"].get("alertname") == alertname and alert["status"] == "firing":
                        found.append((arrived, alert))
        return found


def prometheus_query(port, expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)["data"]["result"]
    except OSError:
        return None


# Panels over series every live fleet has once a finding arrived.
MAIN_SERIES = ("fscanary_host_findings_total", "fscanary_findings_total", "fscanary_hosts",
               "fscanary_host_up", "fscanary_verified_bytes_total", "fscanary_host_info")


class Postgres:
    """A fresh database on the test run's PostgreSQL server, read with psql."""

    def __init__(self):
        path = os.environ.get("FSCANARY_TEST_POSTGRES", "")
        directory = ""
        if path and os.path.exists(path):
            with open(path) as f:
                directory = f.read().strip()
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
        self.psql = binaries[-1] if binaries else shutil.which("psql")
        self.available = bool(directory and self.psql)
        self.directory = directory
        self.name = f"alert_pipeline_{os.getpid()}"
        self.dsn = f"host={directory} user=postgres dbname={self.name}"

    def query(self, sql, database=None):
        dsn = f"host={self.directory} user=postgres dbname={database or self.name}"
        out = subprocess.run([self.psql, dsn, "-AtXq", "-c", sql], capture_output=True,
                             text=True)
        assert out.returncode == 0, f"psql {sql}: {out.stderr}"
        return out.stdout.strip()

    def create(self):
        self.query(f"CREATE DATABASE {self.name}", database="postgres")

    def store_yaml(self):
        return f'store:\n  backend: postgres\n  postgres:\n    dsn: "{self.dsn}"\n'


def check_expressions(root, port):
    listing = subprocess.run(
        [sys.executable, os.path.join(root, "tests/deploy/lint_dashboards.py"), "--root", root,
         "--list-expressions", "--var", "host=alert-vm-1", "--var", "__rate_interval=1m",
         "--var", "__interval=15s", "--var", "__from=0"],
        capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    errors, empty_main, empty = [], [], 0
    for row in rows:
        url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": row["promql"]})
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            errors.append(f"{row['source']}: {row['location']}: {error.read().decode()}")
            continue
        if answer.get("status") != "success":
            errors.append(f"{row['source']}: {row['location']}: {answer}")
        elif not answer["data"]["result"] and row["kind"] not in ("alert", "record"):
            empty += 1
            if any(series in row["promql"] for series in MAIN_SERIES):
                empty_main.append(f"{row['source']}: {row['location']}: {row['promql']}")
    print(f"{len(rows)} expressions evaluated live: {len(errors)} errors, "
          f"{empty} panels without data yet ({len(empty_main)} of them main panels)")
    assert not errors, "expressions failed:\n" + "\n".join(errors)
    assert not empty_main, "main panels without data:\n" + "\n".join(empty_main)


def main():
    parser = argparse.ArgumentParser()
    for name in ("root", "collector", "agent", "cli"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    prometheus = shutil.which("prometheus")
    alertmanager = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if not prometheus or not alertmanager:
        print("SKIP: prometheus and prometheus-alertmanager are needed")
        return 77
    postgres = None
    if args.backend == "postgres":
        postgres = Postgres()
        if not postgres.available:
            # As the C++ tests: CI runs as root with PostgreSQL installed, and
            # there the test must run.
            print("no PostgreSQL server of the ctest fixture `postgres` ($FSCANARY_TEST_POSTGRES)")
            return 1 if os.geteuid() == 0 else 77
        postgres.create()

    work = tempfile.mkdtemp(prefix="fscanary-alert-")
    processes = []

    def start(name, argv):
        log = open(os.path.join(work, name + ".log"), "w")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    try:
        webhook = Webhook()
        grpc_port, metrics_port, admin_port = free_port(), free_port(), free_port()
        prometheus_port, alertmanager_port = free_port(), free_port()

        with open(os.path.join(args.root, "deploy/alertmanager/alertmanager.yml")) as f:
            am_config = f.read().replace("127.0.0.1:5001", f"127.0.0.1:{webhook.port}")
        with open(os.path.join(work, "alertmanager.yml"), "w") as f:
            f.write(am_config)
        os.makedirs(os.path.join(work, "rules"))
        shutil.copy(os.path.join(args.root, "deploy/prometheus/rules/fscanary.rules.yml"),
                    os.path.join(work, "rules"))
        with open(os.path.join(args.root, "deploy/prometheus/prometheus-1s.yml")) as f:
            prom_config = (f.read().replace("127.0.0.1:9093", f"127.0.0.1:{alertmanager_port}")
                           .replace("127.0.0.1:9420", f"127.0.0.1:{metrics_port}"))
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write(prom_config)
        with open(os.path.join(work, "collector.yaml"), "w") as f:
            # Queries go to the admin listener (on `listen` they need an
            # operator credential).
            f.write(f"listen: 127.0.0.1:{grpc_port}\nadmin_listen: 127.0.0.1:{admin_port}\n"
                    f"state_dir: {work}/collector\n"
                    f"metrics:\n  listen: 127.0.0.1:{metrics_port}\n"
                    + (postgres.store_yaml() if postgres else ""))
        target = os.path.join(work, "scratch.img")
        with open(os.path.join(work, "agent.yaml"), "w") as f:
            f.write(f"""agent_id: alert-vm-1
state_dir: {work}/agent
collector:
  address: 127.0.0.1:{grpc_port}
  backoff:
    initial: 100ms
    max: 1s
report_interval: 1s
heartbeat_interval: 1s
kernel_log:
  enabled: false
budget:
  bytes_per_second: 0
  ios_per_second: 0
targets:
  - name: scratch
    path: {target}
    size: 8M
    schedule:
      write_interval: 1s
      cold_read_interval: 1s
      scrub_interval: 2s
""")

        start("alertmanager", [alertmanager, f"--config.file={work}/alertmanager.yml",
                               f"--storage.path={work}/am-data",
                               f"--web.listen-address=127.0.0.1:{alertmanager_port}",
                               "--cluster.listen-address="])
        start("prometheus", [prometheus, f"--config.file={work}/prometheus.yml",
                             f"--storage.tsdb.path={work}/prom-data",
                             f"--web.listen-address=127.0.0.1:{prometheus_port}"])
        collector_argv = [args.collector, "--config", f"{work}/collector.yaml"]
        collector = start("collector", collector_argv)
        # Every block written and durable first, so that any block corrupted
        # below is one the agent verifies.
        subprocess.run([args.agent, "write", "--target", target, "--size", "8M",
                        "--state-dir", f"{work}/agent/targets"], check=True,
                       stdout=subprocess.DEVNULL)
        start("agent", [args.agent, "run", "--config", f"{work}/agent.yaml"])

        series = 'fscanary_host_findings_total{host="alert-vm-1"}'
        result = wait_for("Prometheus to scrape the new host's findings series",
                          lambda: prometheus_query(prometheus_port, series), 60)
        assert float(result[0]["value"][1]) == 0, f"a new host starts at 0 findings: {result}"
        # The rule is evaluated every second; give it a few rounds on the clean host.
        wait_for("three rule evaluations",
                 lambda: prometheus_query(prometheus_port, f"count_over_time({series}[1m]) >= 3"),
                 30)
        assert not webhook.pages("FscanaryCorruptionDetected"), "paged before any corruption"

        injected = time.time()
        with open(target, "r+b") as f:
            for block in range(10, 2000, 97):
                f.seek((block + 1) * 4096 + 1000)
                f.write(b"CORRUPTED-BY-THE-ALERT-TEST")

        def first_detection():
            out = subprocess.run([args.cli, "findings", "--collector", f"127.0.0.1:{admin_port}",
                                  "--json"], capture_output=True, text=True)
            if out.returncode != 0:
                return None
            findings = json.loads(out.stdout).get("findings", [])
            if not findings:
                return None
            return min(int(f["finding"]["detected_unix_nanos"]) for f in findings) / 1e9

        detected = wait_for("the collector to hold a finding", first_detection, 60)
        pages = wait_for("FscanaryCorruptionDetected at the page receiver",
                         lambda: webhook.pages("FscanaryCorruptionDetected"), 60)
        arrived, alert = pages[0]
        latency = arrived - detected
        print(f"injected -> paged: {arrived - injected:.2f} s; detected -> paged: {latency:.2f} s "
              f"(deadline {PAGE_DEADLINE_SECONDS} s)")
        assert alert["labels"].get("host") == "alert-vm-1", alert
        assert alert["labels"].get("severity") == "critical", alert
        assert alert["annotations"].get("runbook_url", "").endswith("#fscanarycorruptiondetected")
        assert latency <= PAGE_DEADLINE_SECONDS, f"paged {latency:.2f} s after detection"

        # The attribute aggregates are recomputed in the background (at once
        # after a finding); rate() and increase() need two samples of them.
        wait_for("two scrapes of the attribute aggregates",
                 lambda: prometheus_query(prometheus_port,
                                          "count_over_time(fscanary_findings_total[1m]) >= 3"), 60)
        check_expressions(args.root, prometheus_port)

        # A collector restart must not page again for the same finding: the
        # series come back with the same count.
        collector.terminate()
        assert collector.wait(timeout=30) == 0, "the collector exits 0 on SIGTERM"
        pages_before = len(webhook.pages("FscanaryCorruptionDetected"))
        start("collector-restarted", collector_argv)
        wait_for("the restarted collector to be scraped",
                 lambda: prometheus_query(prometheus_port, "up{job=\"fscanary-collector\"} == 1 "
                                          "and changes(up{job=\"fscanary-collector\"}[1m]) > 0"),
                 30)
        count = f'sum(increase(fscanary_host_findings_total{{host="alert-vm-1"}}[2m]))'
        # Ten evaluations after the restart, Alertmanager has received no new page.
        time_after = time.monotonic() + 10
        wait_for("ten seconds of evaluations after the restart",
                 lambda: time.monotonic() >= time_after and prometheus_query(prometheus_port, count),
                 30)
        new_pages = [p for p in webhook.pages("FscanaryCorruptionDetected")[pages_before:]
                     if p[1]["startsAt"] != alert["startsAt"]]
        assert not new_pages, f"the restart paged again: {new_pages}"
        sqlite_file = os.path.join(work, "collector", "collector.db")
        if postgres:
            # What paged came from PostgreSQL, not from a SQLite file on the side.
            assert not os.path.exists(sqlite_file), f"store.backend is postgres, yet {sqlite_file}"
            stored = postgres.query("SELECT count(*) FROM findings JOIN hosts USING (host_id) "
                                    "WHERE agent_id = 'alert-vm-1'")
            assert int(stored) > 0, f"no finding of alert-vm-1 in PostgreSQL {postgres.dsn}"
            print(f"{stored} findings of alert-vm-1 stored in PostgreSQL {postgres.dsn}")
        else:
            assert os.path.exists(sqlite_file), f"the collector stored nothing in {sqlite_file}"
        print(f"OK ({args.backend}): new host at 0, paged within the deadline, no second page "
              "after a restart")
        return 0
    except AssertionError as error:
        print(f"FAIL: {error}")
        for name in sorted(os.listdir(work)):
            if name.endswith(".log"):
                with open(os.path.join(work, name)) as f:
                    print(f"--- {name} (last 20 lines)\n" + "".join(f.readlines()[-20:]))
        return 1
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
