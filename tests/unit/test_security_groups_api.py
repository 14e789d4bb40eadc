"""DB security groups' rules, with the none driver: the default group, ingress authorizing then authorized
and revoking then gone (with events), instances in groups, refusals, and many clients at once."""


from tests.api_client import NS
from tests.emulator_process import wait_for
from tests.together import all_at_once


def group(api, name):
    found = api.ok(Action="DescribeDBSecurityGroups", DBSecurityGroupName=name).find(f".//{NS}DBSecurityGroup")
    return {"name": found.findtext(f"{NS}DBSecurityGroupName"),
            "ranges": {r.findtext(f"{NS}CIDRIP"): r.findtext(f"{NS}Status") for r in found.iter(f"{NS}IPRange")},
            "ec2": {(g.findtext(f"{NS}EC2SecurityGroupName"), g.findtext(f"{NS}EC2SecurityGroupOwnerId")):
                    g.findtext(f"{NS}Status") for g in found.iter(f"{NS}EC2SecurityGroup")}}


def test_ingress_is_authorizing_then_authorized_and_revoking_then_gone(api):
    assert group(api, "default") == {"name": "default", "ranges": {}, "ec2": {}}
    made = api.ok(Action="CreateDBSecurityGroup", DBSecurityGroupName="Web", DBSecurityGroupDescription="web tier")
    assert made.findtext(f".//{NS}DBSecurityGroupName") == "web"
    assert made.findtext(f".//{NS}DBSecurityGroupArn") == "arn:aws:rds:us-east-1:123456789012:secgrp:web"
    answer = api.ok(Action="AuthorizeDBSecurityGroupIngress", DBSecurityGroupName="web", CIDRIP="10.1.2.0/24")
    assert answer.findtext(f".//{NS}IPRange/{NS}Status") == "authorizing"
    api.ok(Action="AuthorizeDBSecurityGroupIngress", DBSecurityGroupName="web", EC2SecurityGroupName="apps",
           EC2SecurityGroupOwnerId="999988881111")
    wait_for(lambda: group(api, "web") == {"name": "web", "ranges": {"10.1.2.0/24": "authorized"},
                                           "ec2": {("apps", "999988881111"): "authorized"}}, 10, "authorized")
    revoked = api.ok(Action="RevokeDBSecurityGroupIngress", DBSecurityGroupName="web", CIDRIP="10.1.2.0/24")
    assert revoked.findtext(f".//{NS}IPRange/{NS}Status") == "revoking"
    wait_for(lambda: group(api, "web")["ranges"] == {}, 10, "revoked")

    def listed():
        return [(e.findtext(f"{NS}SourceType"), e.findtext(f"{NS}SourceIdentifier"), e.findtext(f"{NS}Message"))
                for e in api.ok(Action="DescribeEvents", SourceType="db-security-group").iter(f"{NS}Event")]

    events = wait_for(lambda: len(found := listed()) == 3 and found, 10, "the revoke's event")  # written after it
    # the two authorizations' tasks run side by side, in either order; the revoke came after both
    assert set(events[:2]) == {("db-security-group", "web", "Authorized ingress from 10.1.2.0/24"),
                               ("db-security-group", "web", "Authorized ingress from EC2 security group apps "
                                                            "(owner 999988881111)")}
    assert events[2:] == [("db-security-group", "web", "Revoked ingress from 10.1.2.0/24")]


