"""The server plugins an option group's options load (model/options.py), installed and configured on a running
server, and taken away again. INSTALL SONAME keeps a plugin across restarts (mysql.plugin); its settings are
kept in the server's option file too (`loose-`, so that a server without the plugin starts all the same)."""

from typing import Any

from emulator.engines import live
from emulator.model.options import PLUGIN


def plugins(variables: dict[str, str]) -> set[str]:
    return {value for name, value in variables.items() if name.startswith(PLUGIN)}


def installed(cursor: Any) -> set[str]:
    """The plugins of a server's own libraries that are loaded (the ones options name: server_audit)."""
    cursor.execute("SELECT PLUGIN_LIBRARY FROM information_schema.PLUGINS WHERE PLUGIN_STATUS = 'ACTIVE' "
                   "AND PLUGIN_LIBRARY IS NOT NULL")
    return {row[0].removesuffix(".so") for row in cursor.fetchall()}


def apply(cursor: Any, wanted: dict[str, str]) -> None:
    """The server as `wanted` says: its plugins installed, each setting set, other option plugins removed."""
    present = installed(cursor)
    for plugin in sorted(plugins(wanted) - present):
        cursor.execute(f"INSTALL SONAME '{plugin}'")
    for name, value in sorted(wanted.items()):
        if not name.startswith(PLUGIN):  # the settings' values were checked: digits are numbers
            live.set_global(cursor, name, value, "integer" if value.isdigit() else "string")
    for plugin in sorted(present & OPTION_PLUGINS - plugins(wanted)):
        if plugin == "server_audit":  # it refuses to go while it logs
            cursor.execute("SET GLOBAL server_audit_logging = OFF")
        cursor.execute(f"UNINSTALL SONAME '{plugin}'")


# the plugins options load: any other a server has is its own business
OPTION_PLUGINS = {"server_audit"}
