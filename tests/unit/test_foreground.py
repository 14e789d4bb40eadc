"""Background work lets requests go first (emulator/foreground.py), and still goes under a stream of them."""

import threading
import time

from werkzeug.test import Client

from emulator.foreground import LONGEST, Foreground
from tests.emulator_process import wait_for


def test_an_instance_becomes_available_while_clients_never_pause(api):
    stop = threading.Event()
    answered = [0]

    def stream() -> None:
        client = Client(api.runtime.app)
        while not stop.is_set():
            client.post("/", data={"Action": "DescribeDBInstances"})
            answered[0] += 1

    clients = [threading.Thread(target=stream) for _ in range(3)]
    for thread in clients:
        thread.start()
    try:
        wait_for(lambda: answered[0] > 10, 10, "the clients to stream")
        api.create("db1", BackupRetentionPeriod="1")
        wait_for(lambda: api.status("db1") == "available", 20, "db1 to be available under the stream")
        wait_for(lambda: api.ok(Action="DescribeDBSnapshots", DBInstanceIdentifier="db1")
                 .findtext(".//{http://rds.amazonaws.com/doc/2014-10-31/}Status") == "available",
                 20, "its first automated backup under the stream")
    finally:
        stop.set()
        for thread in clients:
            thread.join()


def test_background_waits_for_a_pause_but_never_longer_than_its_bound():
    foreground = Foreground()
    assert not foreground.busy()
    with foreground:
        assert foreground.busy()
        start = time.monotonic()
        foreground.wait_for_a_pause()
        assert LONGEST <= time.monotonic() - start < LONGEST + 5, "it went at its bound, not before"
    wait_for(lambda: not foreground.busy(), 5, "the pause")
