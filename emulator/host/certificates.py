"""The emulator's certificate authorities, named as RDS's (rds-ca-rsa2048-g1 and its kin), and the server
certificates they sign for each instance's endpoint. Made with openssl, once, under
<data-dir>/certificates/ (keys owner-only); `rds-emulator ca-bundle` prints them all, as RDS's global bundle."""

import contextlib
import hashlib
import json
import logging
import pathlib
import secrets
import shutil
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from emulator.engines import tools
from emulator.failures import Failure

log = logging.getLogger(__name__)

DEFAULT = "rds-ca-rsa2048-g1"
CA_DAYS = 14600  # forty years, as RDS's G1 authorities run to 2061-2121
SERVER_DAYS = 365


@dataclass(frozen=True)
class Authority:
    name: str
    key: list[str]  # openssl req's -newkey arguments
    digest: str
    title: str


AUTHORITIES = {
    authority.name: authority for authority in (
        Authority("rds-ca-rsa2048-g1", ["rsa:2048"], "-sha256", "RSA2048"),
        Authority("rds-ca-rsa4096-g1", ["rsa:4096"], "-sha384", "RSA4096"),
        Authority("rds-ca-ecc384-g1", ["ec", "-pkeyopt", "ec_paramgen_curve:secp384r1"], "-sha384", "ECC384"),
    )
}


class Authorities:
    def __init__(self, data_dir: pathlib.Path, region: str):
        self.root = data_dir / "certificates"
        self.region = region
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._warming = False
        self._thread: threading.Thread | None = None

    def warm(self) -> None:
        """Make the authorities a data directory lacks, in the background (RSA 4096 takes a second here)."""
        def make() -> None:
            try:
                for name in AUTHORITIES:
                    self._authority(name)
            except (Failure, OSError) as error:  # made again when one is needed, which then says why
                log.warning("the certificate authorities could not be made: %s", error)
            finally:
                self._ready.set()
        self._warming = True
        self._thread = threading.Thread(target=make, name="certificate authorities", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """The making of the authorities ended (a second at most): no tool left running."""
        if self._thread is not None:
            self._thread.join(60)

    def listed(self) -> list[dict[str, object]]:
        """Each authority as DescribeCertificates gives it (waiting for warm() to make them, when it runs)."""
        if self._warming:
            self._ready.wait(60)
        return [json.loads((self._authority(name) / "ca.json").read_text()) for name in AUTHORITIES]

    def bundle(self) -> str:
        return "".join((self._authority(name) / "ca.pem").read_text() for name in AUTHORITIES)

    def issue(self, server: str, authority: str, address: str) -> pathlib.Path:
        """A folder with server-cert.pem, server-key.pem (owner-only) and ca.pem for the server at `address`,
        signed by `authority`; made once for each authority and address."""
        folder = self.root / "issued" / server / f"{authority}-{address}"
        if (folder / "server-cert.pem").exists():
            return folder
        ca = self._authority(authority)
        with _made_aside(folder) as staging:
            kind = AUTHORITIES[authority]
            (staging / "ext.cnf").write_text(f"subjectAltName={_alt_name(address)}\nbasicConstraints=CA:FALSE\n"
                                             "keyUsage=critical,digitalSignature,keyEncipherment\n"
                                             "extendedKeyUsage=serverAuth\n")
            tools.run(["openssl", "req", "-new", "-newkey", *kind.key, "-nodes", "-keyout",
                       str(staging / "server-key.pem"), "-subj", f"/CN={address}", "-out", str(staging / "csr.pem")])
            tools.run(["openssl", "x509", "-req", "-in", str(staging / "csr.pem"), "-CA", str(ca / "ca.pem"),
                       "-CAkey", str(ca / "ca.key"), "-set_serial", str(int.from_bytes(secrets.token_bytes(8))),
                       "-days", str(SERVER_DAYS), kind.digest, "-extfile", str(staging / "ext.cnf"),
                       "-out", str(staging / "server-cert.pem")])
            shutil.copy(ca / "ca.pem", staging / "ca.pem")
            (staging / "server-key.pem").chmod(0o600)
        return folder

    def _authority(self, name: str) -> pathlib.Path:
        folder = self.root / name
        with self._lock:
            if not (folder / "ca.json").exists():
                self._make(AUTHORITIES[name], folder)
        return folder

    def _make(self, kind: Authority, folder: pathlib.Path) -> None:
        with _made_aside(folder) as staging:
            self._make_in(kind, staging)

    def _make_in(self, kind: Authority, staging: pathlib.Path) -> None:
        subject = f"/C=US/O=RDS Emulator/OU=Amazon RDS/CN=Amazon RDS {self.region} Root CA {kind.title} G1"
        tools.run(["openssl", "req", "-x509", "-newkey", *kind.key, "-nodes", "-keyout", str(staging / "ca.key"),
                   "-out", str(staging / "ca.pem"), "-days", str(CA_DAYS), kind.digest, "-subj", subject,
                   "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        (staging / "ca.key").chmod(0o600)
        pem = (staging / "ca.pem").read_text()
        dates = tools.run(["openssl", "x509", "-in", str(staging / "ca.pem"), "-noout", "-startdate", "-enddate"])
        found = dict(line.split("=", 1) for line in dates.decode().splitlines())
        (staging / "ca.json").write_text(json.dumps({
            "CertificateIdentifier": kind.name, "CertificateType": "CA",
            "Thumbprint": hashlib.sha1(ssl.PEM_cert_to_DER_cert(pem)).hexdigest(),
            "ValidFrom": _when(found["notBefore"]), "ValidTill": _when(found["notAfter"]),
        }))


@contextlib.contextmanager
def _made_aside(folder: pathlib.Path) -> Iterator[pathlib.Path]:
    """A folder made in a staging folder (owner-only) and renamed into place whole: of two processes making it
    at the same moment (`rds-emulator ca-bundle` beside a starting emulator), one's is kept; a failure leaves
    nothing behind."""
    staging = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}")
    staging.mkdir(parents=True, mode=0o700)
    try:
        yield staging
        try:
            staging.rename(folder)
        except OSError:  # another made it meanwhile: theirs is kept
            if not folder.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _alt_name(address: str) -> str:
    return f"IP:{address}" if address.replace(".", "").isdigit() or ":" in address else f"DNS:{address}"


def _when(openssl_time: str) -> str:
    return datetime.strptime(openssl_time.strip(), "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC).isoformat()
