"""The `args` summary syntax of command declarations, and what it tells COMMAND.

A declaration describes its arguments the way the redis.io summaries do:

    args="key value [NX|XX] [GET] [EX seconds:integer|PX milliseconds:integer|KEEPTTL]"

- lower-case words are arguments: `name` or `name:type`, type one of key,
  string, integer, double, pattern, unix-time; the default is string, except
  that `key` and names ending in `key` (`newkey`, `destkey`) are keys;
- UPPER-CASE words (and symbols such as `*`, `=`, `~`, or `""` for the empty
  string) are tokens, typed literally;
- `[...]` is optional, `(...)` groups, `a|b` are alternatives;
- `...` after an element repeats it (`key...`, `(field value)...`); the long
  form `key [key ...]` is understood too. A repeated group that starts with a
  token repeats the token (`[(GET pattern)...]` reads `[GET pattern [GET pattern ...]]`);
- inside a group, a token followed by one element is that element's token
  (`[COUNT count:integer]`), followed by several it is a block's token
  (`[AUTH username password]`).

`|` binds adjacent elements (`*|id field value`, `MAXLEN|MINID [=|~] threshold`),
except when the element before a `|` is a token followed by its arguments: then
each alternative runs from its token to the next `|` (`EX seconds|PX
milliseconds|KEEPTTL`, `FILTERBY MODULE name|ACLCAT category`). Parentheses
settle any other case.

`parse_args` turns the string into a tree of `Arg`, from which COMMAND DOCS
builds its argument maps (`Arg.to_doc`) and COMMAND INFO its key specs
(`key_specs_from_args`, as Redis's commands/*.json would declare them). A
malformed string raises DocsSyntaxError, naming the problem and its column.
"""

from __future__ import annotations

import re

from kvserver.protocol import string2ll
from kvserver.resp import SetReply, Status

ARG_TYPES = frozenset(("key", "string", "integer", "double", "pattern", "unix-time"))

_NAME_RE = re.compile(r"[a-z][a-z0-9_/-]*\Z")
_TOKEN_BAD = re.compile(r"[a-z:]")

# Reply constants (Redis spells flag names as simple strings inside sets).
_OPTIONAL = Status(b"optional")
_MULTIPLE = Status(b"multiple")
_MULTIPLE_TOKEN = Status(b"multiple_token")


class DocsSyntaxError(ValueError):
    """A malformed `args` string."""


class Arg:
    """One argument of a command, as COMMAND DOCS describes it."""

    __slots__ = ("name", "type", "token", "optional", "multiple", "multiple_token",
                 "children", "key_spec_index")

    def __init__(self, name: str, type_: str, token: str | None = None,
                 children: list[Arg] | None = None) -> None:
        self.name = name
        self.type = type_
        self.token = token
        self.optional = False
        self.multiple = False
        self.multiple_token = False
        self.children = children or []
        self.key_spec_index = -1

    @property
    def is_bare_token(self) -> bool:
        """A pure token with no flags: it can become the token of what follows."""
        return self.type == "pure-token" and not (self.optional or self.multiple)

    def width(self) -> int | None:
        """How many argv words this argument always takes, or None if it varies."""
        if self.optional or self.multiple:
            return None
        extra = 1 if self.token is not None and self.type != "pure-token" else 0
        if self.type == "block":
            total = 0
            for ch in self.children:
                w = ch.width()
                if w is None:
                    return None
                total += w
            return total + extra
        if self.type == "oneof":
            widths = {ch.width() for ch in self.children}
            if len(widths) != 1 or None in widths:
                return None
            return widths.pop() + extra
        return 1 + extra

    def render(self) -> str:
        """The summary text redis-cli builds from this argument (its hint)."""
        if self.type == "oneof":
            body = "|".join(ch.render() for ch in self.children)
        elif self.type == "block":
            body = " ".join(ch.render() for ch in self.children)
        elif self.type == "pure-token":
            body = ""
        else:
            body = self.name or '""'
        tok = "" if self.token is None else (self.token or '""')
        if tok and self.type != "pure-token":
            tok += " "
        s = tok + body
        if self.multiple:
            s += " [" + (tok if self.multiple_token else "") + body + " ...]"
        return f"[{s}]" if self.optional else s

    def to_doc(self) -> dict:
        """The map COMMAND DOCS gives for this argument (addReplyCommandArgList)."""
        d: dict = {b"name": self.name.encode(), b"type": self.type.encode()}
        if self.key_spec_index >= 0:
            d[b"key_spec_index"] = self.key_spec_index
        if self.token is not None:
            d[b"token"] = self.token.encode()
        flags = []
        if self.optional:
            flags.append(_OPTIONAL)
        if self.multiple:
            flags.append(_MULTIPLE)
        if self.multiple_token:
            flags.append(_MULTIPLE_TOKEN)
        if flags:
            d[b"flags"] = SetReply(flags)
        if self.type in ("oneof", "block"):
            d[b"arguments"] = [ch.to_doc() for ch in self.children]
        return d

    def walk(self):
        yield self
        for ch in self.children:
            yield from ch.walk()

    def __repr__(self) -> str:
        return f"<Arg {self.render()}>"


