#!/usr/bin/python3
"""The VM suite: the whole product in a box of Debian guests (issue 11).

Builds the guest image with this tree's fscanary-agent .deb, starts a
collector on loopback, boots guests under QEMU TCG whose root and scratch
disks are served by the fault plugin (fault_disk/), and runs the scenarios:

  facts     the collector's facts for every guest equal what the guest's own
            /sys and /proc say (kernel, driver, scheduler, blk-mq, write cache,
            kernel config hash, root filesystem)
  fleet     a merged-request corruption (the shape of kernel bugzilla 201685)
            armed only beneath the guests with virtio_scsi and scheduler none:
            `fscanary analyze` ranks that conjunction first, and Prometheus and
            Alertmanager with the repo's configs page for those guests only
  detect    each fault kind armed beneath each guest arrives at the collector
            as a finding of the right kind
  powercut  power cuts in the middle of write rounds leave no finding at all;
            then one real corruption is found; then, with the disk lying about
            flushes, the same cuts must give lost writes (the control)
  epoch     a reboot with another scheduler starts a new host epoch at the
            collector, and exposure is counted in each

and prints a summary table. Exit status 0 when every scenario passed, 1 when
one failed, 77 when the machine lacks what the box needs (printing why).

  vm_suite.py --build BUILD_DIR [--guests N] [--cuts N] [--control-cuts N]
              [--scenarios facts,fleet,detect,powercut,epoch] [--work DIR] [--keep] [--demo]
"""

import argparse
import concurrent.futures
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import box  # noqa: E402
from box import wait_for  # noqa: E402

PAGE = 4096
LABEL_AREA = 64 << 10  # damage at rest lands past the target's label
ROOTFS_TARGET_BYTES = 8 << 20  # the file target on the guest's root (guest/etc/fscanary)
BOOT_SECONDS = 300  # TCG on a busy 2-core machine; more with more guests (Fleet.boot)
FINDING_SECONDS = 120
FAULT_ATTEMPTS = 3

# The fleet's shapes, in the order guests are made: virtio-scsi with none is
# the faulted conjunction of the fleet scenario. A fleet of two keeps the other
# apart on both; the full fleet of five has the conjunction twice (the
# analysis wants events on two hosts) and each of its parts without the other.
SHAPES = [("virtio-scsi", "none"), ("virtio-blk", "mq-deadline"),
          ("virtio-scsi", "none"), ("virtio-blk", "none"), ("virtio-scsi", "mq-deadline"),
          ("virtio-blk", "bfq")]


class Summary:
    """One row per scenario and guest: what was armed, expected and found."""

    def __init__(self):
        self.rows = []
        self.failures = []

    def add(self, scenario, guests, armed, expected, found, false_findings, seconds, ok, note=""):
        self.rows.append((scenario, guests, armed, expected, found, false_findings,
                          "-" if seconds is None else f"{seconds:.1f}", "ok" if ok else "FAIL",
                          note))
        if not ok:
            self.failures.append(f"{scenario} ({guests}): {note}")
        # As it happens too, so that a run cut short still says what it saw.
        print(f"-- {scenario} | {guests} | {armed} | expected {expected} | found {found} | "
              f"false {false_findings} | {self.rows[-1][6]} s | {self.rows[-1][7]} {note}",
              flush=True)

    def print(self):
        header = ("scenario", "guests", "faults armed", "findings expected", "found",
                  "false findings", "s fault->collector", "result", "note")
        widths = [max(len(str(row[i])) for row in [header, *self.rows]) for i in range(len(header))]
        line = lambda row: "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()
        print("\n== VM suite summary")
        print(line(header))
        print(line(["-" * w for w in widths]))
        for row in self.rows:
            print(line(row))


