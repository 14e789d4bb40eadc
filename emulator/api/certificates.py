"""DescribeCertificates: the emulator's certificate authorities, named as RDS's (host/certificates.py)."""

from datetime import datetime
from typing import Any

from emulator.api import common
from emulator.api.paging import page_sequence
from emulator.context import Context
from emulator.host import certificates
from emulator.protocol.errors import invalid


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    if request.get("Filters"):
        raise invalid("DescribeCertificates does not support Filters; use CertificateIdentifier.")
    wanted = common.ca_certificate(request["CertificateIdentifier"]) if request.get("CertificateIdentifier") \
        else None
    listed = [_wire(ctx, found) for found in ctx.authorities.listed()
              if wanted is None or found["CertificateIdentifier"] == wanted]
    shown, marker = page_sequence(listed, request)
    return {"DefaultCertificateForNewLaunches": certificates.DEFAULT, "Certificates": shown, "Marker": marker}


def _wire(ctx: Context, found: dict[str, Any]) -> dict[str, Any]:
    return {**found, "ValidFrom": datetime.fromisoformat(found["ValidFrom"]),
            "ValidTill": datetime.fromisoformat(found["ValidTill"]),
            "CertificateArn": ctx.arn("cert", found["CertificateIdentifier"]), "CustomerOverride": False}
