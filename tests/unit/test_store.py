"""The store's fast read of the Describe path gives exactly what the ordinary one gives; its writers take turns,
requests first."""

import threading
from datetime import UTC, datetime

import pytest

from emulator.model.instance import Instance
from emulator.model.keys import rule_key
from emulator.model.records import IngressRule, SecurityGroup
from emulator.store import Store
from emulator.store.base import WriteTurns
from tests.emulator_process import wait_for


def test_the_prepared_describe_read_converts_every_type_as_sqlalchemy_does(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    made = Instance(
        "db-X", "typed", "mysql", "10.11.6", "db.t3.micro", "admin", "*AB", 400, "gp3", 13306, "us-east-1a",
        "03:00-03:30", "mon:04:00-mon:04:30", 1, "default.mysql9.7",
        datetime(2026, 11, 24, 12, 0, 1, 250000, tzinfo=UTC), db_name="app", address="127.0.0.1",
        observed="stopped", deletion_protection=True, stopped_at=datetime(2026, 11, 25, tzinfo=UTC),
        vpc_security_groups=["sg-0123456789abcdef0"], iops=12000, storage_throughput=500,
        server_parameters={"long_query_time": "3"}, server_parameter_group="default.mysql9.7",
    )
    store.add_instance(made, [("b", "2"), ("a", "1")], datetime(2026, 11, 24, tzinfo=UTC))
    fast, tags = Store.instance_of(store.instance_rows("typed"))
    ordinary = store.find_instance("typed")
    assert fast == ordinary
    assert (fast.task, fast.task_params) == (ordinary.task, ordinary.task_params) == ("create", {})
    assert fast.created_at == made.created_at and fast.deletion_protection is True and fast.multi_az is False
    assert tags == [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]
    store.close()


def test_the_prepared_pages_list_what_the_general_query_lists(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    for n in range(7):
        made = Instance(
            f"db-{n}", f"name-{n}", "mariadb", "10.11.6", "db.t3.micro", "admin", "*AB", 20, "gp2", 13306 + n,
            "us-east-1a", "03:00-03:30", "mon:04:00-mon:04:30", 1, "default.mariadb10.11",
            datetime(2026, 11, 24, tzinfo=UTC), address="127.0.0.1",
        )
        store.add_instance(made, [], datetime(2026, 11, 24, tzinfo=UTC))
    everything = store.list_instances(engines=["mariadb"])
    assert store.list_instances(limit=4) == everything[:4]
    assert store.list_instances(after="name-3", limit=10) == everything[4:]
    assert [i.task for i in store.list_instances(limit=2)] == ["create", "create"]
    store.close()


@pytest.mark.parametrize("attempt", range(5))  # without the rule, the two waiting go in either order
def test_a_requests_write_goes_before_the_background_writes_waiting(attempt):
    turns = WriteTurns()
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def write(name: str, background: bool, hold: bool = False) -> None:
        if background:
            turns.background.marked = True
        with turns.turn():
            order.append(name)
            if hold:
                holding.set()
                release.wait(10)

    first = threading.Thread(target=write, args=("task", True, True))
    first.start()
    assert holding.wait(10)
    waiting = threading.Thread(target=write, args=("another task", True))
    waiting.start()
    wait_for(lambda: turns._free._waiters, 10, "the second task to wait")  # noqa: SLF001
    request = threading.Thread(target=write, args=("request", False))
    request.start()
    wait_for(lambda: turns._urgent == 1, 10, "the request to wait")  # noqa: SLF001
    release.set()
    for thread in (first, waiting, request):
        thread.join(10)
    assert order == ["task", "request", "another task"]


def test_a_threads_nested_transactions_share_its_turn():
    turns = WriteTurns()
    with turns.turn(), turns.turn():
        pass
    with turns.turn():  # released to the last
        pass


def test_the_store_answers_which_endpoints_instances_hold(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert not store.endpoint_held("127.0.0.1", 13306) and store.highest_port("127.0.0.1", range(13306, 14000)) is None
    for n, (address, port) in enumerate([("127.0.0.1", 13306), ("127.0.0.2", 13306), ("127.0.0.1", 13400)]):
        made = Instance(f"db-{n}", f"i{n}", "mysql", "10.11.6", "db.t3.micro", "admin", "*AB", 20, "gp2", port,
                        "us-east-1a", "03:00-03:30", "mon:04:00-mon:04:30", 1, "default.mysql9.7",
                        datetime(2026, 11, 24, tzinfo=UTC), address=address)
        store.add_instance(made, [], datetime(2026, 11, 24, tzinfo=UTC))
    assert store.endpoint_held("127.0.0.2", 13306) and not store.endpoint_held("127.0.0.2", 13400)
    assert store.address_held("127.0.0.2") and not store.address_held("127.0.0.3")
    assert store.highest_port("127.0.0.1", range(13306, 14000)) == 13400
    assert store.highest_port("127.0.0.1", range(13306, 13400)) == 13306  # the range's own, not the address's
    store.close()


def test_a_rule_seen_authorized_can_be_revoked_at_once(tmp_path):
    """The authorization's task ends with the status it sets: a revoke right after it never meets that task
    still under way (it answered 500 once, when the task's end came in a transaction of its own)."""
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    now = datetime(2026, 11, 24, tzinfo=UTC)
    store.add_security_group(SecurityGroup("office", "desk", now), [])
    rule = IngressRule("office", "cidr", "10.1.0.0/16", None, "authorizing")
    store.add_rule(rule, now)
    task = store.claim_due_task("worker", now)
    assert task is not None and task.resource_type == "db-security-group-rule"
    assert store.settle_rule(rule, task.id)  # the runner has not ended the task yet
    assert store.revoke_rule(rule, now) == "authorized"
    assert store.get_rule(rule_key(rule)).status == "revoking"
    store.close()