def describe_finding(f):
    """One finding in a line a failed row can carry: kind, where, and for a
    block the generations and the sector map (state: count), so that a false
    finding in CI can be understood without the guest."""
    finding = f["finding"]
    text = f"{finding['kind']} {finding.get('device') or finding.get('offset')}"
    expected = finding.get("expected_generation")
    found = finding.get("found_generation")
    if expected is not None:
        text += f" expected gen {expected} found {found}"
    sectors = finding.get("sectors") or []
    if sectors:
        counts = {}
        for state in sectors:
            counts[str(state)] = counts.get(str(state), 0) + 1
        text += " sectors " + ",".join(f"{k.replace('SECTOR_', '').lower()}:{v}"
                                       for k, v in sorted(counts.items()))
    return text


def kind_names(findings):
    """Each finding's kind; a kernel line about a failed read or write also
    counts as KERNEL_REPORTED:READ or :WRITE, and the agent's own failed I/O as
    IO_ERROR:IO_WRITE (or its other operation), so a test can ask for the one
    it caused."""
    names = []
    for f in findings:
        kind = f["finding"]["kind"]
        names.append(kind)
        message = f["finding"].get("message", "")
        for op in ("READ", "WRITE"):
            if kind == "KERNEL_REPORTED" and f"({op})" in message:
                names.append(f"{kind}:{op}")
        if kind == "IO_ERROR" and "io_operation" in f["finding"]:
            names.append(f"{kind}:{f['finding']['io_operation']}")
    return names


class Fleet:
    """The collector and guests of one run."""

    def __init__(self, args, image_dir, work):
        self.args, self.image_dir, self.work = args, image_dir, work
        self.collector = box.Collector(args.binaries, work)
        self.guests = []
        for index in range(args.guests):
            driver, scheduler = SHAPES[index % len(SHAPES)]
            self.guests.append(box.Guest(f"vm{index + 1}", image_dir, work, self.collector,
                                         driver=driver, scheduler=scheduler,
                                         seed=args.seed + 10 * index))

    def each(self, work, guests=None):
        """work(guest) on every guest at once; re-raises the first failure."""
        guests = self.guests if guests is None else guests
        with concurrent.futures.ThreadPoolExecutor(len(guests)) as pool:
            return list(pool.map(work, guests))

    def seen(self, guest):
        """Sequence numbers of the guest's findings at the collector now."""
        return {f["sequence"] for f in self.collector.findings(guest.agent_id)}

    def wait_quiet(self, guest, quiet_seconds=10, timeout=120):
        """The guest's findings, once none has arrived for quiet_seconds: what a
        fault armed before caused (kernel lines logged late, a reread) stays
        with it instead of landing in the next step's window."""
        state = {"seen": self.seen(guest), "since": time.monotonic()}

        def quiet():
            now = self.seen(guest)
            if now != state["seen"]:
                state["seen"], state["since"] = now, time.monotonic()
            # A one-element tuple: true even when the guest has no finding at all.
            return (state["seen"],) if time.monotonic() - state["since"] >= quiet_seconds else None
        return wait_for(f"{guest.name}: no new finding for {quiet_seconds} s", quiet, timeout, 1)[0]

    def new_findings(self, guest, before):
        return [f for f in self.collector.findings(guest.agent_id) if f["sequence"] not in before]

    def host_summary(self, guest):
        for host in self.collector.hosts():
            if host["agent_id"] == guest.agent_id:
                return host
        return None

    def wait_streaming(self, guest, since):
        """Until the guest's agent, started after `since`, reports to the collector.
        Guests boot at once and share two cores under TCG: the bound grows with them."""
        def connected():
            host = self.host_summary(guest)
            return host and host.get("connected") and \
                int(host.get("last_seen_unix_nanos", 0)) / 1e9 > since
        wait_for(f"{guest.name}'s agent to stream to the collector", connected,
                 max(BOOT_SECONDS, 90 * len(self.guests)), 1)

    def wait_writing(self, guest):
        """Until the guest's agent has written to its scratch disk since now."""
        before = guest.scratch.control("status")["counts"]["writes"]
        wait_for(f"{guest.name}'s agent to write a round", lambda:
                 guest.scratch.control("status")["counts"]["writes"] > before, BOOT_SECONDS, 0.5)

    def wait_verified(self, guest, scratch_passes=2):
        """Until the agent has verified `scratch_passes` times its targets' size
        since now (a scrub after a boot reads every block written)."""
        start = int(self.host_summary(guest).get("bytes_verified", 0))
        size = os.path.getsize(guest.scratch.image) + ROOTFS_TARGET_BYTES
        wait_for(f"{guest.name}'s agent to verify {scratch_passes} x its targets", lambda:
                 int(self.host_summary(guest).get("bytes_verified", 0)) - start
                 >= scratch_passes * size, 600, 1)

    def boot(self, guest):
        started = time.time()
        guest.boot()
        # fscanary-vm-boot takes the blank scratch disk over at the first boot
        # and at no other: its failure is named here, not left to look like
        # an agent that never streams.
        taken = guest.wait_console(r"FSCANARY_VM_TAKE_OVER_(OK|FAILED|SKIPPED)",
                                   max(BOOT_SECONDS, 90 * len(self.guests)))
        expected = "OK" if guest.boots == 1 else "SKIPPED"
        if taken.group(1) != expected:
            raise AssertionError(f"{guest.name}: take-over at boot {guest.boots} was "
                                 f"{taken.group(1)}, not {expected}; console in {guest.console_path}")
        self.wait_streaming(guest, started)

    def wait_kinds(self, guest, before, kinds, timeout=FINDING_SECONDS):
        """New findings of the guest until every kind in `kinds` is among them."""
        def arrived():
            found = self.new_findings(guest, before)
            return found if set(kinds) <= set(kind_names(found)) else None
        return wait_for(f"{guest.name}: findings of kinds {sorted(kinds)}", arrived, timeout, 0.5)

    def stop(self):
        for guest in self.guests:
            guest.stop()
        self.collector.stop()


