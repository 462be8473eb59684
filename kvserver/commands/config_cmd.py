"""CONFIG: GET, SET, RESETSTAT, REWRITE, HELP.

The parameters, their syntax and their errors live in kvserver.config; this
module turns them into Redis's replies.
"""

from __future__ import annotations

from kvserver.commands.server_cmds import help_reply
from kvserver.config import ConfigError
from kvserver.errors import SYNTAX, CommandError
from kvserver.resp import OK
from kvserver.table import all_commands, container, subcommand

CONFIG = container("config", group="server", since="2.0.0",
                   summary="A container for server configuration commands")


def _arg(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _protected_allowed(c) -> bool:
    """enable-protected-configs: yes, or local and the client is local."""
    mode = c.server.config.enable_protected_configs
    if mode == "yes" or c.is_internal:
        return True
    return mode == "local" and c.is_local()


@subcommand(CONFIG, "get", arity=-3, flags="admin noscript loading stale", since="2.0.0",
            summary="Get the values of configuration parameters",
            complexity="O(N) when N is the number of configuration parameters provided",
            args="parameter ...",
            history=(("7.0.0", "Added the ability to pass multiple pattern parameters in one "
                               "call"),))
def config_get(c, argv):
    return c.server.config.config_get([_arg(a) for a in argv[2:]])


@subcommand(CONFIG, "set", arity=-4, flags="admin noscript loading stale", since="2.0.0",
            summary="Set configuration parameters to the given values",
            complexity="O(N) when N is the number of configuration parameters provided",
            args="(parameter value) ...",
            tips="request_policy:all_nodes response_policy:all_succeeded",
            history=(("7.0.0", "Added the ability to set multiple parameters in one call."),))
def config_set(c, argv):
    if len(argv) % 2:
        raise CommandError(SYNTAX)
    pairs = [(_arg(argv[i]), _arg(argv[i + 1])) for i in range(2, len(argv), 2)]
    try:
        c.server.config.config_set(pairs, allow_protected=_protected_allowed(c))
    except KeyError as e:
        raise CommandError("ERR Unknown option or number of arguments for CONFIG SET - "
                           f"'{e.args[0]}'") from None
    except ConfigError as e:
        name, msg = e.args if len(e.args) == 2 else ("", str(e))
        raise CommandError(f"ERR CONFIG SET failed (possibly related to argument '{name}')"
                           f" - {msg}") from None
    return OK


@subcommand(CONFIG, "resetstat", arity=2, flags="admin noscript loading stale", since="2.0.0",
            summary="Reset the stats returned by INFO", complexity="O(1)")
def config_resetstat(c, argv):
    try:
        from kvserver.info import reset_stats
    except ImportError:  # INFO's statistics not built: reset what exists
        c.server.stats.reset()
        for spec in all_commands():
            spec.reset_stats()
    else:
        reset_stats(c.server)
    return OK


@subcommand(CONFIG, "rewrite", arity=2, flags="admin noscript loading stale", since="2.8.0",
            summary="Rewrite the configuration file with the in memory configuration",
            complexity="O(1)")
def config_rewrite(c, argv):
    cfg = c.server.config
    if not cfg.file:
        raise CommandError("ERR The server is running without a config file")
    try:
        cfg.rewrite()
    except ConfigError as e:
        c.server.log_warning(f"CONFIG REWRITE failed: {e}")
        raise CommandError(f"ERR {e}") from None
    c.server.log_warning("CONFIG REWRITE executed with success.")
    return OK


_HELP = [
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
]


@subcommand(CONFIG, "help", arity=2, flags="loading stale", since="5.0.0",
            summary="Show helpful text about the different subcommands", complexity="O(1)")
def config_help(c, argv):
    return help_reply("CONFIG", _HELP)
