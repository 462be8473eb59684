"""The `kvserver` command line: like redis-server.

    kvserver [CONFIG_FILE] [--name value ...]

A redis.conf-syntax file, then command-line overrides in the same syntax
(`--port 7000 --save ""`, `--maxmemory 1gb`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

import click

from kvserver import REDIS_COMPAT_VERSION, __version__
from kvserver.config import Config, ConfigError


def build_config(config_file: str | None, overrides: list[str]) -> Config:
    cfg = Config()
    if config_file:
        cfg.load_file(config_file)
    # Overrides: "--name v1 v2 --other v" -> directive lines, as redis-server does.
    lines: list[list[str]] = []
    for tok in overrides:
        if tok.startswith("--"):
            lines.append([tok[2:]])
        elif not lines:
            raise ConfigError(f"Unexpected argument '{tok}' (options start with --)")
        else:
            lines[-1].append(tok)
    for words in lines:
        cfg.apply_directive(words[0].lower(), words[1:], "command line")
    return cfg


def run_server(cfg: Config) -> int:
    """Run a server in this process until SHUTDOWN or SIGTERM/SIGINT."""
    from kvserver.commands import load_all
    from kvserver.server import Server, startup_banner

    load_all()
    logging.basicConfig(
        filename=cfg.logfile or None, level=logging.INFO,
        format=f"{os.getpid()}:M %(asctime)s.%(msecs)03d %(levelname).1s %(message)s",
        datefmt="%d %b %Y %H:%M:%S")
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; stay usable without it
        uvloop = None
    if cfg.dir and cfg.dir != ".":
        os.chdir(cfg.dir)
        cfg.dir = os.getcwd()  # a relative dir meant the launch directory

    async def main() -> int:
        server = Server(cfg)
        try:
            await server.start()
        except OSError as e:
            logging.getLogger("kvserver").error(f"Could not start: {e}")
            return 1
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.request_shutdown)
        if cfg.pidfile:
            with open(cfg.pidfile, "w") as f:
                f.write(f"{os.getpid()}\n")
        logging.getLogger("kvserver").info(startup_banner(server))
        await server.serve_forever()
        logging.getLogger("kvserver").info("Received shutdown request, closing. Bye bye...")
        await server.close()
        if cfg.pidfile:
            try:
                os.unlink(cfg.pidfile)
            except OSError:
                pass
        return 0

    if uvloop is not None:
        return uvloop.run(main())
    return asyncio.run(main())


@click.command(context_settings={"ignore_unknown_options": True,
                                 "allow_interspersed_args": False,
                                 "help_option_names": ["-h", "--help"]})
@click.argument("config_file", required=False, type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@click.version_option(__version__, "-v", "--version",
                      message=f"kvserver %(version)s (Redis {REDIS_COMPAT_VERSION} compatible)")
def main(config_file: str | None, overrides: tuple[str, ...]) -> None:
    """A Redis 7.0-compatible in-memory key-value server.

    \b
    kvserver                          start with the defaults (port 6379)
    kvserver conf/kvserver.conf       start with a redis.conf-syntax file
    kvserver --port 7000 --save ""    override any directive on the command line
    """
    if config_file and config_file.startswith("--"):
        overrides = (config_file,) + overrides
        config_file = None
    try:
        cfg = build_config(config_file, list(overrides))
    except (ConfigError, OSError) as e:
        click.echo(f"*** FATAL CONFIG FILE ERROR *** {e}", err=True)
        sys.exit(1)
    sys.exit(run_server(cfg))
