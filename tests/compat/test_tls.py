"""TLS under RDS's certificate names, on real servers of both engines (the process driver): a client with
`ssl_ca` set to `rds-emulator ca-bundle`'s bundle and hostname checks on connects to the endpoint
DescribeDBInstances reports; the authority is changed with and without a restart, as RDS's
CertificateRotationRestart says; `require_secure_transport` refuses plaintext; DescribeCertificates lists the
authorities whose certificates the bundle holds."""

import hashlib
import ssl
import subprocess
import sys

import pymysql
import pytest
from botocore.exceptions import ClientError

from tests.emulator_process import wait_for
from tests.integration.instances import wait_status

pytestmark = pytest.mark.mariadb
PASSWORD = "tls-Pass-0001"


def bundle_of(emulator, tmp_path):
    printed = subprocess.run([sys.executable, "-m", "emulator.cli", "ca-bundle", "--data-dir", str(emulator.data_dir)],
                             capture_output=True, text=True, check=True, timeout=120).stdout
    path = tmp_path / "rds-bundle.pem"
    path.write_text(printed)
    return printed, path


def tls_connect(endpoint, bundle):
    return pymysql.connect(host=endpoint["Address"], port=endpoint["Port"], user="admin", password=PASSWORD,
                           ssl={"ca": str(bundle), "check_hostname": True}, connect_timeout=5)


def issuer_of(conn) -> str:
    issuer = dict(item[0] for item in conn._sock.getpeercert()["issuer"])
    return issuer["commonName"]


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_a_client_checks_the_server_against_the_bundle(emulator_factory, rds_client, tmp_path, engine):
    emulator = emulator_factory("process")
    rds = rds_client(emulator)
    family = rds.describe_db_engine_versions(Engine=engine, DefaultOnly=True)["DBEngineVersions"][0][
        "DBParameterGroupFamily"]
    rds.create_db_parameter_group(DBParameterGroupName="tls-only", DBParameterGroupFamily=family, Description="d")
    rds.modify_db_parameter_group(DBParameterGroupName="tls-only", Parameters=[
        {"ParameterName": "require_secure_transport", "ParameterValue": "1", "ApplyMethod": "immediate"}])
    rds.create_db_instance(DBInstanceIdentifier="secure", Engine=engine, DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername="admin", MasterUserPassword=PASSWORD,
                           DBParameterGroupName="tls-only", BackupRetentionPeriod=0)
    instance = wait_status(rds, "secure", "available", timeout=120)
    assert instance["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    endpoint = instance["Endpoint"]
    printed, bundle = bundle_of(emulator, tmp_path)
    with tls_connect(endpoint, bundle) as conn, conn.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cursor.fetchone()[1]
        assert "RSA2048" in issuer_of(conn)
    with pytest.raises(pymysql.err.OperationalError):  # require_secure_transport: no plaintext
        pymysql.connect(host=endpoint["Address"], port=endpoint["Port"], user="admin", password=PASSWORD,
                        ssl_disabled=True, connect_timeout=5).close()
    with pytest.raises(pymysql.err.OperationalError):  # a bundle without the authority: not trusted
        pymysql.connect(host=endpoint["Address"], port=endpoint["Port"], user="admin", password=PASSWORD,
                        ssl={"ca": "/etc/ssl/certs/ca-certificates.crt", "check_hostname": True},
                        connect_timeout=5).close()

    listed = rds.describe_certificates()
    assert listed["DefaultCertificateForNewLaunches"] == "rds-ca-rsa2048-g1"
    names = [found["CertificateIdentifier"] for found in listed["Certificates"]]
    assert names == ["rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"]
    pems = ["-----BEGIN CERTIFICATE-----" + part for part in printed.split("-----BEGIN CERTIFICATE-----")[1:]]
    assert [found["Thumbprint"] for found in listed["Certificates"]] == [
        hashlib.sha1(ssl.PEM_cert_to_DER_cert(pem)).hexdigest() for pem in pems]
    with pytest.raises(ClientError) as caught:
        rds.describe_certificates(CertificateIdentifier="rds-ca-2019")
    assert caught.value.response["Error"]["Code"] == "CertificateNotFound"

    # another authority without a restart: a connection opened before stays up, a new one sees the new one
    before = tls_connect(endpoint, bundle)
    rds.modify_db_instance(DBInstanceIdentifier="secure", CACertificateIdentifier="rds-ca-ecc384-g1",
                           CertificateRotationRestart=False, ApplyImmediately=True)
    wait_for(lambda: (found := rds.describe_db_instances(DBInstanceIdentifier="secure")["DBInstances"][0])[
        "DBInstanceStatus"] == "available" and found["CACertificateIdentifier"] == "rds-ca-ecc384-g1", 60,
        "the new authority")
    with tls_connect(endpoint, bundle) as conn:
        assert "ECC384" in issuer_of(conn)
    with before.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    before.close()
    # and with one (the default)
    rds.modify_db_instance(DBInstanceIdentifier="secure", CACertificateIdentifier="rds-ca-rsa4096-g1",
                           ApplyImmediately=True)
    wait_for(lambda: (found := rds.describe_db_instances(DBInstanceIdentifier="secure")["DBInstances"][0])[
        "DBInstanceStatus"] == "available" and found["CACertificateIdentifier"] == "rds-ca-rsa4096-g1", 120,
        "the restart with the new authority")
    with tls_connect(endpoint, bundle) as conn:
        assert "RSA4096" in issuer_of(conn)
    with pytest.raises(ClientError) as caught:
        rds.modify_db_instance(DBInstanceIdentifier="secure", CACertificateIdentifier="rds-ca-nope",
                               ApplyImmediately=True)
    assert caught.value.response["Error"]["Code"] == "CertificateNotFound"
