"""RdsError and the catalogue of the AWS error codes we answer with."""

# code -> HTTP status, as botocore's RDS model and the Query protocol's common errors give them.
STATUS = {
    "DBInstanceNotFound": 404,
    "DBInstanceAlreadyExists": 400,
    "DBParameterGroupNotFound": 404,
    "DBSecurityGroupNotFound": 404,
    "DBSnapshotAlreadyExists": 400,
    "DBSnapshotNotFound": 404,
    "InvalidDBInstanceState": 400,
    "InsufficientDBInstanceCapacity": 400,
    "StorageQuotaExceeded": 400,
    "InstanceQuotaExceeded": 400,
    "InvalidAction": 400,
    "MissingAction": 400,
    "MissingParameter": 400,
    "InvalidParameterValue": 400,
    "InvalidParameterCombination": 400,
    "MalformedQueryString": 404,
    "InvalidClientTokenId": 403,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
}
RECEIVER_FAULTS = {"InternalFailure", "ServiceUnavailable"}


class RdsError(Exception):
    """A failure the client caused (or, for Receiver codes, one it may retry), with its AWS code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = STATUS[code]
        self.fault = "Receiver" if code in RECEIVER_FAULTS else "Sender"


def invalid(message: str) -> RdsError:
    return RdsError("InvalidParameterValue", message)


def combination(message: str) -> RdsError:
    return RdsError("InvalidParameterCombination", message)


def instance_not_found(identifier: str) -> RdsError:
    return RdsError("DBInstanceNotFound", f"DBInstance {identifier} not found.")