# --- scenarios ---------------------------------------------------------------------

def scenario_facts(fleet, summary):
    def check(guest):
        own = guest.guest_facts()
        reported = fleet.collector.host(guest.agent_id)
        facts = reported["epochs"][-1]["facts"]
        devices = {d["name"]: d for d in facts.get("devices", [])}
        scratch = devices.get(own["scratch_device"], {})
        file_fs = [f for f in facts.get("filesystems", []) if f.get("target") == "rootfs"]
        pairs = {
            "kernel_release": (facts.get("kernel_release"), own["kernel_release"]),
            "driver": (scratch.get("driver"), own["driver"]),
            "scheduler": (scratch.get("scheduler"), own["scheduler"]),
            "blk_mq": (scratch.get("blk_mq"), "on" if int(own["nr_hw_queues"]) > 0 else "off"),
            "write_cache": (scratch.get("write_cache"), own["write_cache"]),
            "kernel_config_sha256": (facts.get("kernel_config_sha256"), own["config_sha256"]),
            "file target's fs": (file_fs[0].get("fs_type") if file_fs else None,
                                 own["scratch_file_fs"]),
            "scheduler asked": (own["scheduler"], guest.scheduler),
            "scratch owner": (own["scratch_owner"], "fscanary-agent:600"),
        }
        wrong = {k: v for k, v in pairs.items() if v[0] != v[1]}
        note = "; ".join(f"{k}: collector {a!r}, guest {b!r}" for k, (a, b) in wrong.items())
        summary.add("facts", f"{guest.name} {guest.driver}/{guest.scheduler}", "-",
                    f"{len(pairs)} facts equal", f"{len(pairs) - len(wrong)} equal", 0, None,
                    not wrong, note or f"driver {own['driver']}, kernel {own['kernel_release']}")
    fleet.each(check)


