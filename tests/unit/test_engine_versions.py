"""The engine versions served here, as a client names them (model/engine_versions.py)."""

from emulator.model import engine_versions


def test_a_major_a_full_version_or_none_pick_their_row():
    assert engine_versions.of("mysql", None).major == "9.7"
    assert engine_versions.of("mysql", "9.7").family == "mysql9.7"
    assert engine_versions.of("mysql", "9.7.4").major == "9.7"
    assert engine_versions.of("mariadb", "11.8.3").family == "mariadb11.8"
    assert engine_versions.of("mariadb", None).major == engine_versions.DEFAULTS["mariadb"]


def test_a_major_picks_its_current_minor_and_an_older_minor_its_own_row():
    """bookworm's point release (10.11.18) beside its security release, 10.11's current minor."""
    previous, current = engine_versions.of("mariadb", "10.11.18"), engine_versions.of("mariadb", "10.11")
    assert previous.previous_minor and not current.previous_minor
    assert previous.security is None and current.security == "bookworm-security"
    assert engine_versions.of("mariadb", None) == engine_versions.of("mariadb", "10.11.7") == current
    assert engine_versions.of_family("mariadb10.11") == current
    assert previous.family == current.family and previous.key != current.key
    assert (previous.name, current.name) == ("mariadb 10.11.18", "mariadb 10.11")
    assert previous not in engine_versions.current() and current in engine_versions.current()
    assert len({row.key for row in engine_versions.VERSIONS}) == len(engine_versions.VERSIONS)


def test_what_is_not_served_is_none_and_named_in_the_list():
    assert engine_versions.of("mysql", "8.0") is None
    assert engine_versions.of("mysql", "9.70") is None
    assert engine_versions.of("mariadb", "11") is None
    assert engine_versions.of("postgres", None) is None
    assert engine_versions.served("mariadb") == ["10.11", "11.8"]


def test_every_row_names_a_suite_packages_and_its_daemon():
    for row in engine_versions.VERSIONS:
        assert row.suite in ("bookworm", "trixie", "sid") and row.packages
        assert row.daemon.startswith("usr/sbin/") and row.flavor in ("MySQL", "MariaDB")
    assert {row.engine for row in engine_versions.VERSIONS} == set(engine_versions.DEFAULTS)


def test_the_cli_refuses_a_version_it_does_not_serve_and_names_those_it_does(capsys):
    import pytest

    from emulator import cli

    assert cli.main(["image", "build", "--engine", "mysql", "--engine-version", "8.0"]) == 1
    assert "mysql 8.0 is not served here; versions: 9.7" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        cli.main(["image", "build", "--engine-version", "11.8"])
    assert stopped.value.code == 2 and "--engine-version needs --engine" in capsys.readouterr().err


def test_instances_and_groups_of_releases_before_engine_images_stay_on_mariadb():
    """Engine=mysql ran the host's MariaDB then: such an instance's data is MariaDB's, and so is its group."""
    legacy = engine_versions.serving("mysql", "10.11.19")
    assert legacy is not None and legacy.family == "mariadb10.11"
    assert engine_versions.serving("mysql", "9.7.4").family == "mysql9.7"
    assert engine_versions.of_family("mysql8.0").family == "mariadb10.11"
    assert engine_versions.of_family("mysql9.7").flavor == "MySQL"
    assert engine_versions.of_family("postgres16") is None
