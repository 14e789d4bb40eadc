"""A server's TLS files: its certificate, key and authority, copied from the issuer's (host/certificates.py)
into a folder of the driver's, where the server reads them."""

import pathlib
import shutil

from emulator.drivers.base import CertificateIssuer, ServerSpec

# the server's TLS options, and the issuer's file each names
FILES = {"ssl_cert": "server-cert.pem", "ssl_key": "server-key.pem", "ssl_ca": "ca.pem"}


def placed(issuer: CertificateIssuer | None, spec: ServerSpec, folder: pathlib.Path) -> dict[str, str] | None:
    """The server's TLS options, its files placed in `folder` (owner-only); None without TLS."""
    if spec.ca_certificate is None or issuer is None:
        return None
    issued = issuer.issue(spec.resource_id, spec.ca_certificate, spec.host)
    folder.mkdir(mode=0o700, exist_ok=True)
    for name in FILES.values():
        shutil.copy(issued / name, folder / name)
    return {option: str(folder / name) for option, name in FILES.items()}
