"""nbdkit Python plugin: serves a disk image through the fault model.

  nbdkit -f -U DISK.sock python plugin.py file=IMAGE control=CONTROL.sock [seed=N]

QEMU attaches DISK.sock as a virtio-blk or virtio-scsi disk with a write-back
cache (cache.direct=on on the host side), so the plugin sees every guest
write with its FUA flag and every guest flush. The model (model.py) keeps
writes volatile until flushed and applies the armed faults.

CONTROL.sock takes one JSON object per line and answers one per line:
  {"op": "status"}                          counts, volatile writes, armed faults
  {"op": "flip", "offset": O, "bits": N}    {"op": "zero", "offset": O, "length": L}
      offset "durable" (with "above": A): a random page of durable written data
  {"op": "freeze_after", "writes": N}       stop answering after N more writes
  {"op": "locate", "offset": "durable"}     only the offset such a request would pick
  {"op": "lose_next", "count": N}           {"op": "tear_next", "sectors": K}
  {"op": "misdirect_next", "delta": D}      or "to": O|"durable": lands there
  {"op": "corrupt_larger", "bytes": N|null}
  {"op": "eio_read", "ranges": [[B, E]]}    {"op": "eio_write", "ranges": [[B, E]]}
  {"op": "lie_flush", "on": true|false}     {"op": "power_cut"}
  {"op": "clear"}                           disarms every fault
A power cut is sent after QEMU is killed, so that no request races it.
"""

import json
import os
import socket
import sys
import threading
import time

import nbdkit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import DiskError, FaultDisk  # noqa: E402

API_VERSION = 2

_config = {"seed": "0"}
_disk = None


def config(key, value):
    if key not in ("file", "control", "seed"):
        raise RuntimeError(f"unknown parameter {key}")
    _config[key] = value


def config_complete():
    for key in ("file", "control"):
        if key not in _config:
            raise RuntimeError(f"missing parameter {key}=")


def thread_model():
    return nbdkit.THREAD_MODEL_SERIALIZE_ALL_REQUESTS


def get_ready():
    global _disk
    _disk = FaultDisk(_config["file"], seed=int(_config["seed"]))


def after_fork():
    threading.Thread(target=_serve_control, daemon=True).start()


def open(readonly):  # noqa: A001 - the name nbdkit calls; builtin not needed below
    return 1


def get_size(h):
    return _disk.size


def can_write(h):
    return True


def can_flush(h):
    return True


def can_fua(h):
    return nbdkit.FUA_NATIVE


def can_multi_conn(h):
    return False


def _wait_while_frozen():
    # A frozen disk answers nothing until the power is cut (QEMU is killed
    # meanwhile); the request then goes nowhere.
    while _disk.frozen:
        time.sleep(0.02)


def pread(h, buf, offset, flags):
    _wait_while_frozen()
    try:
        buf[:] = _disk.read(offset, len(buf))
    except DiskError as error:
        nbdkit.set_error(error.errno_value)
        raise


def pwrite(h, buf, offset, flags):
    try:
        _disk.write(offset, buf, fua=bool(flags & nbdkit.FLAG_FUA))
    except DiskError as error:
        nbdkit.set_error(error.errno_value)
        raise
    _wait_while_frozen()


def flush(h, flags):
    _wait_while_frozen()
    _disk.flush()


def _armed():
    return {
        "lie_flush": _disk.lie_flush, "lose_next": _disk.lose_next,
        "tear_next": _disk.tear_next, "misdirect_next": _disk.misdirect_next,
        "misdirect_to": _disk.misdirect_to,
        "corrupt_larger": _disk.corrupt_larger, "eio_read": _disk.eio_read,
        "eio_write": _disk.eio_write, "freeze_after": _disk.freeze_after,
        "frozen": _disk.frozen,
    }


def _offset(request):
    offset = request["offset"]
    if offset != "durable":
        return int(offset)
    found = _disk.durable_page(int(request.get("above", 0)))
    if found is None:
        raise ValueError("no durable written page yet")
    return found


def _command(request):
    op = request.get("op")
    where = None
    if op == "status":
        pass
    elif op == "locate":
        where = _offset(request)
    elif op == "flip":
        where = _offset(request)
        _disk.flip(where + int(request.get("within", 0)), int(request.get("bits", 1)))
    elif op == "zero":
        where = _offset(request)
        _disk.zero(where, int(request["length"]))
    elif op == "freeze_after":
        _disk.freeze_after = int(request["writes"])
    elif op == "lose_next":
        _disk.lose_next = int(request.get("count", 1))
    elif op == "tear_next":
        _disk.tear_next = int(request["sectors"])
    elif op == "misdirect_next":
        if "to" in request:
            where = _disk.misdirect_to = _offset({"offset": request["to"], **request})
        else:
            _disk.misdirect_next = int(request["delta"])
    elif op == "corrupt_larger":
        value = request.get("bytes")
        _disk.corrupt_larger = None if value is None else int(value)
    elif op == "eio_read":
        _disk.eio_read = [(int(b), int(e)) for b, e in request.get("ranges", [])]
    elif op == "eio_write":
        _disk.eio_write = [(int(b), int(e)) for b, e in request.get("ranges", [])]
    elif op == "lie_flush":
        _disk.lie_flush = bool(request.get("on", True))
    elif op == "power_cut":
        _disk.power_cut()
    elif op == "clear":
        _disk.lie_flush = False
        _disk.lose_next = 0
        _disk.tear_next = _disk.misdirect_next = _disk.misdirect_to = None
        _disk.corrupt_larger = None
        _disk.eio_read, _disk.eio_write = [], []
        _disk.freeze_after = None
    else:
        return {"ok": False, "error": f"unknown op {op!r}"}
    return {"ok": True, "offset": where, "counts": _disk.snapshot_counts(),
            "volatile_writes": _disk.volatile_writes(), "armed": _armed()}


def _serve_control():
    path = _config["control"]
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o600)
    server.listen(4)
    while True:
        connection, _ = server.accept()
        with connection, connection.makefile("rw") as stream:
            for line in stream:
                try:
                    reply = _command(json.loads(line))
                except (ValueError, KeyError, TypeError) as error:
                    reply = {"ok": False, "error": f"bad request: {error}"}
                stream.write(json.dumps(reply) + "\n")
                stream.flush()
