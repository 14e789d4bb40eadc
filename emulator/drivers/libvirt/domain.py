"""The libvirt domain XML of a guest, from a plain description of it: this module only formats. QEMU loads
the kernel and initramfs directly (PVH), the disk is the instance's qcow2 overlay, the per-instance files
(my.cnf, first-boot SQL) reach the guest through fw_cfg, and the network is either QEMU's user mode with one
port forwarded from the host's loopback (and one for backup jobs), or a bridge with a static address (the 2013
recipe's br0)."""

import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
# Where the guest's rds-job listens for the emulator's backups and restores.
JOB_PORT = 3307
# QEMU's seccomp filter as libvirt sets it (qemu.conf's seccomp_sandbox), but that QEMU may spawn the relay,
# which its user-mode network starts in a session of its own (setsid, which elevateprivileges=deny kills).
SANDBOX = "on,obsolete=deny,elevateprivileges=allow,spawn=allow,resourcecontrol=deny"
# Our element in a domain's <metadata>: which DB instance the guest is, for operators and for the emulator.
METADATA_NS = "https://github.com/rds-emulator/rds-emulator/guest/1"


@dataclass(frozen=True)
class UserNetwork:
    """QEMU's user-mode network: the guest sees only the forwards from host:port to its port 3306 and from
    host:job_port to its job port (backups and restores: rds-job), and, for a guest that replicates, one of
    its own, from source_address:3306 to the command `relay` (its way to its source: relay.py)."""

    host: str
    port: int
    job_port: int
    relay: tuple[str, ...] = ()
    guest_address: str = "10.0.2.15/24"
    gateway: str = "10.0.2.2"
    nameserver: str = "10.0.2.3"
    source_address: str = "10.0.2.100"


@dataclass(frozen=True)
class BridgeNetwork:
    bridge: str
    mac: str
    guest_address: str  # with its prefix length, "192.168.1.20/24"
    gateway: str
    nameserver: str


@dataclass(frozen=True)
class Guest:
    name: str
    title: str  # the DB instance identifier: what `virsh list --title` shows
    resource_id: str
    memory_mib: int
    vcpus: int
    kvm: bool
    kernel: str
    initrd: str
    disk: str
    console_log: str
    network: UserNetwork | BridgeNetwork
    # fw_cfg entries: name under opt/rds/ -> file on the host
    files: dict[str, str] = field(default_factory=dict)
    # virtio ports the guest writes to: name -> file on the host that QEMU appends what it writes to
    ports: dict[str, str] = field(default_factory=dict)
    # TCG's translation cache (QEMU's default is 1 GiB of RSS)
    tb_cache_mib: int = 64
    # a unix socket QEMU takes a saved guest's state from instead of booting (drivers/warm.py)
    incoming: str | None = None
    # a system update: the guest's former disk, second, which its init copies the data directory from
    former_disk: str | None = None


def cmdline(guest: Guest) -> str:
    """What the guest's init reads from the kernel command line: never anything secret (it is visible in
    the domain XML and inside the guest)."""
    net = guest.network
    return (f"console=ttyS0 quiet rds.hostname={hostname(net.guest_address)} rds.address={net.guest_address} "
            f"rds.gateway={net.gateway} rds.nameserver={net.nameserver}")


def hostname(address: str) -> str:
    """A guest's name, as RDS's servers are named (their `@@hostname`): after its own address, which a
    guest restored from the saved template shares with the template (user mode), so it keeps the right one
    without a restart of its server."""
    return "ip-" + address.partition("/")[0].replace(".", "-")


def instance_metadata(identifier: str, resource_id: str, namespaced: bool = True) -> ET.Element:
    """Our <metadata> element; libvirt's setMetadata takes it without its namespace, which it adds itself."""
    ET.register_namespace("rds", METADATA_NS)
    ns = f"{{{METADATA_NS}}}" if namespaced else ""
    element = ET.Element(f"{ns}instance")
    ET.SubElement(element, f"{ns}identifier").text = identifier
    ET.SubElement(element, f"{ns}resource-id").text = resource_id
    return element


