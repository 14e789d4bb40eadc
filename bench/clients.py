"""Query clients for the emulator under measurement: they sign with its own access key, as every real
client must (signing is on by default, and its cost is part of what is measured)."""

from compat.query_client import QueryClient
from tests.emulator_process import EmulatorProcess


def signed(emulator: EmulatorProcess, timeout: float = 60) -> QueryClient:
    keys = emulator.credentials()
    return QueryClient(emulator.url, (keys["aws_access_key_id"], keys["aws_secret_access_key"]), timeout=timeout)