def scenario_fleet(fleet, summary):
    """Merged-request corruption beneath the virtio_scsi + none guests only."""
    faulted = [g for g in fleet.guests if (g.driver, g.scheduler) == ("virtio-scsi", "none")]
    clean = [g for g in fleet.guests if g not in faulted]
    pipeline = AlertPipeline(fleet.collector, fleet.work)
    try:
        before = {g.name: fleet.seen(g) for g in fleet.guests}
        pipeline.wait_scraped([g.agent_id for g in fleet.guests])
        armed_at = time.time()
        for guest in faulted:
            guest.scratch.control("corrupt_larger", bytes=16 << 10)

        def detect(guest):
            found = fleet.wait_kinds(guest, before[guest.name], {"MISDIRECTED_WRITE"})
            guest.scratch.control("corrupt_larger", bytes=None)
            return time.time() - armed_at, found
        results = fleet.each(detect, faulted)
        # The rounds keep merging with the fault armed again, so that events
        # accumulate on the faulted guests only, until the analysis can tell
        # the conjunction from each of its parts (or the bound runs out: then
        # the last ranking is what the row reports).
        for guest in faulted:
            guest.scratch.control("corrupt_larger", bytes=16 << 10)
        for guest in faulted:
            wait_for(f"{guest.name}: three corrupted merged requests", lambda g=guest:
                     g.scratch.control("status")["counts"]["writes_corrupted"] >= 3, 120, 0.5)
        ranking_seen = []

        def conjunction_first():
            ranking_seen[:] = [analysis_ranks_conjunction(fleet)]
            return ranking_seen[0][0]
        if len(fleet.guests) >= 4:
            try:
                wait_for("analyze to rank virtio_scsi+none first", conjunction_first, 300, 5)
            except AssertionError:
                pass
        for guest in faulted:
            guest.scratch.control("corrupt_larger", bytes=None)
        def all_faulted_paged():
            paged = pipeline.paged_hosts()
            return paged if paged >= {g.agent_id for g in faulted} else None
        pages = wait_for("FscanaryCorruptionDetected for every faulted guest",
                         all_faulted_paged, 120, 1)
        false_findings = sum(len(fleet.new_findings(g, before[g.name])) for g in clean)
        wrong_pages = pages & {g.agent_id for g in clean}
        ranked, top_items = ranking_seen[0] if ranking_seen else analysis_ranks_conjunction(fleet)
        for guest, (seconds, found) in zip(faulted, results):
            summary.add("fleet", f"{guest.name} {guest.driver}/{guest.scheduler}",
                        "merged request > 16 KiB corrupted", "misdirected_write",
                        ",".join(sorted(set(kind_names(found)))), 0, seconds, True)
        note = f"top suspect {top_items[:120]}; paged {len(pages)} host(s)"
        ranking = "ranked first" if ranked else "not first"
        if len(fleet.guests) < 4:
            # Two hosts cannot tell one attribute from another: every value of
            # the faulted guest has the same events and exposure, and one host
            # is all the support any of them has. The ranking is the full
            # fleet's check (five guests); here the page is.
            ranked, ranking = True, f"not checked ({len(fleet.guests)} guests)"
        if fleet.args.demo:
            show_demo(fleet, pipeline)
        summary.add("fleet", f"{len(fleet.guests)} guests", f"{len(faulted)} faulted",
                    "analyze ranks virtio_scsi+none first; page only faulted",
                    ranking, false_findings + len(wrong_pages),
                    None, ranked and not false_findings and not wrong_pages, note)
    finally:
        pipeline.stop()


