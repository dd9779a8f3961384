"""The fleet in a box: a collector on loopback, fault disks served by nbdkit,
and Debian guests under QEMU TCG running the fscanary-agent .deb.

Building blocks for vm_suite.py; nothing here decides what a test asserts.
Every guest's network is QEMU user networking with restrict=on and a single
guestfwd to the collector's loopback port: nothing else leaves a guest.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "deploy"))
from alert_pipeline_test import Webhook, free_port, prometheus_query  # noqa: E402,F401

GUEST_COLLECTOR = ("10.0.2.100", 7420)  # what the image's agent.yaml names
SCRATCH_SERIAL = "fscanary-scratch"


def wait_for(what, predicate, timeout, interval=0.25):
    """Polls predicate until it returns something true; raises on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Collector:
    """fscanary-collector on loopback, SQLite in the work directory."""

    def __init__(self, binaries, work):
        self.binaries = binaries
        self.work = os.path.join(work, "collector")
        os.makedirs(self.work, exist_ok=True)
        self.port, self.metrics_port = free_port(), free_port()
        self.address = f"127.0.0.1:{self.port}"
        # Queries on the listener need an operator credential; the admin
        # listener (loopback) answers without one.
        self.admin_address = f"127.0.0.1:{free_port()}"
        config = os.path.join(self.work, "collector.yaml")
        with open(config, "w") as f:
            f.write(f"listen: {self.address}\nadmin_listen: {self.admin_address}\n"
                    f"state_dir: {self.work}/state\n"
                    f"metrics:\n  listen: 127.0.0.1:{self.metrics_port}\n"
                    "keepalive:\n  min_time: 10s\n")
        self.log = open(os.path.join(self.work, "collector.log"), "w")
        self.process = subprocess.Popen([binaries["collector"], "--config", config],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        wait_for("the collector to listen", self._listening, 30)

    def _listening(self):
        if self.process.poll() is not None:
            raise AssertionError(f"the collector exited ({self.process.returncode}); "
                                 f"see {self.log.name}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def cli(self, *args):
        out = subprocess.run([self.binaries["cli"], *args, "--collector", self.admin_address],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"fscanary {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def findings(self, host=None):
        args = ["findings", "--json", "--limit", "100000"]
        if host:
            args += ["--host", host]
        return json.loads(self.cli(*args)).get("findings", [])

    def hosts(self):
        return json.loads(self.cli("hosts", "--json")).get("hosts", [])

    def host(self, agent_id):
        return json.loads(self.cli("host", agent_id, "--json"))

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=10) as response:
            return response.read().decode()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class FaultDisk:
    """One disk image served by the fault plugin (fault_disk/plugin.py)."""

    def __init__(self, image, work, name, seed):
        self.image = image
        self.socket = os.path.join(work, f"{name}.sock")
        self.control_socket = os.path.join(work, f"{name}.control")
        self.log = open(os.path.join(work, f"{name}.nbdkit.log"), "w")
        self.process = subprocess.Popen(
            ["nbdkit", "-f", "-U", self.socket, "python",
             os.path.join(HERE, "fault_disk", "plugin.py"),
             f"file={image}", f"control={self.control_socket}", f"seed={seed}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(f"nbdkit to serve {name}",
                 lambda: self._alive() and os.path.exists(self.control_socket)
                 and os.path.exists(self.socket), 30)

    def _alive(self):
        if self.process.poll() is not None:
            raise AssertionError(f"nbdkit exited ({self.process.returncode}); see {self.log.name}")
        return True

    def control(self, op, **args):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(30)
            s.connect(self.control_socket)
            s.sendall((json.dumps({"op": op, **args}) + "\n").encode())
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        answer = json.loads(reply)
        if not answer.get("ok"):
            raise AssertionError(f"fault disk {op}: {answer.get('error')}")
        return answer

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def write_file_in_image(image, path, content):
    """Replaces one file of an ext4 image without mounting it (debugfs)."""
    staged = image + ".staged"
    with open(staged, "w") as f:
        f.write(content)
    for request in (f"rm {path}", f"write {staged} {path}"):
        subprocess.run(["debugfs", "-w", "-R", request, image], capture_output=True, check=True)
    os.unlink(staged)


class Guest:
    """A Debian guest: root and scratch disks behind fault plugins, QEMU TCG.

    driver: "virtio-blk" or "virtio-scsi" for the scratch disk (the root is
    always virtio-blk). scheduler: the scratch and root disks' I/O scheduler,
    set at boot from the kernel command line (an image udev rule).
    """

    def __init__(self, name, image_dir, work, collector, driver="virtio-blk",
                 scheduler="none", scratch_bytes=16 << 20, seed=0, memory_mib=768):
        self.name, self.driver, self.scheduler = name, driver, scheduler
        self.image_dir, self.collector, self.memory_mib = image_dir, collector, memory_mib
        self.work = os.path.join(work, name)
        os.makedirs(self.work, exist_ok=True)
        self.machine_id = "%032x" % random.Random(f"{name}-{seed}").getrandbits(128)
        root = os.path.join(self.work, "root.img")
        subprocess.run(["cp", "--sparse=always", os.path.join(image_dir, "root.img"), root],
                       check=True)
        write_file_in_image(root, "/etc/machine-id", self.machine_id + "\n")
        write_file_in_image(root, "/etc/hostname", name + "\n")
        scratch = os.path.join(self.work, "scratch.img")
        with open(scratch, "wb") as f:
            f.truncate(scratch_bytes)
        self.root = FaultDisk(root, self.work, "root", seed)
        self.scratch = FaultDisk(scratch, self.work, "scratch", seed + 1)
        self.process = None
        self.boots = 0
        self.console_path = None
        self.extra_cmdline = ""

    @property
    def agent_id(self):
        return self.machine_id

    def boot(self):
        self.boots += 1
        self.console_path = os.path.join(self.work, f"console.{self.boots}.log")
        guest_ip, guest_port = GUEST_COLLECTOR
        forward = (f"guestfwd=tcp:{guest_ip}:{guest_port}-cmd:"
                   f"socat - TCP:127.0.0.1:{self.collector.port}")
        # The blank scratch disk is taken over at the first boot only.
        take_over = " fscanary_vm_take_over=1" if self.boots == 1 else ""
        cmdline = (f"root=/dev/vda rw console=ttyS0 panic=-1 fscanary_vm_scheduler={self.scheduler}"
                   f"{take_over} {self.extra_cmdline}").strip()
        nbd = "driver=nbd,server.type=unix,server.path={},if=none,id={},cache.direct=on"
        argv = ["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-m", str(self.memory_mib),
                "-smp", "1", "-display", "none", "-monitor", "none", "-no-reboot",
                "-serial", f"file:{self.console_path}",
                "-kernel", os.path.join(self.image_dir, "vmlinuz"),
                "-initrd", os.path.join(self.image_dir, "initrd.img"),
                "-append", cmdline,
                "-drive", nbd.format(self.root.socket, "root"),
                "-device", "virtio-blk-pci,drive=root,serial=fscanary-root",
                "-drive", nbd.format(self.scratch.socket, "scratch"),
                "-netdev", f"user,id=net0,restrict=on,{forward}",
                "-device", "virtio-net-pci,netdev=net0"]
        if self.driver == "virtio-scsi":
            argv += ["-device", "virtio-scsi-pci,id=scsi0",
                     "-device", f"scsi-hd,drive=scratch,bus=scsi0.0,serial={SCRATCH_SERIAL}"]
        else:
            argv += ["-device", f"virtio-blk-pci,drive=scratch,serial={SCRATCH_SERIAL}"]
        self.qemu_log = open(os.path.join(self.work, f"qemu.{self.boots}.log"), "w")
        self.process = subprocess.Popen(argv, stdout=self.qemu_log, stderr=subprocess.STDOUT)
        self.booted_at = time.time()

    def console(self):
        try:
            with open(self.console_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_console(self, pattern, timeout):
        def seen():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name}: QEMU exited ({self.process.returncode}); "
                                     f"console in {self.console_path}")
            return re.search(pattern, self.console())
        return wait_for(f"{self.name}: {pattern!r} on the console", seen, timeout)

    def guest_facts(self, timeout=240):
        """What the guest's own /sys and /proc said at this boot."""
        self.wait_console(r"FSCANARY_VM_FACTS_DONE", timeout)
        facts = {}
        for key, value in re.findall(r"FSCANARY_VM_FACT (\w+)=(.*)", self.console()):
            facts[key] = value.strip()
        return facts

    def kill(self):
        """Pulls the plug on QEMU (SIGKILL): nothing more reaches the disks."""
        if self.process and self.process.poll() is None:
            self.process.kill()
        if self.process:
            self.process.wait()
            self.qemu_log.close()
        self.process = None

    def power_cut(self):
        """QEMU killed, then each disk keeps what a power loss leaves."""
        self.kill()
        return [disk.control("power_cut") for disk in (self.root, self.scratch)]

    def stop(self):
        self.kill()
        self.root.stop()
        self.scratch.stop()


def build_agent_deb(build_dir, out_dir):
    """cpack's fscanary-agent .deb of build_dir, copied into out_dir."""
    staging = os.path.join(out_dir, "cpack")
    shutil.rmtree(staging, ignore_errors=True)
    # Up to date already, unless the tree changed since the build (cpack
    # alone would not even re-read cmake/Packaging.cmake).
    subprocess.run(["cmake", "--build", build_dir, "-j2"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cpack", "-G", "DEB", "-B", staging], cwd=build_dir, check=True,
                   stdout=subprocess.DEVNULL)
    for name in os.listdir(staging):
        if name.startswith("fscanary-agent_") and name.endswith(".deb"):
            return os.path.join(staging, name)
    raise AssertionError(f"cpack made no fscanary-agent .deb in {staging}")


def build_image(deb, out_dir):
    subprocess.run(["bash", os.path.join(HERE, "build_image.sh"), deb, out_dir], check=True)
    return out_dir
