"""Runs any legacy rds-* command of compat/commands.py by the name it was started as: the old flags and
environment in, the Query API signed with SigV4 out (compat/query_client.py), the old records printed
(compat/records.py). Errors go to stderr, with a non-zero exit."""

import argparse
import os
import pathlib
import sys
from typing import Any, TextIO
from xml.parsers.expat import ExpatError

import xmltodict

from compat.commands import COMMANDS, Command, Flag
from compat.query_client import QueryClient, QueryError
from compat.records import lines, listed

DEFAULT_URL = "http://127.0.0.1:8765"
# The engine names of the old tools (MySQL5.1, mysql5.5) name engines that are served in one version here.
OLD_ENGINES = {"mysql": "mysql", "mariadb": "mariadb"}


class Refused(Exception):
    """The command cannot be sent as given; the message says why."""


def main() -> int:
    name = pathlib.Path(sys.argv[0]).name
    command = COMMANDS.get(name)
    if command is None:
        print(f"{name}: run one of the legacy tools by its name: {', '.join(sorted(COMMANDS))}", file=sys.stderr)
        return 2
    return run(command, sys.argv[1:], sys.stdin, sys.stdout, sys.stderr)


def run(command: Command, argv: list[str], stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    args = _parser(command).parse_args(argv)
    try:
        client = QueryClient(_url(args), _keys(args), _region(args), timeout=args.connection_timeout)
        params = _params(command, args, client, stderr)
    except (Refused, QueryError) as error:
        print(f"{command.name}: {error}", file=stderr)
        return 1
    except OSError as error:
        print(f"{command.name}: could not reach {_url(args)}: {error}", file=stderr)
        return 1
    if command.confirm and not args.force:
        print(command.confirm, end=" ", file=stdout, flush=True)
        if stdin.readline().strip().lower() not in ("y", "yes"):
            return 1
    try:
        status, body = client.raw(command.action, params)
    except OSError as error:
        print(f"{command.name}: could not reach {_url(args)}: {error}", file=stderr)
        return 1
    if args.show_xml:
        print(body.decode(errors="replace"), file=stdout if status == 200 else stderr)
        return 0 if status == 200 else 1
    try:
        document = xmltodict.parse(body)
        if "ErrorResponse" in document:
            error = document["ErrorResponse"]["Error"]
            print(f"{command.name}: {error.get('Code')}: {error.get('Message')}", file=stderr)
            return 1
        result = document[f"{command.action}Response"].get(f"{command.action}Result") or {}
    except (ExpatError, KeyError, TypeError, AttributeError):
        print(f"{command.name}: {_url(args)} did not answer as RDS does (HTTP {status})", file=stderr)
        return 1
    _print(command, result, args, stdout)
    return 0


def _print(command: Command, result: dict[str, Any], args: argparse.Namespace, stdout: TextIO) -> None:
    if command.record is None:
        return
    if command.record == "LOGDATA":
        print(result.get("LogFileData") or "", end="", file=stdout)
        return
    found: Any = result
    for part in filter(None, command.found_at.split(".")):
        found = (found or {}).get(part)
    for line in lines(command.record, listed(found), args.show_long, args.headers, args.delimiter):
        print(line, file=stdout)


def _parser(command: Command) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=command.name, description=f"{command.action}, as the old RDS tools "
                                                                     "sent it.")
    if command.positional:
        optional = command.action.startswith("Describe")
        parser.add_argument("identifier", nargs="?" if optional else None, metavar=command.positional)
    for flag in command.flags:
        names = [flag.long, *([flag.short] if flag.short else [])]
        if flag.kind == "switch":
            parser.add_argument(*names, dest=_dest(flag), action="store_true")
        else:
            parser.add_argument(*names, dest=_dest(flag), action="append")
    view = parser.add_argument_group("output")
    view.add_argument("--headers", action="store_true", help="print the column names")
    view.add_argument("--show-long", action="store_true", help="every column, delimited")
    view.add_argument("--show-table", action="store_true", help="aligned columns (the default)")
    view.add_argument("--show-xml", action="store_true", help="the response as it came")
    view.add_argument("--delimiter", default=",", help="between the --show-long columns (default ,)")
    common = parser.add_argument_group("where and who")
    common.add_argument("-U", "--url", help=f"the RDS endpoint (default $RDS_URL, else {DEFAULT_URL})")
    common.add_argument("--region", help="the signing region (default $EC2_REGION, else $AWS_DEFAULT_REGION)")
    common.add_argument("-I", "--access-key-id")
    common.add_argument("-S", "--secret-key")
    common.add_argument("--aws-credential-file", help="AWSAccessKeyId=/AWSSecretKey= lines "
                                                      "(default $AWS_CREDENTIAL_FILE)")
    common.add_argument("--connection-timeout", type=float, default=60)
    common.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")
    return parser