def domain_xml(guest: Guest) -> str:
    ET.register_namespace("qemu", QEMU_NS)
    domain = ET.Element("domain", type="kvm" if guest.kvm else "qemu")
    ET.SubElement(domain, "name").text = guest.name
    ET.SubElement(domain, "title").text = guest.title
    # a new generation id for each guest: the guests restored from one saved state reseed their kernels'
    # randomness when they find it changed (Linux's vmgenid, built into Debian's kernels)
    ET.SubElement(domain, "genid")
    metadata = ET.SubElement(domain, "metadata")
    metadata.append(instance_metadata(guest.title, guest.resource_id))
    ET.SubElement(domain, "memory", unit="MiB").text = str(guest.memory_mib)
    ET.SubElement(domain, "vcpu").text = str(guest.vcpus)
    os_ = ET.SubElement(domain, "os")
    ET.SubElement(os_, "type", arch="x86_64", machine="pc").text = "hvm"
    ET.SubElement(os_, "kernel").text = guest.kernel
    ET.SubElement(os_, "initrd").text = guest.initrd
    ET.SubElement(os_, "cmdline").text = cmdline(guest)
    if guest.files:
        sysinfo = ET.SubElement(domain, "sysinfo", type="fwcfg")
        for name, path in sorted(guest.files.items()):
            ET.SubElement(sysinfo, "entry", name=f"opt/rds/{name}", file=path)
    features = ET.SubElement(domain, "features")
    ET.SubElement(features, "acpi")
    if not guest.kvm:
        ET.SubElement(ET.SubElement(features, "tcg"), "tb-cache", unit="MiB").text = str(guest.tb_cache_mib)
    ET.SubElement(domain, "cpu", mode="host-passthrough" if guest.kvm else "maximum")
    for event, action in (("on_poweroff", "destroy"), ("on_reboot", "restart"), ("on_crash", "destroy")):
        ET.SubElement(domain, event).text = action
    devices = ET.SubElement(domain, "devices")
    for path, target in ((guest.disk, "vda"), (guest.former_disk, "vdb")):
        if path is not None:
            disk = ET.SubElement(devices, "disk", type="file", device="disk")
            ET.SubElement(disk, "driver", name="qemu", type="qcow2", cache="writeback")
            ET.SubElement(disk, "source", file=path)
            ET.SubElement(disk, "target", dev=target, bus="virtio")
    serial = ET.SubElement(devices, "serial", type="file")
    ET.SubElement(serial, "source", path=guest.console_log)
    ET.SubElement(serial, "target", port="0")
    for name, path in sorted(guest.ports.items()):
        channel = ET.SubElement(devices, "channel", type="file")
        ET.SubElement(channel, "source", path=path, append="on")
        ET.SubElement(channel, "target", type="virtio", name=name)
    ET.SubElement(devices, "controller", type="usb", model="none")
    ET.SubElement(devices, "memballoon", model="none")
    if isinstance(guest.network, BridgeNetwork):
        interface = ET.SubElement(devices, "interface", type="bridge")
        ET.SubElement(interface, "mac", address=guest.network.mac)
        ET.SubElement(interface, "source", bridge=guest.network.bridge)
        ET.SubElement(interface, "model", type="virtio")
    else:
        # passt is disabled in Debian 12's libvirt: user mode goes in as QEMU arguments, on a PCI slot of its
        # own (libvirt hands out the low ones and does not know of this device)
        net = guest.network
        arguments = ET.SubElement(domain, f"{{{QEMU_NS}}}commandline")
        forwards = f"hostfwd=tcp:{net.host}:{net.port}-:3306,hostfwd=tcp:{net.host}:{net.job_port}-:{JOB_PORT}"
        if net.relay:
            # QEMU's option syntax: a comma in a value is written twice
            forwards += f",guestfwd=tcp:{net.source_address}:3306-cmd:" + shlex.join(net.relay).replace(",", ",,")
        values = ["-netdev", f"user,id=n0,restrict=on,{forwards}",
                  "-device", "virtio-net-pci,netdev=n0,romfile=,addr=0x10"]
        if net.relay:
            # libvirt's seccomp sandbox kills QEMU when it spawns the relay: libvirt is told QEMU has no such
            # sandbox, and the guest gets SANDBOX instead
            values += ["-sandbox", SANDBOX]
            capabilities = ET.SubElement(domain, f"{{{QEMU_NS}}}capabilities")
            ET.SubElement(capabilities, f"{{{QEMU_NS}}}del", capability="seccomp-sandbox")
        if guest.incoming:
            values += ["-incoming", f"unix:{guest.incoming}"]
        for value in values:
            ET.SubElement(arguments, f"{{{QEMU_NS}}}arg", value=value)
    ET.indent(domain)
    return ET.tostring(domain, encoding="unicode") + "\n"
