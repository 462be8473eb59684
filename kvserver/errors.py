"""Every error reply text, spelled exactly as Redis 7.0 spells it.

Handlers raise CommandError(msg); dispatch turns it into an error reply and counts
it in errorstats. An error reply nested in an array (EXEC, scripts) is the same
object, so the encoder handles CommandError instances as values too.
"""


class CommandError(Exception):
    """An error reply. `msg` is the text without the leading '-'."""

    __slots__ = ("msg",)

    def __init__(self, msg: str) -> None:
        self.msg = msg

    @property
    def code(self) -> str:
        """The error code, the first word (ERR, WRONGTYPE, ...), as in errorstats."""
        return self.msg.split(" ", 1)[0]

    def __repr__(self) -> str:
        return f"CommandError({self.msg!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CommandError) and other.msg == self.msg

    def __hash__(self) -> int:
        return hash(self.msg)


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
NOT_POSITIVE = "ERR value is out of range, must be positive"
NO_SUCH_KEY = "ERR no such key"
OVERFLOW = "ERR increment or decrement would overflow"
INCR_NAN = "ERR increment would produce NaN or Infinity"
DB_INDEX = "ERR DB index is out of range"
INVALID_DB = "ERR invalid DB index"
SAME_OBJECT = "ERR source and destination objects are the same"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NESTED_MULTI = "ERR MULTI calls can not be nested"
EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
WATCH_IN_MULTI = "ERR WATCH inside MULTI is not allowed"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."
INVALID_CURSOR = "ERR invalid cursor"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"


def wrong_arity(name: str) -> CommandError:
    return CommandError(f"ERR wrong number of arguments for '{name}' command")


def _c_string(b: bytes) -> bytes:
    """What printf's %s shows of a Redis string: up to its first NUL byte."""
    nul = b.find(b"\0")
    return b if nul == -1 else b[:nul]


def _raw(msg: bytes) -> str:
    # Client bytes go back as they came: the reply encoder undoes surrogateescape.
    return msg.decode("utf-8", "surrogateescape")


def unknown_command(argv: list[bytes]) -> CommandError:
    # As processCommand: the name cut to 128 bytes, then arguments quoted until
    # the list reaches 128 bytes (the last one cut to fit).
    args = b""
    for a in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'%s' " % _c_string(a)[: 128 - len(args)]
    return CommandError(_raw(b"ERR unknown command '%s', with args beginning with: %s"
                             % (_c_string(argv[0])[:128], args)))


def unknown_subcommand(sub: bytes, container: str) -> CommandError:
    s = _raw(_c_string(sub)[:128])
    return CommandError(
        f"ERR unknown subcommand '{s}'. Try {container.upper()} HELP."
    )


def invalid_expire(cmd: str) -> CommandError:
    return CommandError(f"ERR invalid expire time in '{cmd}' command")


def subcommand_syntax(sub: bytes, container: str) -> CommandError:
    """addReplySubcommandSyntaxError: a known subcommand with arguments it can't take."""
    s = sub.decode("utf-8", "replace")[:128]
    return CommandError(
        f"ERR unknown subcommand or wrong number of arguments for '{s}'. "
        f"Try {container.upper()} HELP.")


# Strings and bitmaps (kvserver.commands.strings, kvserver.commands.bitops).
OFFSET_OUT_OF_RANGE = "ERR offset is out of range"
DECR_OVERFLOW = "ERR decrement would overflow"
LCS_NOT_STRING = "ERR The specified keys must contain string values"
LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_BIG = ("ERR Insufficient memory, transient memory for LCS exceeds "
               "proto-max-bulk-len")
BIT_OFFSET = "ERR bit offset is not an integer or out of range"
BIT_VALUE = "ERR bit is not an integer or out of range"
BIT_ARG = "ERR The bit argument must be 1 or 0."
BITOP_NOT_ONE_KEY = "ERR BITOP NOT must be called with a single source key."
BITFIELD_TYPE = ("ERR Invalid bitfield type. Use something like i16 u8. "
                 "Note that u64 is not supported but i64 is.")
BITFIELD_OVERFLOW_TYPE = "ERR Invalid OVERFLOW type specified"
BITFIELD_RO_WRITE = "ERR BITFIELD_RO only supports the GET subcommand"

# COMMAND GETKEYS / GETKEYSANDFLAGS (kvserver.commands.command_cmd).
GETKEYS_INVALID_COMMAND = "ERR Invalid command specified"
GETKEYS_NO_KEY_ARGS = "ERR The command has no key arguments"
GETKEYS_INVALID_NUM_ARGS = "ERR Invalid number of arguments specified for command"
GETKEYS_INVALID_ARGS = "ERR Invalid arguments specified for command"