def analysis_ranks_conjunction(fleet):
    """Whether `fscanary analyze` ranks driver virtio_scsi with scheduler none
    first. Two faulted guests of the five in the full fleet separate the
    conjunction from its parts; in a fleet of two, every attribute of the
    faulted guest is an alias of the others and one guest is all the support
    there is, so there the top suspect's alias group must hold both."""
    small = len(fleet.guests) < 4
    # The conjunction lives on two guests of five: the CLI's defaults (events
    # from 3 host epochs) are for real fleets and would never let it be named.
    minimum = "1" if small else "2"
    argv = ["analyze", "--json", "--min-hosts", minimum, "--min-epochs", minimum]
    suspects = json.loads(fleet.collector.cli(*argv)).get("suspects", [])
    if not suspects:
        return False, "no suspect"
    top = suspects[0]
    if small:
        group = [top["attributes"], top.get("implied", {}), *top.get("aliases", []),
                 *[a["attributes"] for a in top.get("indistinguishable", [])]]
        merged = {k: v for attributes in group for k, v in attributes.items()}
    else:
        merged = top["attributes"]
    ranked = merged.get("driver") == "virtio_scsi" and merged.get("scheduler") == "none"
    return ranked, json.dumps(top["attributes"])


def show_demo(fleet, pipeline):
    """What an SRE sees: the finding, the correlation, the page."""
    print("\n== fscanary findings (the collector's view)")
    print(fleet.collector.cli("findings", "--limit", "10"))
    print("== fscanary analyze (which host attributes the corruptions follow)")
    print("(a fleet of two: every attribute of the faulted guest is an alias of the others, and\n"
          " one host is all the support there is, hence --min-hosts 1 --min-epochs 1)")
    print(fleet.collector.cli("analyze", "--min-hosts", "1", "--min-epochs", "1"))
    print("== the page Alertmanager sent")
    for arrived, alert in pipeline.webhook.pages("FscanaryCorruptionDetected")[:2]:
        print(f"{time.strftime('%H:%M:%S', time.localtime(arrived))} "
              f"{alert['labels'].get('alertname')} host={alert['labels'].get('host')} "
              f"severity={alert['labels'].get('severity')}\n  "
              f"{alert['annotations'].get('description', '')}\n")


def at_rest(op, **args):
    def arm(guest):
        for _ in range(4):  # four pages: a round may rewrite one before it is read
            guest.scratch.control(op, offset="durable", above=LABEL_AREA, **args)
    return arm


def eio_read(guest):
    where = guest.scratch.control("locate", offset="durable", above=LABEL_AREA)["offset"]
    guest.scratch.control("eio_read", ranges=[[where, where + PAGE]])


def eio_write(guest):
    size = os.path.getsize(guest.scratch.image)
    guest.scratch.control("eio_write", ranges=[[LABEL_AREA, size]])


# (name, arm(guest), kinds that must arrive). Each is disarmed ("clear") once found.
FAULTS = [
    ("bits flipped at rest", at_rest("flip", within=2000, bits=8), {"CHECKSUM_MISMATCH"}),
    ("range zeroed at rest", at_rest("zero", length=PAGE), {"ZEROED"}),
    ("write lost", lambda g: g.scratch.control("lose_next", count=1), {"LOST_WRITE"}),
    ("write torn after 3 sectors", lambda g: g.scratch.control("tear_next", sectors=3),
     {"TORN_WRITE"}),
    ("write misdirected onto known data",
     lambda g: g.scratch.control("misdirect_next", to="durable", above=LABEL_AREA),
     {"MISDIRECTED_WRITE"}),
    ("merged request > 16 KiB corrupted",
     lambda g: g.scratch.control("corrupt_larger", bytes=16 << 10), {"MISDIRECTED_WRITE"}),
    ("reads fail with EIO", eio_read, {"IO_ERROR", "KERNEL_REPORTED:READ"}),
    # The agent's own io_error (the failed write, io_operation IO_WRITE) and
    # the kernel's log line of it.
    ("writes fail with EIO", eio_write, {"IO_ERROR:IO_WRITE", "KERNEL_REPORTED:WRITE"}),
]