def render_args(args: list[Arg]) -> str:
    """The whole hint redis-cli shows for a command."""
    return " ".join(a.render() for a in args)


# -- tokenizer -------------------------------------------------------------------

_PUNCT = "[]()|"


def _tokenize(s: str) -> list[tuple[str, str, int]]:
    """(kind, text, column): kind is one of [ ] ( ) | ... word quoted."""
    out = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch.isspace():
            i += 1
        elif s.startswith("...", i):
            out.append(("...", "...", i))
            i += 3
        elif ch in _PUNCT:
            out.append((ch, ch, i))
            i += 1
        elif ch == '"':
            j = s.find('"', i + 1)
            if j < 0:
                raise DocsSyntaxError(f"unterminated quote at column {i}")
            out.append(("quoted", s[i + 1:j], i))
            i = j + 1
        else:
            j = i
            while j < n and not s[j].isspace() and s[j] not in _PUNCT and s[j] != '"' \
                    and not s.startswith("...", j):
                j += 1
            out.append(("word", s[i:j], i))
            i = j
    return out


# -- parser ----------------------------------------------------------------------

class _Item:
    """A parsed element before alternatives and tokens are resolved."""

    __slots__ = ("arg", "text", "col", "is_token", "repeat_tail")

    def __init__(self, arg: Arg, text: str, col: int, is_token: bool,
                 repeat_tail: list[_Item] | None = None) -> None:
        self.arg = arg
        self.text = text  # normalized source text, to recognize `x [x ...]`
        self.col = col
        self.is_token = is_token
        self.repeat_tail = repeat_tail  # for `[x ...]`: the items before the `...`


_BAR = object()


