"""A guest moved onto the current template image with its data (the system-update maintenance action)."""

import logging
import xml.etree.ElementTree as ET

import libvirt
import pymysql

from emulator.drivers.base import DriverError, HostRefused, ServerSpec, until
from emulator.drivers.libvirt import image as guest_image
from emulator.drivers.libvirt.shared import DETACH_TIMEOUT, FORMER_DISK, POLL, disk_element, overlay
from emulator.images import cache

log = logging.getLogger(__name__)


class SystemUpdates:
    """Part of LibvirtDriver (driver.py), whose attributes it uses."""

    def _image(self, spec: ServerSpec) -> cache.Image:
        """The image the guest's disk is on: its kernel and initramfs boot it (during a version upgrade,
        another engine version's than the spec asks for)."""
        fingerprint = guest_image.fingerprint(self._home(spec), self.cache_dir)
        if fingerprint is None:
            return self._current(spec)
        image = cache.find(self.cache_dir, fingerprint)
        if image is None:
            raise HostRefused(f"the guest's template image {fingerprint} is no longer in "
                              f"{cache.images_dir(self.cache_dir)}: its disk cannot start without it")
        return image

    def system_update(self, spec: ServerSpec) -> str | None:
        if not (self._home(spec) / "disk.qcow2").exists():
            return None
        fingerprint = guest_image.fingerprint(self._home(spec), self.cache_dir)
        current = self._current(spec)
        if fingerprint in (None, current.fingerprint) or self._engine_moved(spec):
            return None
        return f"New Operating System update is available: guest image {current.fingerprint} (now {fingerprint})"

    def update_system(self, spec: ServerSpec) -> None:
        """The guest stops cleanly, and a new disk on the current image boots with the former one beside it:
        the guest's init copies the former data directory, binary logs and all, before its server starts.
        The former disk is kept until the new system answers, and boots again if it does not. Each step can
        run again (a task an emulator restart resumes): an existing new disk is booted, not made anew, and
        its init copies only once."""
        home = self._home(spec)
        disk, former = home / "disk.qcow2", home / FORMER_DISK
        current = self._current(spec)
        if former.exists() and guest_image.fingerprint(home, self.cache_dir) == current.fingerprint:
            self._detach_former(spec)  # moved already: only the former disk was left
            former.unlink()
            return
        self.stop(spec)
        if not former.exists():
            disk.rename(former)
        if not disk.exists():
            overlay(disk, current.root_fs, "raw", f"{spec.allocated_storage}G")
        try:
            self._boot(spec, current, former)
            self._check_system(spec)
        except DriverError as error:
            self._discard(spec)
            former.replace(disk)
            self.start(spec)
            raise DriverError(f"the guest's system could not be updated ({error}): it runs on its former system "
                              "again") from None
        guest_image.record(home, current)
        self._record_engine(spec)
        self._detach_former(spec)
        former.unlink()

    def _check_system(self, spec: ServerSpec) -> None:
        """The guest runs the current image: its root is the new disk, whose init copied the data first."""
        try:
            with self.admin(spec) as cursor:
                cursor.execute("SELECT LOAD_FILE('/run/rds/image')")
                found = (cursor.fetchone()[0] or b"").decode().strip()
        except (pymysql.MySQLError, OSError) as error:
            raise DriverError(f"the updated guest's server did not answer: {error}") from None
        current = self._current(spec)
        if found != current.fingerprint:
            raise DriverError(f"the guest started image {found or 'unknown'}, not {current.fingerprint}")

    def _detach_former(self, spec: ServerSpec) -> None:
        """The former disk leaves the running guest (its init unmounted it); one that a guest does not let go
        of stays attached, unused, until the guest next starts."""
        domain = self._live(spec)
        element = domain and disk_element(domain, "vdb")
        if element is None:
            return
        try:
            domain.detachDeviceFlags(ET.tostring(element, encoding="unicode"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
            gone = until(lambda: disk_element(domain, "vdb") is None, DETACH_TIMEOUT, POLL)
        except libvirt.libvirtError:
            gone = False
        if not gone:
            log.info("guest %s keeps its former disk, unused, until it next starts", spec.identifier)
