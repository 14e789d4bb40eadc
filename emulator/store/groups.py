"""DB subnet groups, DB security groups and their ingress rules, DB parameter groups and their values."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from emulator.model.keys import parameter_group_key, rule_key, security_group_key, subnet_group_key
from emulator.model.records import GroupValue, IngressRule, ParameterGroup, SecurityGroup, SubnetGroup
from emulator.store.base import StoreBase
from emulator.store.checks import check_quota, check_security_groups, insert_task, upsert_tags
from emulator.store.errors import NameTaken, RuleTaken
from emulator.store.schema import (
    db_security_group_rules,
    db_security_groups,
    group_parameters,
    instances,
    parameter_groups,
    subnet_groups,
    tags,
    tasks,
)


class Groups(StoreBase):
    def add_subnet_group(self, group: SubnetGroup, pairs: list[tuple[str, str]]) -> None:
        try:
            with self._tx() as conn:
                check_quota(conn, "DBSubnetGroups", subnet_groups)
                conn.execute(insert(subnet_groups).values(group.__dict__))
                upsert_tags(conn, subnet_group_key(group.name), pairs)
        except IntegrityError:
            raise NameTaken(group.name) from None

    def get_subnet_group(self, name: str) -> SubnetGroup | None:
        with self._read() as conn:
            row = conn.execute(select(subnet_groups).where(subnet_groups.c.name == name)).first()
        return SubnetGroup(*row) if row else None

    def list_subnet_groups(self, *, after: str | None = None, limit: int | None = None) -> list[SubnetGroup]:
        query = select(subnet_groups).order_by(subnet_groups.c.name).limit(limit)
        if after is not None:
            query = query.where(subnet_groups.c.name > after)
        with self._read() as conn:
            return [SubnetGroup(*row) for row in conn.execute(query)]

    def update_subnet_group(self, name: str, **values: Any) -> None:
        with self._tx() as conn:
            conn.execute(update(subnet_groups).where(subnet_groups.c.name == name).values(**values))

    def remove_subnet_group(self, name: str) -> bool:
        """False, with nothing removed, while an instance uses the group."""
        with self._tx() as conn:
            if conn.scalar(select(instances.c.resource_id).where(instances.c.subnet_group == name).limit(1)):
                return False
            conn.execute(delete(subnet_groups).where(subnet_groups.c.name == name))
            conn.execute(delete(tags).where(tags.c.resource_id == subnet_group_key(name)))
        return True

    # DB security groups

    def add_security_group(self, group: SecurityGroup, pairs: list[tuple[str, str]]) -> None:
        try:
            with self._tx() as conn:
                check_quota(conn, "DBSecurityGroups", db_security_groups)
                conn.execute(insert(db_security_groups).values(group.__dict__))
                upsert_tags(conn, security_group_key(group.name), pairs)
        except IntegrityError:
            raise NameTaken(group.name) from None

    def get_security_group(self, name: str) -> tuple[SecurityGroup, list[IngressRule]] | None:
        with self._read() as conn:
            row = conn.execute(select(db_security_groups).where(db_security_groups.c.name == name)).first()
            rules = conn.execute(select(db_security_group_rules).where(db_security_group_rules.c.group_name == name)
                                 .order_by(db_security_group_rules.c.kind, db_security_group_rules.c.value)).all()
        return (SecurityGroup(*row), [IngressRule(*rule) for rule in rules]) if row else None

    def list_security_groups(self, *, after: str | None = None,
                             limit: int | None = None) -> list[tuple[SecurityGroup, list[IngressRule]]]:
        query = select(db_security_groups).order_by(db_security_groups.c.name).limit(limit)
        if after is not None:
            query = query.where(db_security_groups.c.name > after)
        with self._read() as conn:
            groups = [SecurityGroup(*row) for row in conn.execute(query)]
            rules = conn.execute(select(db_security_group_rules).where(
                db_security_group_rules.c.group_name.in_([group.name for group in groups]))
                .order_by(db_security_group_rules.c.kind, db_security_group_rules.c.value)).all()
        return [(group, [IngressRule(*rule) for rule in rules if rule.group_name == group.name]) for group in groups]

    def add_rule(self, rule: IngressRule, now: datetime) -> None:
        """The rule, `authorizing`, and the task that applies it, in one transaction. GroupMissing when the
        group is gone; RuleTaken when it already has the rule (in any status)."""
        try:
            with self._tx() as conn:
                check_security_groups(conn, [rule.group_name])
                conn.execute(insert(db_security_group_rules).values(rule.__dict__ | {"status": "authorizing"}))
                insert_task(conn, "db-security-group-rule", rule_key(rule), "apply", {}, now)
        except IntegrityError:
            raise RuleTaken(rule.value) from None

    def revoke_rule(self, rule: IngressRule, now: datetime) -> str | None:
        """An authorized rule becomes `revoking`, with the task that removes it, in one transaction. The
        rule's status before (`authorized` when it was revoked); None when the group has no such rule."""
        with self._tx() as conn:
            status = conn.scalar(select(db_security_group_rules.c.status).where(*_rule_is(rule)))
            if status == "authorized":
                conn.execute(update(db_security_group_rules).where(*_rule_is(rule)).values(status="revoking"))
                insert_task(conn, "db-security-group-rule", rule_key(rule), "apply", {}, now)
            return status

    def get_rule(self, key: str) -> IngressRule | None:
        group_name, kind, value = key.split("/", 2)
        with self._read() as conn:
            row = conn.execute(select(db_security_group_rules).where(
                *_rule_is(IngressRule(group_name, kind, value, None, "")))).first()
        return IngressRule(*row) if row else None

    def settle_rule(self, rule: IngressRule, task_id: int) -> bool:
        """An authorizing rule is authorized, a revoking one gone, and the task that applied it done, in one
        transaction: a revoke of a rule seen `authorized` never meets its authorization's task still under way.
        False when the rule has neither status now."""
        with self._tx() as conn:
            if rule.status == "revoking":
                statement = delete(db_security_group_rules).where(*_rule_is(rule),
                                                                  db_security_group_rules.c.status == "revoking")
            else:
                statement = update(db_security_group_rules).where(
                    *_rule_is(rule), db_security_group_rules.c.status == "authorizing").values(status="authorized")
            settled = conn.execute(statement).rowcount == 1
            conn.execute(update(tasks).where(tasks.c.id == task_id).values(state="done"))
            return settled

    def guarded_endpoints(self) -> list[tuple[str | None, int, list[str]]]:
        """Each endpoint of an instance in DB security groups, with the CIDR ranges they let in: those
        authorized or being authorized, not those being revoked."""
        with self._read() as conn:
            members = conn.execute(select(instances.c.address, instances.c.port,
                                          instances.c.db_security_groups)).all()
            rules = conn.execute(select(db_security_group_rules.c.group_name, db_security_group_rules.c.value)
                                 .where(db_security_group_rules.c.kind == "cidr",
                                        db_security_group_rules.c.status != "revoking")).all()
        ranges: dict[str, list[str]] = {}
        for group, cidr in rules:
            ranges.setdefault(group, []).append(cidr)
        return [(address, port, sorted({cidr for group in groups for cidr in ranges.get(group, [])}))
                for address, port, groups in members if groups]

    def remove_security_group(self, name: str) -> bool:
        """False, with nothing removed, while an instance is in the group."""
        with self._tx() as conn:
            for (groups,) in conn.execute(select(instances.c.db_security_groups)):
                if name in groups:
                    return False
            conn.execute(delete(db_security_group_rules).where(db_security_group_rules.c.group_name == name))
            conn.execute(delete(db_security_groups).where(db_security_groups.c.name == name))
            conn.execute(delete(tags).where(tags.c.resource_id == security_group_key(name)))
        return True

    # parameter groups

    def add_parameter_group(
        self, group: ParameterGroup, pairs: list[tuple[str, str]], values: dict[str, GroupValue] | None = None
    ) -> None:
        """The group, its tags and (for a copy) its values; NameTaken when the name is in use."""
        try:
            with self._tx() as conn:
                check_quota(conn, "DBParameterGroups", parameter_groups)
                conn.execute(insert(parameter_groups).values(group.__dict__))
                upsert_tags(conn, parameter_group_key(group.name), pairs)
                _set_values(conn, group.name, values or {})
        except IntegrityError:
            raise NameTaken(group.name) from None

    def get_parameter_group(self, name: str) -> ParameterGroup | None:
        with self._read() as conn:
            row = conn.execute(select(parameter_groups).where(parameter_groups.c.name == name)).first()
        return ParameterGroup(*row) if row else None

    def list_parameter_groups(
        self, *, after: str | None = None, limit: int | None = None, families: Iterable[str] | None = None
    ) -> list[ParameterGroup]:
        query = select(parameter_groups).order_by(parameter_groups.c.name).limit(limit)
        if after is not None:
            query = query.where(parameter_groups.c.name > after)
        if families is not None:
            query = query.where(parameter_groups.c.family.in_(list(families)))
        with self._read() as conn:
            return [ParameterGroup(*row) for row in conn.execute(query)]

    def remove_parameter_group(self, name: str) -> bool:
        """False, with nothing removed, while an instance uses the group."""
        with self._tx() as conn:
            if conn.scalar(select(instances.c.resource_id).where(instances.c.parameter_group == name).limit(1)):
                return False
            conn.execute(delete(parameter_groups).where(parameter_groups.c.name == name))
            conn.execute(delete(group_parameters).where(group_parameters.c.group_name == name))
            conn.execute(delete(tags).where(tags.c.resource_id == parameter_group_key(name)))
        return True

    def group_values(self, names: Iterable[str]) -> dict[str, dict[str, GroupValue]]:
        """What users set in each of these groups."""
        found: dict[str, dict[str, GroupValue]] = {name: {} for name in names}
        query = select(group_parameters).where(group_parameters.c.group_name.in_(list(found)))
        with self._read() as conn:
            for row in conn.execute(query):
                found[row.group_name][row.name] = GroupValue(row.value, row.method)
        return found

    def set_group_values(self, name: str, values: dict[str, GroupValue]) -> bool:
        """False, with nothing set, when the group does not exist (it was deleted meanwhile)."""
        with self._tx() as conn:
            if conn.scalar(select(parameter_groups.c.name).where(parameter_groups.c.name == name)) is None:
                return False
            _set_values(conn, name, values)
        return True

    def reset_group_values(self, name: str, names: Iterable[str] | None) -> None:
        """Back to their defaults: these parameters, or (None) all of them."""
        query = delete(group_parameters).where(group_parameters.c.group_name == name)
        if names is not None:
            query = query.where(group_parameters.c.name.in_(list(names)))
        with self._tx() as conn:
            conn.execute(query)



def _rule_is(rule: IngressRule) -> tuple[Any, ...]:
    return (db_security_group_rules.c.group_name == rule.group_name, db_security_group_rules.c.kind == rule.kind,
            db_security_group_rules.c.value == rule.value)




def _set_values(conn: Connection, group: str, values: dict[str, GroupValue]) -> None:
    for name, item in values.items():
        conn.execute(delete(group_parameters).where(group_parameters.c.group_name == group,
                                                    group_parameters.c.name == name))
        conn.execute(insert(group_parameters).values(group_name=group, name=name, value=item.value,
                                                     method=item.method))


