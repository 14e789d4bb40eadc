"""--driver process|libvirt|none: the driver a running emulator uses."""

from emulator.config import Settings
from emulator.drivers.base import CertificateIssuer, Driver
from emulator.images.servers import Servers


def make_driver(settings: Settings, servers: Servers, issuer: CertificateIssuer | None = None) -> Driver:
    """`issuer`: the server certificates of the drivers that serve TLS (the process driver)."""
    name, data_dir = settings.driver, settings.data_dir
    if name == "libvirt":
        from emulator.drivers.libvirt.driver import LibvirtDriver
        from emulator.drivers.libvirt.network import mode

        network = mode(settings.guest_network, settings.bridge_pool)
        if settings.guest_start not in ("restore", "boot"):
            raise ValueError(f"unknown guest start {settings.guest_start!r}: choose restore or boot")
        return LibvirtDriver(data_dir / "guests", settings.cache_dir, settings.guest_memory_factor, network,
                             restore=settings.guest_start == "restore")
    if name == "process":
        from emulator.drivers.process import ProcessDriver

        return ProcessDriver(data_dir / "servers", servers, issuer)
    if name == "none":
        from emulator.drivers.none import NoServerDriver

        return NoServerDriver()
    raise ValueError(f"unknown driver {name!r}: choose process, libvirt or none")
