"""kvserver: a Redis 7.0-compatible in-memory key-value server in Python."""

__version__ = "0.1.0"
# What INFO reports as redis_version: clients gate features on it, and Redis 7.0
# is the behaviour we implement.
REDIS_COMPAT_VERSION = "7.0.15"