class _Parser:
    def __init__(self, s: str) -> None:
        self.toks = _tokenize(s)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> list[Arg]:
        items = self.items(None)
        return self.sequence(items, top=True)

    def items(self, close: str | None) -> list:
        """Items (and _BAR markers) up to the closing bracket `close`."""
        out: list = []
        while True:
            t = self.peek()
            if t is None:
                if close is not None:
                    raise DocsSyntaxError(f"missing '{close}'")
                if out and out[-1] is _BAR:
                    raise DocsSyntaxError("'|' without a right alternative at the end")
                return out
            kind, text, col = t
            self.i += 1
            if kind == close:
                if out and out[-1] is _BAR:
                    raise DocsSyntaxError(f"'|' without a right alternative at column {col}")
                return out
            if kind in "])":
                raise DocsSyntaxError(f"unexpected '{kind}' at column {col}")
            if kind == "|":
                if not out or out[-1] is _BAR:
                    raise DocsSyntaxError(f"'|' without a left alternative at column {col}")
                out.append(_BAR)
                continue
            if kind == "...":
                self.ellipsis(out, col)
                continue
            if kind == "word":
                item = self.word(text, col)
            elif kind == "quoted":
                item = _Item(Arg(text.lower() or "empty_string", "pure-token", text),
                             f'"{text}"', col, True)
            else:  # "[" or "("
                item = self.group(kind, col)
            out.append(item)

    def ellipsis(self, out: list, col: int) -> None:
        if not out or out[-1] is _BAR:
            raise DocsSyntaxError(f"'...' repeats nothing at column {col}")
        item = out[-1]
        _repeat(item.arg)
        item.text += "..."

    def word(self, text: str, col: int) -> _Item:
        if text[0].islower():
            name, _, type_ = text.partition(":")
            if not _NAME_RE.match(name):
                raise DocsSyntaxError(f"bad argument name {name!r} at column {col}")
            if type_:
                if type_ not in ARG_TYPES:
                    raise DocsSyntaxError(f"unknown type {type_!r} at column {col} "
                                          f"(one of {', '.join(sorted(ARG_TYPES))})")
            else:
                type_ = "key" if name.endswith("key") else "string"
            return _Item(Arg(name, type_), text, col, False)
        if _TOKEN_BAD.search(text):
            raise DocsSyntaxError(f"{text!r} at column {col}: a token is upper case, "
                                  "an argument lower case")
        return _Item(Arg(text.lower(), "pure-token", text), text, col, True)

    def group(self, kind: str, col: int) -> _Item:
        close = "]" if kind == "[" else ")"
        inner = self.items(close)
        if not inner:
            raise DocsSyntaxError(f"empty '{kind}{close}' at column {col}")
        text = " ".join("|" if x is _BAR else x.text for x in inner)
        # `[x ...]`, the long form of repetition: merged by `sequence` with the
        # `x` that precedes it.
        tail = None
        if kind == "[" and inner[-1].text.endswith("...") and _BAR not in inner:
            tail = inner
        args = self.sequence(inner, top=False)
        arg = _to_element(args)
        if kind == "[":
            arg.optional = True
        return _Item(arg, f"{kind}{text}{close}", col, False, tail)

    def sequence(self, items: list, top: bool) -> list[Arg]:
        """Resolve `x [x ...]`, alternatives and tokens in one group's items."""
        items = _merge_repeats(items)
        if _BAR in items:
            items = _alternatives(items)
        args = [it.arg for it in items]
        return _attach_tokens(args) if top else args


def _repeat(arg: Arg) -> None:
    arg.multiple = True
    if arg.token is not None and arg.type != "pure-token":
        arg.multiple_token = True


def _merge_repeats(items: list) -> list:
    """`key [key ...]` -> `key...`; `field value [field value ...]` -> `(field value)...`."""
    out: list = []
    for it in items:
        if it is _BAR or it.repeat_tail is None:
            out.append(it)
            continue
        tail = it.repeat_tail
        k = len(tail)
        want = [x.text for x in tail]
        want[-1] = want[-1][:-3]
        prev = out[-k:] if len(out) >= k else []
        if any(x is _BAR for x in prev) or [x.text for x in prev] != want:
            out.append(it)  # `[x...]` on its own: optional and repeated
            continue
        del out[-k:]
        if k == 1:
            merged = prev[0]
            if merged.is_token:
                raise DocsSyntaxError(f"a token cannot repeat alone at column {it.col}")
        else:
            arg = _to_element([x.arg for x in prev])
            merged = _Item(arg, "(" + " ".join(want) + ")", prev[0].col, False)
        _repeat(merged.arg)
        merged.text += "..."
        merged.is_token = False
        out.append(merged)
    return out


def _alternatives(items: list) -> list:
    """Bind `|` tightly (`a|b c`), or loosely after `TOKEN arg` (see module doc)."""
    if _loose(items):
        segs: list[list] = [[]]
        for it in items:
            if it is _BAR:
                segs.append([])
            else:
                segs[-1].append(it)
        first = segs[0]
        # The first alternative starts at the last token of its segment.
        start = max((j for j, x in enumerate(first) if x.is_token), default=len(first) - 1)
        prefix, segs[0] = first[:start], first[start:]
        alts = [_to_element([x.arg for x in seg]) for seg in segs]
        return prefix + [_Item(_oneof(alts), "", first[start].col, False)]
    out: list = []
    j = 0
    while j < len(items):
        it = items[j]
        if j + 1 < len(items) and items[j + 1] is _BAR:
            alts = [it.arg]
            while j + 1 < len(items) and items[j + 1] is _BAR:
                j += 2
                alts.append(items[j].arg)
            out.append(_Item(_oneof(alts), "", it.col, False))
        else:
            out.append(it)
        j += 1
    return out