def _dest(flag: Flag) -> str:
    return flag.long.removeprefix("--").replace("-", "_")


def _params(command: Command, args: argparse.Namespace, client: QueryClient, stderr: TextIO) -> dict[str, str]:
    params: dict[str, str] = {}
    if command.positional and args.identifier:
        params[command.positional] = args.identifier
    for flag in command.flags:
        given = getattr(args, _dest(flag))
        if not given:
            continue
        if flag.kind == "switch":
            params[flag.param] = "true"
        elif flag.kind == "list":
            values = [value.strip() for item in given for value in item.split(",") if value.strip()]
            params |= {f"{flag.param}.{n}": value for n, value in enumerate(values, 1)}
        elif flag.kind == "parameters":
            for n, item in enumerate(given, 1):
                params |= {f"{flag.param}.{n}.{key}": value for key, value in _parameter(item).items()}
        elif flag.kind in ("engine", "family"):
            params[flag.param] = _served(command, flag.kind, given[-1], client, stderr)
        else:
            params[flag.param] = given[-1]
    return params


def _parameter(text: str) -> dict[str, str]:
    """`name=slow_query_log, value=ON, method=immediate` as the members of one Parameters item."""
    fields = {}
    for part in text.split(","):
        key, equals, value = part.strip().partition("=")
        if not equals:
            raise Refused(f"a parameter reads \"name=N, value=V, method=immediate|pending-reboot\", not {text!r}")
        fields[key.strip().lower()] = value.strip()
    names = {"name": "ParameterName", "value": "ParameterValue", "method": "ApplyMethod"}
    unknown = set(fields) - set(names)
    if unknown or "name" not in fields:
        raise Refused(f"a parameter reads \"name=N, value=V, method=immediate|pending-reboot\", not {text!r}")
    return {names[key]: value for key, value in fields.items()}


def _served(command: Command, kind: str, value: str, client: QueryClient, stderr: TextIO) -> str:
    """An engine (or a parameter group family) as the endpoint serves it; an old name such as MySQL5.1 is
    mapped to the engine's one version there, and a note on stderr says so."""
    lowered = value.lower()
    engine = next((name for prefix, name in OLD_ENGINES.items() if lowered.startswith(prefix)), None)
    if engine is None:
        return value  # not one we know: the endpoint says what it thinks of it
    found = client.call("DescribeDBEngineVersions", {"Engine": engine, "DefaultOnly": "true"})
    versions = listed((found.get("DBEngineVersions") or {}).get("DBEngineVersion"))
    if not versions:
        return engine if kind == "engine" else value
    served = versions[0]
    wanted = engine if kind == "engine" else served["DBParameterGroupFamily"]
    if lowered not in (engine, served["DBParameterGroupFamily"]):
        print(f"{command.name}: note: {value} is served as {served['Engine']} {served['EngineVersion']} "
              f"(parameter group family {served['DBParameterGroupFamily']}): sending {wanted}", file=stderr)
    return wanted


def _url(args: argparse.Namespace) -> str:
    return (args.url or os.environ.get("RDS_URL") or os.environ.get("AWS_ENDPOINT_URL_RDS")
            or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_URL)


def _region(args: argparse.Namespace) -> str:
    return (args.region or os.environ.get("EC2_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            or os.environ.get("AWS_REGION") or "us-east-1")


def _keys(args: argparse.Namespace) -> tuple[str, str]:
    """-I/-S; else the old credential file (AWSAccessKeyId=, AWSSecretKey=); else AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY."""
    if args.access_key_id and args.secret_key:
        return args.access_key_id, args.secret_key
    path = args.aws_credential_file or os.environ.get("AWS_CREDENTIAL_FILE")
    if path:
        try:
            pairs = dict(line.strip().split("=", 1) for line in pathlib.Path(path).read_text().splitlines()
                         if "=" in line)
        except OSError as error:
            raise Refused(f"cannot read the credential file {path}: {error.strerror}") from None
        if "AWSAccessKeyId" in pairs and "AWSSecretKey" in pairs:
            return pairs["AWSAccessKeyId"].strip(), pairs["AWSSecretKey"].strip()
        raise Refused(f"the credential file {path} needs AWSAccessKeyId= and AWSSecretKey= lines")
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    raise Refused("no credentials: give -I and -S, AWS_CREDENTIAL_FILE, or AWS_ACCESS_KEY_ID and "
                  "AWS_SECRET_ACCESS_KEY")
