"""What the firewall is told to guard, and the nftables script it makes of it. The rules at work, on both
drivers and across network namespaces, are in tests/integration/test_security_group_enforcement.py."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from emulator.config import Settings
from emulator.host import firewall
from emulator.host.firewall import Guard
from emulator.runtime import boot
from tests.api_client import NS
from tests.emulator_process import wait_for
from tests.together import all_at_once

TABLE = "rds_emulator_t"


@pytest.fixture
def api(monkeypatch, api):  # monkeypatch first: undone after the emulator closes
    """The firewall as the emulator has it, with nft itself stood in for by a list of the scripts it was
    given: the none driver runs no server, so there is nothing to guard for real here."""
    applied: list[str] = []
    monkeypatch.setattr(firewall, "_nft", applied.append)
    monkeypatch.setattr(firewall, "_nft_binary", lambda: "/usr/sbin/nft")
    api.runtime.ctx.firewall = firewall.NftFirewall(TABLE)
    api.applied = applied
    return api


def guarding(api, *guards: Guard) -> bool:
    """Whether the last script nft was given guards exactly these endpoints."""
    return bool(api.applied) and api.applied[-1] == (firewall.ruleset(TABLE, guards) if guards
                                                     else firewall.removal(TABLE))


def test_instances_in_db_security_groups_are_guarded_with_their_groups_ranges(api):
    for name in ("web", "office"):
        api.ok(Action="CreateDBSecurityGroup", DBSecurityGroupName=name, DBSecurityGroupDescription=name)
    api.ok(Action="AuthorizeDBSecurityGroupIngress", DBSecurityGroupName="web", CIDRIP="10.1.0.0/16")
    api.ok(Action="AuthorizeDBSecurityGroupIngress", DBSecurityGroupName="web", EC2SecurityGroupName="apps",
           EC2SecurityGroupOwnerId="999988881111")
    api.ok(Action="AuthorizeDBSecurityGroupIngress", DBSecurityGroupName="office", CIDRIP="192.0.2.0/24")
    api.create("guarded", Port="4000", BackupRetentionPeriod="0",  # no backup to race the modify below
               **{"DBSecurityGroups.DBSecurityGroupName.1": "web", "DBSecurityGroups.DBSecurityGroupName.2": "office"})
    api.create("in-a-vpc", Port="4001")
    both = Guard("127.0.0.1", 4000, ("10.1.0.0/16", "192.0.2.0/24"))
    wait_for(lambda: guarding(api, both), 10, "the instance guarded")  # EC2 groups let nothing in here

    wait_for(lambda: api.ok(Action="DescribeDBSecurityGroups", DBSecurityGroupName="office").findtext(
        f".//{NS}IPRange/{NS}Status") == "authorized", 10, "the range authorized")
    api.ok(Action="RevokeDBSecurityGroupIngress", DBSecurityGroupName="office", CIDRIP="192.0.2.0/24")
    wait_for(lambda: guarding(api, Guard("127.0.0.1", 4000, ("10.1.0.0/16",))), 10, "the range revoked")
    api.wait_available("guarded")
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="guarded", ApplyImmediately="true",
           **{"DBSecurityGroups.DBSecurityGroupName.1": "office"})
    # by the task the modify queued with the change (a request runs no tool itself)
    wait_for(lambda: guarding(api, Guard("127.0.0.1", 4000, ())), 10, "the new groups guarding")
    api.ok(Action="DeleteDBInstance", DBInstanceIdentifier="guarded", SkipFinalSnapshot="true")
    wait_for(lambda: guarding(api), 10, "the deleted instance unguarded")


def test_the_script_replaces_the_table_and_merges_overlapping_ranges():
    script = firewall.ruleset("rds_emulator_t", [
        Guard("0.0.0.0", 4000, ()),
        Guard("10.0.0.5", 3306, ("10.1.0.0/16", "10.0.0.0/8", "192.0.2.7/32")),
    ])
    lines = script.splitlines()
    # made if missing, then deleted, then made anew: one transaction, whatever was there before
    assert lines[:4] == ["table inet rds_emulator_t {}", "delete table inet rds_emulator_t",
                         "table bridge rds_emulator_t {}", "delete table bridge rds_emulator_t"]
    opening = "tcp flags & (syn | ack) == syn"
    assert f"    ip daddr 10.0.0.5 tcp dport 3306 {opening} fib saddr type != local " \
           "ip saddr != { 10.0.0.0/8, 192.0.2.7/32 } drop" in lines
    assert f"    tcp dport 4000 {opening} fib saddr type != local drop" in lines  # every address, none let in
    # bridged guests are reached through the bridge, where the host's own connections never pass
    assert script.count(f"ip daddr 10.0.0.5 tcp dport 3306 {opening} ip saddr") == 2
    if shutil.which("nft", path="/usr/sbin:" + os.environ["PATH"]) and os.geteuid() == 0:
        checked = subprocess.run(["nft", "-c", "-f", "-"], input=script, capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr  # nft reads it (checks only, changes nothing)


def test_nothing_guarded_and_nothing_ever_applied_needs_no_nft(monkeypatch):
    monkeypatch.setattr(firewall, "_nft_binary", lambda: None)
    with pytest.raises(firewall.FirewallError, match="nft is not installed"):
        firewall.NftFirewall("rds_emulator_t").sync(lambda: [Guard("127.0.0.1", 3306, ())])
    ran = []
    monkeypatch.setattr(firewall, "_nft", ran.append)
    wall = firewall.NftFirewall("rds_emulator_t")
    wall.sync(list)
    assert ran == []
    monkeypatch.setattr(firewall, "_nft_binary", lambda: "/usr/sbin/nft")
    wall.sync(lambda: [Guard("127.0.0.1", 3306, ())])
    wall.sync(lambda: [Guard("127.0.0.1", 3306, ())])
    assert len(ran) == 1  # the same rules are not applied twice


class Refusing:
    def sync(self, guards):
        raise firewall.FirewallError("nft refused the rules: Operation not permitted")

    def remove(self):
        pass


def test_an_instance_that_cannot_be_guarded_does_not_start(api):
    api.runtime.ctx.firewall = Refusing()
    api.ok(Action="CreateDBSecurityGroup", DBSecurityGroupName="web", DBSecurityGroupDescription="web")
    api.create("guarded", **{"DBSecurityGroups.DBSecurityGroupName.1": "web"})
    api.create("in-a-vpc")
    wait_for(lambda: api.status("guarded") == "failed", 10, "the guarded instance failed")
    wait_for(lambda: api.status("in-a-vpc") == "available", 10, "the other instance available")
    events = [e.findtext(f"{NS}Message") for e in api.ok(
        Action="DescribeEvents", SourceType="db-instance", SourceIdentifier="guarded").iter(f"{NS}Event")]
    assert "DB instance failed: nft refused the rules: Operation not permitted" in events
    api.ok(Action="AuthorizeDBSecurityGroupIngress", DBSecurityGroupName="web", CIDRIP="10.1.0.0/16")
    wait_for(lambda: any("Could not apply the ingress from 10.1.0.0/16: nft refused" in e.findtext(f"{NS}Message")
                         for e in api.ok(Action="DescribeEvents", SourceType="db-security-group").iter(f"{NS}Event")),
             10, "the failure's event")
    answer = api.ok(Action="DescribeDBSecurityGroups", DBSecurityGroupName="web")
    assert answer.findtext(f".//{NS}IPRange/{NS}Status") == "authorizing"


def test_many_clients_change_one_groups_rules_at_once_and_the_firewall_ends_as_the_store(api):
    api.ok(Action="CreateDBSecurityGroup", DBSecurityGroupName="web", DBSecurityGroupDescription="web")
    api.create("guarded", Port="4000", **{"DBSecurityGroups.DBSecurityGroupName.1": "web"})
    ranges = [f"10.{n}.0.0/16" for n in range(8)]
    all_at_once(lambda cidr: api.ok(Action="AuthorizeDBSecurityGroupIngress", DBSecurityGroupName="web",
                                    CIDRIP=cidr), ranges)
    wait_for(lambda: guarding(api, Guard("127.0.0.1", 4000, tuple(sorted(ranges)))), 10, "all let in")
    wait_for(lambda: api.ok(Action="DescribeDBSecurityGroups", DBSecurityGroupName="web").findtext(
        f".//{NS}IPRange[{NS}Status='authorizing']") is None, 10, "all authorized")
    all_at_once(lambda cidr: api.ok(Action="RevokeDBSecurityGroupIngress", DBSecurityGroupName="web",
                                    CIDRIP=cidr), ranges[:5])
    wait_for(lambda: guarding(api, Guard("127.0.0.1", 4000, tuple(sorted(ranges[5:])))), 10, "five revoked")


def test_servers_listen_on_an_ipv4_address_or_the_emulator_does_not_start(tmp_path):
    with pytest.raises(ValueError, match="--server-host 'db.example' is not an IPv4 address"):
        boot(Settings(data_dir=tmp_path / "data", driver="none", server_host="db.example"), schedule=False)
    started = subprocess.run([sys.executable, "-m", "emulator.cli", "serve", "--data-dir", str(tmp_path / "data"),
                              "--driver", "none", "--server-host", "::1"], capture_output=True, text=True, timeout=60,
                             cwd=pathlib.Path(__file__).resolve().parents[2])
    assert started.returncode == 1
    assert started.stderr == "rds-emulator: --server-host '::1' is not an IPv4 address: DB servers listen on one, " \
                             "and DB security groups guard it\n"