def scenario_detect(fleet, summary):
    def run(guest):
        rows = []
        for name, arm, kinds in FAULTS:
            before = fleet.wait_quiet(guest)
            armed_at = time.time()
            # A fault can land where the verifier has nothing to compare
            # (blocks never written, or rewritten before they were read): arm
            # it again, up to three times, and say so.
            for attempt in range(1, FAULT_ATTEMPTS + 1):
                arm(guest)
                try:
                    found = fleet.wait_kinds(guest, before, kinds, FINDING_SECONDS / FAULT_ATTEMPTS)
                    ok, note = True, "" if attempt == 1 else f"armed {attempt} times"
                    break
                except AssertionError as error:
                    found, ok, note = fleet.new_findings(guest, before), False, str(error)
                finally:
                    guest.scratch.control("clear")
            rows.append((name, kinds, found, time.time() - armed_at if ok else None, ok, note))
        return rows

    for guest, rows in zip(fleet.guests, fleet.each(run)):
        for name, kinds, found, seconds, ok, note in rows:
            summary.add("detect", f"{guest.name} {guest.driver}/{guest.scheduler}", name,
                        ",".join(sorted(k.lower() for k in kinds)),
                        ",".join(sorted({k.lower() for k in kind_names(found)})) or "none",
                        0, seconds, ok, note)


def cut_in_a_write_round(fleet, guest, rng, writes):
    """Freezes the scratch disk after `writes` more writes (inside a round), pulls
    the plug, applies the power cut to both disks and boots again."""
    fleet.wait_writing(guest)
    guest.scratch.control("freeze_after", writes=writes)
    wait_for(f"{guest.name}: scratch disk frozen in a write round", lambda:
             guest.scratch.control("status")["armed"]["frozen"], BOOT_SECONDS, 0.2)
    cut = guest.power_cut()
    fleet.boot(guest)
    return cut


def scenario_powercut(fleet, summary, cuts, control_cuts):
    def run(guest):
        # A step that fails on one guest ends that guest's rows with the
        # failure; the other guests' rows are kept (the first full-size run
        # lost all five guests' 20 cuts to one guest's control step).
        rows = []
        try:
            steps(guest, rows)
        except AssertionError as error:
            rows.append(("powercut", "aborted", "-", "-", 0, None, False, str(error)))
        finally:
            guest.scratch.control("clear")
        return rows

    def steps(guest, rows):
        rng = random.Random(f"{fleet.args.seed}-{guest.name}")
        before = fleet.wait_quiet(guest)
        lost_volatile = {"root": 0, "scratch": 0}
        for _ in range(cuts):
            for disk, cut in zip(("root", "scratch"),
                                 cut_in_a_write_round(fleet, guest, rng, rng.randint(1, 24))):
                lost_volatile[disk] += cut["counts"]["cut_dropped"] + cut["counts"]["cut_torn"]
        fleet.wait_verified(guest)
        false_findings = fleet.new_findings(guest, before)
        rows.append(("powercut", f"{cuts} cuts mid-round (volatile writes lost or torn: root "
                 f"{lost_volatile['root']}, scratch {lost_volatile['scratch']})",
                 "none", ",".join(sorted({k.lower() for k in kind_names(false_findings)})) or "none",
                 len(false_findings), None, not false_findings,
                 "; ".join(describe_finding(f) for f in false_findings[:3])))

        before = fleet.seen(guest)
        armed_at = time.time()
        at_rest("flip", within=2000, bits=8)(guest)
        try:
            found = fleet.wait_kinds(guest, before, {"CHECKSUM_MISMATCH"})
            rows.append(("powercut", "one real corruption after the cuts", "checksum_mismatch",
                         "checksum_mismatch", 0, time.time() - armed_at, True, ""))
        except AssertionError as error:
            rows.append(("powercut", "one real corruption after the cuts", "checksum_mismatch",
                         "none", 0, None, False, str(error)))

        before = fleet.seen(guest)
        guest.scratch.control("lie_flush", on=True)
        armed_at = time.time()
        # Fewer writes before the cut than in the rounds above: an agent that
        # has just found lost writes is scrubbing, not writing much.
        for _ in range(control_cuts):
            cut_in_a_write_round(fleet, guest, rng, rng.randint(8, 40))
        try:
            found = fleet.wait_kinds(guest, before, {"LOST_WRITE"}, timeout=300)
            rows.append(("powercut control", f"lying flush, {control_cuts} cuts", "lost_write",
                         ",".join(sorted({k.lower() for k in kind_names(found)})), 0,
                         time.time() - armed_at, True, "the test can fail"))
        except AssertionError as error:
            rows.append(("powercut control", f"lying flush, {control_cuts} cuts", "lost_write",
                         "none", 0, None, False, str(error)))

    for guest, rows in zip(fleet.guests, fleet.each(run)):
        for scenario, armed, expected, found, false_count, seconds, ok, note in rows:
            summary.add(scenario, f"{guest.name} {guest.driver}/{guest.scheduler}", armed,
                        expected, found, false_count, seconds, ok, note)


