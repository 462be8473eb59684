"""Command handlers, one module per family. Importing a module registers its
commands in kvserver.table.TABLE; `load_all()` imports every family."""

import importlib

FAMILIES = (
    "connection",
    "keys",
    "dump",
    "expire",
    "strings",
    "bitops",
    "multi",
    "server_cmds",
    "client",
    "config_cmd",
    "command_cmd",
    "debug",
    "lists",
    "hashes",
    "sets",
    "zsets",
    "sort",
    "scripting",
    "functions",
    "geo",
    "hyperloglog",
    "pubsub",
    "tracking",
)


def load_all() -> None:
    for name in FAMILIES:
        importlib.import_module(f"kvserver.commands.{name}")
