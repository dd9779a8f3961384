"""A disk with a volatile write cache and faults armed at run time.

The model behind the nbdkit plugin (plugin.py), kept free of nbdkit so that
its rules are unit-tested on their own (test_model.py).

Durability, as a real disk with a write-back cache keeps it:
  - a write is volatile until a flush completes after it, or until it
    completes itself when it carries FUA;
  - reads see every write, volatile or not;
  - a power cut keeps every durable write and a random subset of the volatile
    ones, each kept whole, torn (a random subset of its sectors lands) or
    dropped, applied in the order they were written.
Faults, each what a real disk, controller or kernel bug has done:
  flip / zero        damage at rest (bits flipped, a range zeroed)
  lose_next          the next writes are acknowledged and never land
  tear_next          the next write over durable data lands only its first k sectors
  misdirect_next     the next write lands `delta` bytes away from its offset
  misdirect_to       the next write lands at a given offset (over known data)
  corrupt_larger     every write larger than N bytes lands with its last
                     4 KiB replaced by its first 4 KiB (a merged request
                     carrying the wrong page: kernel bugzilla 201685)
  eio_read/eio_write requests touching a range fail with EIO
  freeze_after       the disk stops answering after the next N writes, so that
                     a test cuts the power in the middle of a write round
  lie_flush          flushes and FUA are acknowledged and make nothing
                     durable: a power cut then loses acknowledged writes
"""

import errno
import os
import random
import threading

SECTOR = 512
PAGE = 4096


class DiskError(Exception):
    """A request failed with `errno_value` (the plugin hands it to nbdkit)."""

    def __init__(self, errno_value, what):
        super().__init__(what)
        self.errno_value = errno_value


def _overlaps(offset, length, ranges):
    return any(offset < end and begin < offset + length for begin, end in ranges)


