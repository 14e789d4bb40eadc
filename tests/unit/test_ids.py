"""Ids made on the request path (model/ids.py) have the shapes RDS gives them, and differ."""

import re
import uuid

from emulator.model import ids


def test_request_ids_are_version_4_uuids_and_differ():
    made = [ids.request_id() for _ in range(10_000)]
    for text in made[:1000]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert len(set(made)) == len(made)


def test_resource_ids_are_db_and_26_base32_characters_and_differ():
    made = [ids.resource_id() for _ in range(10_000)]
    assert all(re.fullmatch(r"db-[A-Z2-7]{26}", text) for text in made)
    assert len(set(made)) == len(made)
    assert len({ids.token() for _ in range(1000)}) == 1000