def scenario_epoch(fleet, summary):
    guest = fleet.guests[-1]
    epochs_before = fleet.collector.host(guest.agent_id)["epochs"]
    old_scheduler = guest.scheduler
    guest.scheduler = "mq-deadline" if old_scheduler != "mq-deadline" else "none"
    guest.power_cut()
    fleet.boot(guest)
    fleet.wait_verified(guest, scratch_passes=1)
    epochs = fleet.collector.host(guest.agent_id)["epochs"]
    newest = epochs[-1]
    schedulers = {d.get("scheduler") for d in newest["facts"].get("devices", [])
                  if d.get("target")}
    exposure = [int(e.get("bytes_verified", 0)) for e in epochs[-2:]]
    ok = (len(epochs) == len(epochs_before) + 1 and guest.scheduler in schedulers
          and len(exposure) == 2 and all(exposure))
    summary.add("epoch", f"{guest.name} {guest.driver}", f"reboot {old_scheduler} -> "
                f"{guest.scheduler}", "a new epoch, exposure in each",
                f"{len(epochs_before)} -> {len(epochs)} epochs, bytes verified {exposure}", 0,
                None, ok, f"newest epoch's target scheduler {sorted(s or '' for s in schedulers)}")


class AlertPipeline:
    """Prometheus (deploy/prometheus, 1 s scrapes) and Alertmanager
    (deploy/alertmanager) on loopback, scraping the collector; the pages land
    on a webhook in this process."""

    def __init__(self, collector, work):
        self.work = os.path.join(work, "alerting")
        os.makedirs(os.path.join(self.work, "rules"), exist_ok=True)
        self.webhook = box.Webhook()
        self.prometheus_port, am_port = box.free_port(), box.free_port()
        with open(os.path.join(SOURCE_DIR, "deploy/alertmanager/alertmanager.yml")) as f:
            am = f.read().replace("127.0.0.1:5001", f"127.0.0.1:{self.webhook.port}")
        with open(os.path.join(self.work, "alertmanager.yml"), "w") as f:
            f.write(am)
        shutil.copy(os.path.join(SOURCE_DIR, "deploy/prometheus/rules/fscanary.rules.yml"),
                    os.path.join(self.work, "rules"))
        with open(os.path.join(SOURCE_DIR, "deploy/prometheus/prometheus-1s.yml")) as f:
            prom = (f.read().replace("127.0.0.1:9093", f"127.0.0.1:{am_port}")
                    .replace("127.0.0.1:9420", f"127.0.0.1:{collector.metrics_port}"))
        with open(os.path.join(self.work, "prometheus.yml"), "w") as f:
            f.write(prom)
        self.log = open(os.path.join(self.work, "alerting.log"), "w")
        self.processes = [
            subprocess.Popen(["prometheus-alertmanager", f"--config.file={self.work}/alertmanager.yml",
                              f"--storage.path={self.work}/am-data",
                              f"--web.listen-address=127.0.0.1:{am_port}",
                              "--cluster.listen-address="], stdout=self.log, stderr=self.log),
            subprocess.Popen(["prometheus", f"--config.file={self.work}/prometheus.yml",
                              f"--storage.tsdb.path={self.work}/prom-data",
                              f"--web.listen-address=127.0.0.1:{self.prometheus_port}"],
                             stdout=self.log, stderr=self.log),
        ]

    def wait_scraped(self, hosts):
        def scraped():
            result = box.prometheus_query(self.prometheus_port, "fscanary_host_findings_total")
            return result and {r["metric"].get("host") for r in result} >= set(hosts)
        wait_for("Prometheus to scrape every guest's findings series", scraped, 120, 1)

    def paged_hosts(self):
        return {alert["labels"].get("host")
                for _, alert in self.webhook.pages("FscanaryCorruptionDetected")}

    def stop(self):
        for process in self.processes:
            process.terminate()
            process.wait()
        self.log.close()