def test_instances_in_groups_and_what_is_refused(api):
    api.ok(Action="CreateDBSecurityGroup", DBSecurityGroupName="web", DBSecurityGroupDescription="web tier")
    api.create("db1", **{"DBSecurityGroups.DBSecurityGroupName.1": "web"})
    members = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="db1").find(f".//{NS}DBSecurityGroups")
    assert [(m.findtext(f"{NS}DBSecurityGroupName"), m.findtext(f"{NS}Status")) for m in members] == [("web", "active")]
    api.error(404, "DBSecurityGroupNotFound", Action="CreateDBInstance", DBInstanceIdentifier="db2",
              DBInstanceClass="db.t3.micro", Engine="mysql", AllocatedStorage="20", MasterUsername="admin",
              MasterUserPassword="secret123", **{"DBSecurityGroups.DBSecurityGroupName.1": "nope"})
    api.error(400, "InvalidDBSecurityGroupState", Action="DeleteDBSecurityGroup", DBSecurityGroupName="web")
    api.error(400, "InvalidDBSecurityGroupState", Action="DeleteDBSecurityGroup", DBSecurityGroupName="default")
    api.error(400, "DBSecurityGroupAlreadyExists", Action="CreateDBSecurityGroup", DBSecurityGroupName="WEB",
              DBSecurityGroupDescription="again")
    api.error(400, "DBSecurityGroupAlreadyExists", Action="CreateDBSecurityGroup", DBSecurityGroupName="default",
              DBSecurityGroupDescription="again")
    for bad in ("1abc", "a--b", "a-", "a_b", "x" * 256):
        api.error(400, "InvalidParameterValue", Action="CreateDBSecurityGroup", DBSecurityGroupName=bad,
                  DBSecurityGroupDescription="d")
    for cidr in ("10.0.0.1", "10.0.0.1/24", "300.0.0.0/8", "nonsense"):
        api.error(400, "InvalidParameterValue", Action="AuthorizeDBSecurityGroupIngress", DBSecurityGroupName="web",
                  CIDRIP=cidr)
    api.error(400, "InvalidParameterCombination", Action="AuthorizeDBSecurityGroupIngress",
              DBSecurityGroupName="web", CIDRIP="10.0.0.0/8", EC2SecurityGroupName="apps")
    api.error(400, "MissingParameter", Action="AuthorizeDBSecurityGroupIngress", DBSecurityGroupName="web")
    api.error(404, "DBSecurityGroupNotFound", Action="AuthorizeDBSecurityGroupIngress", DBSecurityGroupName="nope",
              CIDRIP="10.0.0.0/8")
    api.error(404, "AuthorizationNotFound", Action="RevokeDBSecurityGroupIngress", DBSecurityGroupName="web",
              CIDRIP="10.9.0.0/16")

    api.wait_available("db1")
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", ApplyImmediately="true",
           **{"DBSecurityGroups.DBSecurityGroupName.1": "default"})
    members = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="db1").find(f".//{NS}DBSecurityGroups")
    assert [m.findtext(f"{NS}DBSecurityGroupName") for m in members] == ["default"]
    api.ok(Action="DeleteDBSecurityGroup", DBSecurityGroupName="web")
    api.error(404, "DBSecurityGroupNotFound", Action="DescribeDBSecurityGroups", DBSecurityGroupName="web")
    arn = "arn:aws:rds:us-east-1:123456789012:secgrp:default"
    api.ok(Action="AddTagsToResource", ResourceName=arn, **{"Tags.Tag.1.Key": "team", "Tags.Tag.1.Value": "db"})
    listed = api.ok(Action="ListTagsForResource", ResourceName=arn)
    assert listed.findtext(f".//{NS}Tag/{NS}Value") == "db"


def test_many_clients_authorize_and_delete_at_once(api):
    api.ok(Action="CreateDBSecurityGroup", DBSecurityGroupName="web", DBSecurityGroupDescription="web tier")

    def code(fields):
        response, root = api.call(**fields)
        return response.status_code == 200 or root.findtext(f"{NS}Error/{NS}Code")

    same = all_at_once(code, [{"Action": "AuthorizeDBSecurityGroupIngress", "DBSecurityGroupName": "web",
                               "CIDRIP": "10.0.0.0/8"}] * 8)
    assert sorted(same, key=str) == sorted([True] + ["AuthorizationAlreadyExists"] * 7, key=str)
    many = all_at_once(code, [{"Action": "AuthorizeDBSecurityGroupIngress", "DBSecurityGroupName": "web",
                               "CIDRIP": f"10.{n}.0.0/16"} for n in range(1, 9)])
    assert many == [True] * 8
    wait_for(lambda: set(group(api, "web")["ranges"].values()) == {"authorized"}
             and len(group(api, "web")["ranges"]) == 9, 10, "all nine authorized")
    # an instance joining the group while it is deleted: one of them wins, never both
    outcomes = all_at_once(code, [
        {"Action": "DeleteDBSecurityGroup", "DBSecurityGroupName": "web"},
        {"Action": "CreateDBInstance", "DBInstanceIdentifier": "racer", "DBInstanceClass": "db.t3.micro",
         "Engine": "mysql", "AllocatedStorage": "20", "MasterUsername": "admin", "MasterUserPassword": "secret123",
         "DBSecurityGroups.DBSecurityGroupName.1": "web"}])
    assert outcomes in ([True, "DBSecurityGroupNotFound"], ["InvalidDBSecurityGroupState", True])


def test_an_old_api_version_puts_an_instance_without_groups_in_the_default_db_security_group(api):
    def groups(root):  # the answer is in the namespace of the version asked for
        texts = [(e.tag.rpartition("}")[2], e.text) for e in root.iter()]
        return ([text for tag, text in texts if tag == "DBSecurityGroupName"],
                [text for tag, text in texts if tag == "VpcSecurityGroupId"])

    old, vpc = groups(api.create("classic", Version="2013-05-15"))
    assert (old, vpc) == (["default"], [])
    old, vpc = groups(api.create("current", Version="2014-10-31"))
    assert old == [] and len(vpc) == 1
    old, vpc = groups(api.create("chosen", Version="2013-05-15", **{"VpcSecurityGroupIds.member.1": "sg-0123abcd"}))
    assert (old, vpc) == ([], ["sg-0123abcd"])