def _loose(items: list) -> bool:
    for j, it in enumerate(items):
        if it is not _BAR or j + 1 >= len(items) or not items[j + 1].is_token:
            continue
        k = j - 1
        if items[k].is_token:
            continue
        while k >= 0 and items[k] is not _BAR and not items[k].is_token:
            k -= 1
        if k >= 0 and items[k] is not _BAR and items[k].is_token:
            return True
    return False


def _oneof(alts: list[Arg]) -> Arg:
    return Arg("_or_".join(a.name for a in alts), "oneof", None, alts)


def _takes_token(a: Arg) -> bool:
    return a.token is None and a.type != "pure-token" and not a.optional


def _give_token(a: Arg, token: str | None) -> Arg:
    a.token = token
    if a.type == "oneof":
        a.name = (token or "").lower() or a.name
    return a


def _attach_tokens(args: list[Arg]) -> list[Arg]:
    """A bare token directly before an argument without a token becomes its token."""
    out: list[Arg] = []
    j = 0
    while j < len(args):
        a = args[j]
        if a.is_bare_token and j + 1 < len(args) and _takes_token(args[j + 1]):
            out.append(_give_token(args[j + 1], a.token))
            j += 2
        else:
            out.append(a)
            j += 1
    return out


def _to_element(args: list[Arg]) -> Arg:
    """One group's arguments as a single argument (itself, or a block).

    `TOKEN x` is x with that token, `TOKEN x y` a block with that token.
    """
    if len(args) == 1:
        return args[0]
    token = None
    if args[0].is_bare_token:
        token = args[0].token
        args = args[1:]
        if len(args) == 1 and _takes_token(args[0]):
            return _give_token(args[0], token)
    args = _attach_tokens(args)
    if len(args) == 1 and token is None:
        return args[0]
    return Arg("_".join(a.name for a in args), "block", token, args)


def parse_args(s: str) -> list[Arg]:
    """Parse an `args` declaration; raises DocsSyntaxError when malformed."""
    try:
        return _Parser(s).parse()
    except DocsSyntaxError as e:
        raise DocsSyntaxError(f"args {s!r}: {e}") from None


# -- key specs ---------------------------------------------------------------------

class KeySpec:
    """One key spec of COMMAND INFO: where to start looking, how to find keys."""

    __slots__ = ("begin", "find", "flags", "notes")

    def __init__(self, begin: tuple, find: tuple, flags: list[str] | None = None,
                 notes: str = "") -> None:
        # begin: ("index", pos) | ("keyword", keyword, startfrom) | ("unknown",)
        # find: ("range", lastkey, keystep, limit) | ("keynum", idx, first, step) | ("unknown",)
        self.begin = begin
        self.find = find
        self.flags = flags or []
        self.notes = notes

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeySpec) and (self.begin, self.find) == (other.begin, other.find)

    def __repr__(self) -> str:
        return f"KeySpec({self.begin}, {self.find}, {self.flags})"

    def positions(self, argv: list[bytes]) -> list[int] | None:
        """Key indexes in argv by this spec (getKeysUsingKeySpecs); None if invalid.

        An absent keyword gives []; an out-of-range or unparsable spec gives None.
        """
        argc = len(argv)
        if self.begin[0] == "index":
            first = self.begin[1]
        elif self.begin[0] == "keyword":
            kw = self.begin[1].encode().lower()
            start = self.begin[2] if self.begin[2] > 0 else argc + self.begin[2]
            end = argc - 1 if self.begin[2] > 0 else 1
            first = 0
            i = start
            while i != end and 1 <= i < argc:  # (end itself is not searched)
                if argv[i].lower() == kw:
                    first = i + 1
                    break
                i += 1 if start <= end else -1
            if not first:
                return []
        else:
            return None
        if self.find[0] == "range":
            _, lastkey, step, limit = self.find
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
        elif self.find[0] == "keynum":
            _, idx, firstkey, step = self.find
            if first + idx >= argc:
                return None
            numkeys = string2ll(argv[first + idx])
            if numkeys is None or numkeys < 0:
                return None
            first += firstkey
            last = first + numkeys - 1
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None
        return list(range(first, last + 1, step))