def missing_facilities():
    needs = ["qemu-system-x86_64", "nbdkit", "debootstrap", "debugfs", "socat", "cpack",
             "prometheus", "prometheus-alertmanager", "zstd"]
    missing = [tool for tool in needs if shutil.which(tool) is None]
    if subprocess.run(["nbdkit", "python", "--version"], capture_output=True).returncode != 0:
        missing.append("nbdkit-plugin-python")
    if os.geteuid() != 0:
        missing.append("root (debootstrap, chroot)")
    return missing


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", required=True, help="a configured and built build dir")
    parser.add_argument("--guests", type=int, default=5)
    parser.add_argument("--cuts", type=int, default=20)
    parser.add_argument("--control-cuts", type=int, default=2)
    parser.add_argument("--scenarios", default="facts,fleet,detect,powercut,epoch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", help="work directory (default: a new one in /var/tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--demo", action="store_true",
                        help="two guests, the fleet scenario only, and print what an SRE sees")
    args = parser.parse_args()
    if args.demo:
        args.guests, args.scenarios = 2, "fleet"
    missing = missing_facilities()
    if missing:
        print(f"SKIP: the VM box needs {', '.join(missing)}")
        return 77
    if args.guests < 2:
        parser.error("--guests: at least 2 (the fleet scenario needs a guest left unfaulted)")
    build = os.path.abspath(args.build)
    args.binaries = {"collector": os.path.join(build, "collector/daemon/fscanary-collector"),
                     "cli": os.path.join(build, "collector/cli/fscanary")}
    work = args.work or tempfile.mkdtemp(prefix="fscanary-vm.", dir="/var/tmp")
    os.makedirs(work, exist_ok=True)
    scenarios = args.scenarios.split(",")
    summary = Summary()
    fleet = None
    started = time.time()
    try:
        deb = box.build_agent_deb(build, work)
        image_dir = box.build_image(deb, os.path.join(work, "image"))
        print(f"== image ready after {time.time() - started:.0f} s")
        fleet = Fleet(args, image_dir, work)
        fleet.each(fleet.boot)
        print(f"== {len(fleet.guests)} guests streaming after {time.time() - started:.0f} s")
        runs = {"facts": lambda: scenario_facts(fleet, summary),
                "fleet": lambda: scenario_fleet(fleet, summary),
                "detect": lambda: scenario_detect(fleet, summary),
                "powercut": lambda: scenario_powercut(fleet, summary, args.cuts, args.control_cuts),
                "epoch": lambda: scenario_epoch(fleet, summary)}
        for name in scenarios:
            scenario_started = time.time()
            try:
                runs[name]()
            except Exception as error:  # a scenario's failure must not hide the others'
                traceback.print_exc()
                summary.add(name, "-", "-", "-", "-", "-", None, False, f"aborted: {error}")
            print(f"== {name}: {time.time() - scenario_started:.0f} s")
    finally:
        if fleet:
            fleet.stop()
        summary.print()
        print(f"\n{len(summary.rows) - len(summary.failures)} passed, "
              f"{len(summary.failures)} failed ({time.time() - started:.0f} s; work in {work})")
        if not args.keep and not summary.failures:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if summary.failures or not summary.rows else 0


if __name__ == "__main__":
    sys.exit(main())
