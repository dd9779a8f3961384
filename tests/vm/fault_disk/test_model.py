"""The fault disk's rules, one behaviour per test (no nbdkit, no QEMU)."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import PAGE, SECTOR, DiskError, FaultDisk  # noqa: E402


def page(byte):
    return bytes([byte]) * PAGE


class FaultDiskTest(unittest.TestCase):
    def setUp(self):
        handle, self.path = tempfile.mkstemp()
        os.ftruncate(handle, 64 * PAGE)
        os.close(handle)
        self.disk = FaultDisk(self.path, seed=7)

    def tearDown(self):
        self.disk.close()
        os.unlink(self.path)

    def stored(self, offset, length):
        """What the image holds: what survives a cut that keeps nothing volatile."""
        with open(self.path, "rb") as image:
            image.seek(offset)
            return image.read(length)

    def test_reads_see_volatile_writes(self):
        self.disk.write(PAGE, page(1))
        self.assertEqual(self.disk.read(PAGE, PAGE), page(1))
        self.assertEqual(self.stored(PAGE, PAGE), bytes(PAGE))

    def test_flush_makes_writes_durable(self):
        self.disk.write(PAGE, page(1))
        self.disk.flush()
        self.assertEqual(self.stored(PAGE, PAGE), page(1))

    def test_power_cut_keeps_every_flushed_write(self):
        for i in range(20):
            self.disk.write(i * PAGE, page(i + 1))
        self.disk.flush()
        self.disk.power_cut()
        for i in range(20):
            self.assertEqual(self.disk.read(i * PAGE, PAGE), page(i + 1))

    def test_power_cut_keeps_fua_writes(self):
        for i in range(20):
            self.disk.write(i * PAGE, page(i + 1), fua=True)
        self.disk.power_cut()
        for i in range(20):
            self.assertEqual(self.disk.read(i * PAGE, PAGE), page(i + 1))

    def test_power_cut_drops_keeps_and_tears_volatile_writes(self):
        for i in range(40):
            self.disk.write(i * PAGE, page(i + 1))
        self.disk.power_cut()
        outcomes = set()
        for i in range(40):
            sectors = [self.disk.read(i * PAGE + s * SECTOR, SECTOR)[0] for s in range(8)]
            for value in sectors:
                self.assertIn(value, (0, i + 1))  # never another write's data
            outcomes.add("kept" if all(sectors) else "dropped" if not any(sectors) else "torn")
        self.assertEqual(outcomes, {"kept", "dropped", "torn"})
        counts = self.disk.snapshot_counts()
        self.assertEqual(counts["cut_kept"] + counts["cut_dropped"] + counts["cut_torn"], 40)

    def test_power_cut_applies_kept_writes_in_order(self):
        # A FUA write after a volatile one to the same page is what remains.
        self.disk.write(0, page(1))
        self.disk.write(0, page(2), fua=True)
        self.disk.power_cut()
        self.assertEqual(self.stored(0, PAGE), page(2))

    def test_lying_flush_loses_acknowledged_writes_at_a_cut(self):
        self.disk.lie_flush = True
        for i in range(20):
            self.disk.write(i * PAGE, page(i + 1), fua=(i % 2 == 0))
        self.disk.flush()
        self.disk.power_cut()
        lost = [i for i in range(20) if self.disk.read(i * PAGE, PAGE) != page(i + 1)]
        self.assertTrue(lost)
        self.assertEqual(self.disk.snapshot_counts()["flushes_lied"], 1)

    def test_lost_write_is_acknowledged_and_never_lands(self):
        self.disk.lose_next = 1
        self.disk.write(0, page(1))
        self.disk.write(PAGE, page(2))
        self.assertEqual(self.disk.read(0, PAGE), bytes(PAGE))
        self.assertEqual(self.disk.read(PAGE, PAGE), page(2))

    def test_torn_write_lands_only_its_first_sectors_over_durable_data(self):
        self.disk.write(0, page(1))
        self.disk.flush()
        self.disk.tear_next = 3
        self.disk.write(PAGE, page(3))  # nothing durable there yet: whole
        self.disk.write(0, page(2))
        self.assertEqual(self.disk.read(0, PAGE), bytes([2]) * (3 * SECTOR) + bytes([1]) * (5 * SECTOR))
        self.assertEqual(self.disk.read(PAGE, PAGE), page(3))

    def test_misdirected_write_lands_elsewhere(self):
        self.disk.misdirect_next = 4 * PAGE
        self.disk.write(PAGE, page(1))
        self.assertEqual(self.disk.read(PAGE, PAGE), bytes(PAGE))
        self.assertEqual(self.disk.read(5 * PAGE, PAGE), page(1))

    def test_write_misdirected_to_an_offset_lands_there_and_never_onto_itself(self):
        self.disk.misdirect_to = 6 * PAGE
        self.disk.write(PAGE, page(1))
        self.assertEqual(self.disk.read(6 * PAGE, PAGE), page(1))
        self.disk.misdirect_to = 2 * PAGE
        self.disk.write(2 * PAGE, page(2))
        self.assertEqual(self.disk.read(2 * PAGE, PAGE), bytes(PAGE))
        self.assertEqual(self.disk.read(3 * PAGE, PAGE), page(2))

    def test_only_large_writes_are_corrupted(self):
        self.disk.corrupt_larger = 2 * PAGE
        self.disk.write(0, page(1) + page(2))
        self.disk.write(8 * PAGE, page(3) + page(4) + page(5))
        self.assertEqual(self.disk.read(0, 2 * PAGE), page(1) + page(2))
        self.assertEqual(self.disk.read(8 * PAGE, 3 * PAGE), page(3) + page(4) + page(3))

    def test_armed_ranges_fail_with_eio(self):
        self.disk.eio_read = [(PAGE, 2 * PAGE)]
        self.disk.eio_write = [(4 * PAGE, 5 * PAGE)]
        with self.assertRaises(DiskError):
            self.disk.read(0, 2 * PAGE)
        with self.assertRaises(DiskError):
            self.disk.write(4 * PAGE, page(1))
        self.assertEqual(self.disk.read(2 * PAGE, PAGE), bytes(PAGE))

    def test_damage_at_rest_survives_a_later_flush_of_older_writes(self):
        self.disk.write(0, page(1))
        self.disk.flip(100, bits=1)
        self.disk.flush()
        expected = bytearray(page(1))
        expected[100] ^= 1
        self.assertEqual(self.stored(0, PAGE), bytes(expected))

    def test_unaligned_write_keeps_the_rest_of_its_sectors(self):
        self.disk.write(0, page(1))
        self.disk.flush()
        self.disk.write(10, b"\x09" * 4)
        self.disk.power_cut()  # kept whole or dropped whole: sector 0 stays consistent
        self.assertIn(self.disk.read(0, 16), (b"\x01" * 16, b"\x01" * 10 + b"\x09" * 4 + b"\x01" * 2))

    def test_disk_freezes_after_the_armed_number_of_writes(self):
        self.disk.freeze_after = 2
        self.disk.write(0, page(1))
        self.assertFalse(self.disk.frozen)
        self.disk.write(PAGE, page(2))
        self.assertTrue(self.disk.frozen)
        self.disk.power_cut()
        self.assertFalse(self.disk.frozen)

    def test_durable_pages_are_those_flushed(self):
        self.disk.write(3 * PAGE, page(1))
        self.assertIsNone(self.disk.durable_page())
        self.disk.flush()
        self.assertEqual(self.disk.durable_page(), 3 * PAGE)
        self.assertIsNone(self.disk.durable_page(minimum_offset=4 * PAGE))


if __name__ == "__main__":
    unittest.main()
