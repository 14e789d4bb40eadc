"""A managed master password's secret, as RDS keeps one in Secrets Manager: named `rds!db-<uuid>`, holding
{"username", "password"}, rotated every seven days and on RotateMasterUserPassword. The store keeps its ARN,
key and versions; the password of each version is derived from a key the emulator keeps, never stored."""

import json
import secrets
import string
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

ROTATION_DAYS = 7
DEFAULT_KEY_ALIAS = "alias/aws/secretsmanager"
CURRENT, PREVIOUS = "AWSCURRENT", "AWSPREVIOUS"
# the random suffix Secrets Manager gives every secret's ARN
_SUFFIX = string.ascii_letters + string.digits


@dataclass(frozen=True)
class MasterSecret:
    arn: str
    kms_key_id: str
    created_at: datetime
    current: str
    previous: str | None
    # when its current version was made (the last rotation, or its making)
    rotated_at: datetime
    # active; rotating while a new password is being set on the server
    status: str = "active"

    @property
    def name(self) -> str:
        return self.arn.split(":secret:", 1)[1][:-7]

    @property
    def next_rotation(self) -> datetime:
        return self.rotated_at + timedelta(days=ROTATION_DAYS)

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["created_at"], row["rotated_at"] = self.created_at.isoformat(), self.rotated_at.isoformat()
        return row

    @staticmethod
    def of(row: dict[str, Any]) -> "MasterSecret":
        return MasterSecret(**{**row, "created_at": datetime.fromisoformat(row["created_at"]),
                               "rotated_at": datetime.fromisoformat(row["rotated_at"])})

    def rotated(self, now: datetime) -> "MasterSecret":
        """A new current version, whose password is being set on the server."""
        return replace(self, current=str(uuid.uuid4()), previous=self.current, rotated_at=now, status="rotating")

    def versions(self) -> dict[str, list[str]]:
        kept = {self.current: [CURRENT]}
        if self.previous:
            kept[self.previous] = [PREVIOUS]
        return kept

    def stage_of(self, version: str) -> list[str] | None:
        return self.versions().get(version)

    def rds_wire(self) -> dict[str, str]:
        """MasterUserSecret, as DescribeDBInstances shows it."""
        return {"SecretArn": self.arn, "SecretStatus": self.status, "KmsKeyId": self.kms_key_id}

    def described(self, instance_arn: str) -> dict[str, Any]:
        """DescribeSecret's answer (and ListSecrets' entry, which has the same members but VersionIdsToStages'
        name, SecretVersionsToStages)."""
        return {
            "ARN": self.arn, "Name": self.name,
            "Description": f"Secret associated with primary RDS DB instance: {instance_arn}",
            "KmsKeyId": self.kms_key_id, "RotationEnabled": True,
            "RotationRules": {"AutomaticallyAfterDays": ROTATION_DAYS},
            "LastRotatedDate": self.rotated_at, "LastChangedDate": self.rotated_at,
            "NextRotationDate": self.next_rotation,
            "Tags": [{"Key": "aws:rds:primaryDBInstanceArn", "Value": instance_arn},
                     {"Key": "aws:secretsmanager:owningService", "Value": "rds"}],
            "OwningService": "rds", "CreatedDate": self.created_at,
        }


def new(region: str, account: str, kms_key_id: str, now: datetime) -> MasterSecret:
    suffix = "".join(secrets.choice(_SUFFIX) for _ in range(6))
    arn = f"arn:aws:secretsmanager:{region}:{account}:secret:rds!db-{uuid.uuid4()}-{suffix}"
    return MasterSecret(arn, kms_key_id, now, str(uuid.uuid4()), None, now)


def secret_string(username: str, password: str) -> str:
    return json.dumps({"username": username, "password": password})