def key_specs_from_args(args: list[Arg], start: int) -> list[KeySpec] | None:
    """The key specs the arguments imply (argv[start] is the first argument).

    Sets each key argument's `key_spec_index`. Returns None when a key
    argument's place cannot be told from the arguments (the caller then falls
    back to the declared first/last/step).
    """
    specs: list[KeySpec] = []
    pos: int | None = start
    last_fixed = start
    for n, a in enumerate(args):
        keys = [x for x in a.walk() if x.type == "key"]
        if keys:
            spec = _spec_for(a, args, n, pos, last_fixed)
            if spec is None:
                return None
            for k in keys:
                k.key_spec_index = len(specs)
            specs.append(spec)
        w = a.width()
        if pos is not None and w is not None:
            pos += w
            last_fixed = pos
        else:
            pos = None
    return specs


def _tail_width(args: list[Arg]) -> int | None:
    total = 0
    for a in args:
        w = a.width()
        if w is None:
            return None
        total += w
    return total


def _spec_for(a: Arg, args: list[Arg], n: int, pos: int | None,
              last_fixed: int) -> KeySpec | None:
    keys = [x for x in a.walk() if x.type == "key"]
    if a.type == "key" and a.token is None and pos is not None:
        if not a.multiple:
            if a.optional:
                return None
            return KeySpec(("index", pos), ("range", 0, 1, 0))
        prev = args[n - 1] if n else None
        if prev is not None and prev.type == "integer" and prev.width() == 1 \
                and prev.token is None:
            return KeySpec(("index", pos - 1), ("keynum", 0, 1, 1))
        tail = _tail_width(args[n + 1:])
        if tail is None:
            return None
        return KeySpec(("index", pos), ("range", -1 - tail, 1, 0))
    if a.type == "oneof" and pos is not None and not a.optional and not a.multiple \
            and a.token is None and all(k in a.children for k in keys) and len(keys) == 1:
        return KeySpec(("index", pos), ("range", 0, 1, 0))
    if a.type == "block" and a.multiple and a.token is None and pos is not None \
            and len(keys) == 1 and keys[0] in a.children:
        w = _tail_width(a.children)
        tail = _tail_width(args[n + 1:])
        if w is None or tail is None or tail:
            return None
        off = _tail_width(a.children[:a.children.index(keys[0])])
        return KeySpec(("index", pos + off), ("range", -1, w, 0))
    if a.token is not None and len(keys) == 1:
        k = keys[0]
        if k is a:
            find = ("range", 0, 1, 0)
            if k.multiple:
                # `STREAMS key... id...`: the keys are the first of `limit` equal parts.
                parts = 1
                for b in args[n + 1:]:
                    if not b.multiple or b.token is not None:
                        break
                    parts += 1
                find = ("range", -1, 1, parts if parts > 1 else 0)
            return KeySpec(("keyword", a.token, last_fixed), find)
        if a.type == "block" and k in a.children:
            idx = a.children.index(k)
            multi = [ch for ch in a.children if ch.multiple]
            if idx == 0 and k.multiple and all(ch.multiple for ch in a.children):
                return KeySpec(("keyword", a.token, last_fixed), ("range", -1, 1, len(multi)))
            if not k.multiple and _tail_width(a.children[:idx]) is not None:
                off = _tail_width(a.children[:idx])
                return KeySpec(("keyword", a.token, last_fixed), ("range", off, 1, 0))
    return None


def legacy_range(specs: list[KeySpec]) -> tuple[int, int, int]:
    """first/last/step as Redis derives them from key specs
    (populateCommandLegacyRangeSpec)."""
    ranges = [s for s in specs if s.begin[0] == "index" and s.find[0] == "range"]
    if len(specs) == 1 and len(ranges) == 1:
        s = specs[0]
        last = s.find[1] + s.begin[1] if s.find[1] >= 0 else s.find[1]
        return s.begin[1], last, s.find[2]
    first, last, prev_last = None, 0, 0
    for s in ranges:
        if s.find[2] != 1 or (prev_last and prev_last != s.begin[1] - 1):
            continue
        first = s.begin[1] if first is None else min(first, s.begin[1])
        abs_last = s.find[1] + s.begin[1] if s.find[1] >= 0 else s.find[1]
        # Redis compares as unsigned: a negative (relative to the end) wins.
        last = max(last % 2**32, abs_last % 2**32)
        last = last - 2**32 if last >= 2**31 else last
        prev_last = last
    if first is None:
        return 0, 0, 0
    return first, last, 1
