"""The store's fast read of the Describe path gives exactly what the ordinary one gives."""

from datetime import UTC, datetime

from emulator.model.instance import Instance
from emulator.store import Store


def test_the_prepared_describe_read_converts_every_type_as_sqlalchemy_does(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    made = Instance(
        "db-X", "typed", "mysql", "10.11.6", "db.t3.micro", "admin", "*AB", 400, "gp3", 13306, "us-east-1a",
        "03:00-03:30", "mon:04:00-mon:04:30", 1, "default.mysql8.0",
        datetime(2026, 11, 24, 12, 0, 1, 250000, tzinfo=UTC), db_name="app", address="127.0.0.1",
        observed="stopped", deletion_protection=True, stopped_at=datetime(2026, 11, 25, tzinfo=UTC),
        vpc_security_groups=["sg-0123456789abcdef0"], iops=12000, storage_throughput=500,
        server_parameters={"long_query_time": "3"}, server_parameter_group="default.mysql8.0",
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