class FaultDisk:
    """One disk image behind a volatile cache. Thread-safe: one lock."""

    def __init__(self, path, seed=0):
        self._fd = os.open(path, os.O_RDWR)
        self.size = os.fstat(self._fd).st_size
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        # Volatile writes in order: [offset, bytes, fua]; and the newest
        # volatile contents of each sector, for reads.
        self._volatile = []
        self._overlay = {}
        self.lie_flush = False
        self.lose_next = 0
        self.tear_next = None  # sectors that land of the next write
        self.misdirect_next = None  # delta in bytes
        self.misdirect_to = None  # or the offset where it lands
        self.corrupt_larger = None  # bytes
        self.eio_read = []  # [begin, end)
        self.eio_write = []
        self.freeze_after = None  # writes to go before the disk stops answering
        self.frozen = False
        # Pages (PAGE-sized) that hold durable data some write put there: where
        # damage at rest lands on data a verifier knows.
        self.durable_pages = set()
        self.counts = {
            "writes": 0, "reads": 0, "flushes": 0, "fua_writes": 0, "flushes_lied": 0,
            "writes_lost": 0, "writes_torn": 0, "writes_misdirected": 0,
            "writes_corrupted": 0, "eio_reads": 0, "eio_writes": 0, "power_cuts": 0,
            "cut_volatile": 0, "cut_kept": 0, "cut_dropped": 0, "cut_torn": 0,
            "bits_flipped": 0, "bytes_zeroed": 0,
        }

    # --- requests --------------------------------------------------------------
    def read(self, offset, length):
        with self._lock:
            self.counts["reads"] += 1
            if _overlaps(offset, length, self.eio_read):
                self.counts["eio_reads"] += 1
                raise DiskError(errno.EIO, f"read of [{offset}, +{length}) fails (armed)")
            return self._view(offset, length)

    def write(self, offset, data, fua=False):
        data = bytes(data)
        with self._lock:
            self.counts["writes"] += 1
            if _overlaps(offset, len(data), self.eio_write):
                self.counts["eio_writes"] += 1
                raise DiskError(errno.EIO, f"write of [{offset}, +{len(data)}) fails (armed)")
            if self.lose_next > 0:
                self.lose_next -= 1
                self.counts["writes_lost"] += 1
                return
            if self.corrupt_larger is not None and len(data) > self.corrupt_larger \
                    and len(data) >= 2 * PAGE:
                data = data[:-PAGE] + data[:PAGE]
                self.counts["writes_corrupted"] += 1
            # A tear over data a verifier knows: new sectors beside older
            # ones of the same blocks (over never-written blocks it would
            # read as a partly lost first write instead).
            if self.tear_next is not None and offset % PAGE == 0 \
                    and offset // PAGE in self.durable_pages:
                data = data[: self.tear_next * SECTOR]
                self.tear_next = None
                self.counts["writes_torn"] += 1
            if self.misdirect_next is not None or self.misdirect_to is not None:
                if self.misdirect_to is not None:
                    moved = self.misdirect_to
                    if moved < offset + len(data) and offset < moved + len(data):
                        moved = offset + len(data)  # never onto itself
                else:
                    moved = offset + self.misdirect_next
                    if moved < 0 or moved + len(data) > self.size:
                        moved = offset - self.misdirect_next
                offset = max(0, min(moved, self.size - len(data)))
                self.misdirect_next = self.misdirect_to = None
                self.counts["writes_misdirected"] += 1
            if fua:
                self.counts["fua_writes"] += 1
            self._stage(offset, data, fua and not self.lie_flush)
            if self.freeze_after is not None:
                self.freeze_after -= 1
                if self.freeze_after <= 0:
                    self.freeze_after = None
                    self.frozen = True

    def flush(self):
        with self._lock:
            self.counts["flushes"] += 1
            if self.lie_flush:
                self.counts["flushes_lied"] += 1
                return
            self._apply(self._volatile)
            self._volatile = []
            self._overlay = {}

    # --- faults at rest and the power ------------------------------------------
    def flip(self, offset, bits=1):
        """Flips `bits` bits starting at byte `offset` (one per byte)."""
        with self._lock:
            current = bytearray(self._view(offset, bits))
            for i in range(bits):
                current[i] ^= 1 << (i % 8)
            self._at_rest(offset, bytes(current))
            self.counts["bits_flipped"] += bits

    def zero(self, offset, length):
        with self._lock:
            self._at_rest(offset, bytes(length))
            self.counts["bytes_zeroed"] += length

    def power_cut(self):
        """What a power loss leaves: every durable write, and each volatile one
        kept, torn at sector granularity or dropped at random. Faults armed
        for next writes are disarmed (the disk restarted)."""
        with self._lock:
            kept = []
            for offset, data, durable in self._volatile:
                self.counts["cut_volatile"] += 1
                draw = self._rng.random()
                if durable or draw < 0.4:
                    kept.append((offset, data, durable))
                    self.counts["cut_kept"] += 1
                elif draw < 0.6 and len(data) > SECTOR:
                    sectors = len(data) // SECTOR
                    landed = sorted(self._rng.sample(range(sectors), self._rng.randrange(1, sectors)))
                    for s in landed:
                        kept.append((offset + s * SECTOR, data[s * SECTOR:(s + 1) * SECTOR], False))
                    self.counts["cut_torn"] += 1
                else:
                    self.counts["cut_dropped"] += 1
            self._apply(kept)
            self._volatile = []
            self._overlay = {}
            self.lose_next = 0
            self.tear_next = None
            self.misdirect_next = self.misdirect_to = None
            self.freeze_after = None
            self.frozen = False
            self.counts["power_cuts"] += 1

    def durable_page(self, minimum_offset=0):
        """A random page holding durable written data at or after
        minimum_offset, or None."""
        with self._lock:
            pages = sorted(p for p in self.durable_pages if p * PAGE >= minimum_offset)
            return self._rng.choice(pages) * PAGE if pages else None

    def volatile_writes(self):
        with self._lock:
            return len(self._volatile)

    def snapshot_counts(self):
        with self._lock:
            return dict(self.counts)

    def close(self):
        os.close(self._fd)

    # --- internals (lock held) -------------------------------------------------
    def _view(self, offset, length):
        data = bytearray(os.pread(self._fd, length, offset).ljust(length, b"\0"))
        if self._overlay:
            first = offset // SECTOR
            last = (offset + length - 1) // SECTOR
            for sector in range(first, last + 1):
                content = self._overlay.get(sector)
                if content is None:
                    continue
                begin = max(offset, sector * SECTOR)
                end = min(offset + length, (sector + 1) * SECTOR)
                data[begin - offset:end - offset] = \
                    content[begin - sector * SECTOR:end - sector * SECTOR]
        return bytes(data)

    def _stage(self, offset, data, durable):
        # Whole sectors only, so that a power cut tears at sector granularity.
        begin = offset - offset % SECTOR
        end = -(-(offset + len(data)) // SECTOR) * SECTOR
        if begin != offset or end != offset + len(data):
            whole = bytearray(self._view(begin, end - begin))
            whole[offset - begin:offset - begin + len(data)] = data
            data, offset = bytes(whole), begin
        self._volatile.append((offset, data, durable))
        for i in range(len(data) // SECTOR):
            self._overlay[offset // SECTOR + i] = data[i * SECTOR:(i + 1) * SECTOR]

    def _apply(self, writes):
        for offset, data, _ in writes:
            os.pwrite(self._fd, data, offset)
            first = -(-offset // PAGE)
            last = (offset + len(data)) // PAGE  # whole pages only
            self.durable_pages.update(range(first, last))

    def _at_rest(self, offset, data):
        # Damage of the medium: what is stored now changes, volatile or not.
        os.pwrite(self._fd, data, offset)
        first = offset // SECTOR
        last = (offset + len(data) - 1) // SECTOR
        for sector in range(first, last + 1):
            if sector in self._overlay:
                content = bytearray(self._overlay[sector])
                begin = max(offset, sector * SECTOR)
                end = min(offset + len(data), (sector + 1) * SECTOR)
                content[begin - sector * SECTOR:end - sector * SECTOR] = \
                    data[begin - offset:end - offset]
                self._overlay[sector] = bytes(content)
        # A later flush or cut must not undo the damage: patch volatile copies.
        patched = []
        for w_offset, w_data, durable in self._volatile:
            begin = max(offset, w_offset)
            end = min(offset + len(data), w_offset + len(w_data))
            if begin < end:
                w = bytearray(w_data)
                w[begin - w_offset:end - w_offset] = data[begin - offset:end - offset]
                w_data = bytes(w)
            patched.append((w_offset, w_data, durable))
        self._volatile = patched
