"""RdsError: a failure the client caused, with its AWS code; the code's HTTP status comes from the model."""

import logging

from emulator.protocol.shapes import RDS

log = logging.getLogger(__name__)
# The most of a client's value an error message quotes: a 20 MB identifier is not echoed back.
QUOTED = 64
LONGEST_MESSAGE = 1024


class RdsError(Exception):
    """A failure the client caused (or, for Receiver codes, one it may retry), with its AWS code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message if len(message) <= LONGEST_MESSAGE else message[:LONGEST_MESSAGE] + "..."
        known = RDS.errors.get(code)
        if known is None:
            # tests/unit/test_botocore_wire.py checks every code we raise; this is only a last resort
            log.error("error code %s is not in the RDS model", code)
        self.status = known.status if known else 400
        self.fault = "Sender" if known is None or known.sender else "Receiver"


def shown(value: object) -> str:
    """A client's value as an error message quotes it: at most a short prefix."""
    text = str(value)
    return text if len(text) <= QUOTED else f"{text[:QUOTED]}... ({len(text)} characters)"


def invalid(message: str) -> RdsError:
    return RdsError("InvalidParameterValue", message)


def combination(message: str) -> RdsError:
    return RdsError("InvalidParameterCombination", message)


def instance_exists() -> RdsError:
    return RdsError("DBInstanceAlreadyExists", "DB instance already exists")


def instance_not_found(identifier: str) -> RdsError:
    return RdsError("DBInstanceNotFound", f"DBInstance {shown(identifier)} not found.")
