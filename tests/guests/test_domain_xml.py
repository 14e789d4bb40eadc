"""The guest's domain XML: formatted as the golden files show (reviewed by hand once, then kept), and taken
by libvirt's own parser (its test driver, which needs no daemon)."""

import pathlib
import xml.etree.ElementTree as ET
from dataclasses import replace

import libvirt
import pytest

from emulator.drivers.libvirt.domain import METADATA_NS, BridgeNetwork, Guest, UserNetwork, cmdline, domain_xml

GOLDEN = pathlib.Path(__file__).with_name("golden")
# a comma in a path: QEMU's option syntax doubles it
RELAY = ("/usr/bin/python3", "-I", "/srv/relay,1.py", "/data/servers/db-X/upstream")
FILES = {"my.cnf": "/data/servers/db-X/my.cnf", "first-boot.sql": "/data/servers/db-X/first-boot.sql"}
PORTS = {"rds.error": "/data/servers/db-X/logs/error.log", "rds.slowquery": "/data/servers/db-X/logs/slowquery.log"}
USER = Guest("rds-db-X", "db1", "db-X", 384, 1, False, "/cache/images/f/vmlinux", "/cache/images/f/initrd.img",
             "/data/servers/db-X/disk.qcow2", "/data/servers/db-X/console.log",
             UserNetwork("127.0.0.1", 13306, 20000, RELAY), FILES, PORTS)
BRIDGE = Guest("rds-db-Y", "db2", "db-Y", 1024, 2, True, "/cache/images/f/vmlinux", "/cache/images/f/initrd.img",
               "/data/servers/db-Y/disk.qcow2", "/data/servers/db-Y/console.log",
               BridgeNetwork("br0", "52:54:00:0a:0b:0c", "192.168.10.21/24", "192.168.10.1", "192.168.10.1"), FILES)


@pytest.mark.parametrize(("guest", "golden"), [(USER, "user-network.xml"), (BRIDGE, "bridge-network.xml")])
def test_domain_xml_matches_its_golden_file(guest, golden):
    assert domain_xml(guest) == (GOLDEN / golden).read_text()


@pytest.mark.parametrize("guest", [USER, BRIDGE])
def test_libvirt_takes_the_domain_as_written(guest):
    connection = libvirt.open("test:///default")
    try:
        domain = connection.defineXML(domain_xml(guest))
        parsed = ET.fromstring(domain.XMLDesc())
        assert parsed.findtext("name") == guest.name
        assert int(parsed.findtext("memory")) == guest.memory_mib * 1024
        assert parsed.findtext("os/cmdline") == cmdline(guest)
        entries = {e.get("name"): e.get("file") for e in parsed.findall("sysinfo/entry")}
        assert entries == {f"opt/rds/{name}": path for name, path in FILES.items()}
        assert parsed.find("devices/disk/source").get("file") == guest.disk
        assert parsed.findtext("title") == guest.title
        assert len(parsed.findtext("genid")) == 36  # libvirt gives each guest its own generation id
        ours = ET.fromstring(domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, METADATA_NS))
        assert (ours.findtext("identifier"), ours.findtext("resource-id")) == (guest.title, guest.resource_id)
        ports = {c.find("target").get("name"): c.find("source").get("path")
                 for c in parsed.findall("devices/channel")}
        assert ports == guest.ports
        domain.undefine()
    finally:
        connection.close()


def test_a_system_update_boots_the_new_disk_first_with_the_former_one_beside_it():
    moving = replace(USER, former_disk="/data/servers/db-X/former.qcow2")
    connection = libvirt.open("test:///default")
    try:
        domain = connection.defineXML(domain_xml(moving))
        disks = [(disk.find("target").get("dev"), disk.find("source").get("file"))
                 for disk in ET.fromstring(domain.XMLDesc()).findall("devices/disk")]
        domain.undefine()
    finally:
        connection.close()
    assert disks == [("vda", USER.disk), ("vdb", "/data/servers/db-X/former.qcow2")]
    assert [(d.find("target").get("dev")) for d in ET.fromstring(domain_xml(USER)).findall("devices/disk")] == ["vda"]


def test_nothing_secret_goes_on_the_kernel_command_line():
    # the command line is readable in the domain XML and inside the guest: settings only, passwords never
    assert set(cmdline(USER).split()) == {
        "console=ttyS0", "quiet", "rds.hostname=ip-10-0-2-15", "rds.address=10.0.2.15/24", "rds.gateway=10.0.2.2",
        "rds.nameserver=10.0.2.3"}
