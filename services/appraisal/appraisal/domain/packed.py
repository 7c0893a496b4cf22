"""Facts packed into bytes: how the projector keeps every advisor's history (issue #8, B4).

A fact held as objects costs ~366 bytes (its UUIDs and their 128-bit ints, its
datetimes, its strings, the object itself, a dict slot): at 1M events ~380 MB of the
projector's memory. Packed it takes 38–165 bytes (a duty 64; a rating ~165, its
64-character citizen reference inline; ~90 on average): UUIDs as 16 bytes, instants
and dates as their fields, repeating text as an index into one table of strings,
text unique by design inline as UTF-8. The projector reads an advisor's
facts when it appraises the advisor, decoding them then (`FactCodec.unpack`,
~2.5 µs a fact, in the order `FactLedger.facts()` would sort them into, so no sort)
and dropping the objects after.

Hand-written: msgpack or msgspec would store each field's name or turn every
instant into UTC, losing the offset it was written with.

Decoding gives facts equal to the packed ones, field for field: the same UUIDs,
the same instants with the same UTC offsets (the same zone objects, shared), the
same text. A fact the codec cannot pack exactly (a field of a type it does not
know, an integer beyond 64 bits) is kept as it is.
"""

from __future__ import annotations

import dataclasses
import struct
import sys
import threading
import typing
import uuid
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from types import NoneType, UnionType
from typing import Any, TypeVar

__all__ = ["FactCodec", "PackedFacts", "uuid_of_int"]

Buffer = bytes | bytearray | memoryview
_Unpacker = Callable[[Buffer, int], Any]
_R = TypeVar("_R")
_UUID = uuid.UUID
_SAFE_UNKNOWN = uuid.SafeUUID.unknown
_new = object.__new__
_set = object.__setattr__


def uuid_of_int(value: int) -> uuid.UUID:
    """`UUID(int=value)` for a value known to be one (read from a UUID's own 16 bytes
    or 32 hex digits): its two slots set as `UUID.__init__` sets them, without its
    checks of arguments in Python (~0.3 µs instead of ~0.9; issue #8)."""
    made = _new(_UUID)
    _set(made, "int", value)
    _set(made, "is_safe", _SAFE_UNKNOWN)
    return made


@dataclass(frozen=True, slots=True)
class _Field:
    """How one field is packed: its struct format, the type its value must be, the
    expression giving its struct values from the value `x` (how many), the expression
    making the value from them (`str.format`ted with their names), whether a
    "present" flag leads them (`X | None`), and whether its text follows the fixed
    part (`FactCodec`'s `unique`)."""

    format: str
    kind: type
    values: str
    width: int
    make: str
    optional: bool
    inline: bool


class _Unpackable(Exception):
    """A value the codec cannot pack exactly: the fact is kept as it is."""


class FactCodec:
    """Packs facts of the given frozen dataclasses into bytes, and back.

    Each field's packing follows its annotation: `UUID`, `datetime`, `date`, `str`,
    `int` and `bool`, each optionally `| None`. Strings of fields named in `unique`
    are stored inline; others go into a table shared by every fact this codec packs
    (like `sys.intern`, it grows with the distinct values: villages, channels, names).
    """

    def __init__(self, classes: Iterable[type[Any]], unique: Iterable[str] = ()) -> None:
        self._classes = tuple(classes)
        if len(self._classes) > 255:
            raise ValueError("a codec packs at most 255 fact classes")
        self._unique = frozenset(unique)
        self._lock = threading.Lock()  # for adding strings and zones
        self._strings: list[str] = []
        self._string_index: dict[str, int] = {}
        self._zones: list[tzinfo] = []
        self._zone_index: dict[tuple[type, str], int] = {}
        self._zone_of: dict[int, tuple[tzinfo, int]] = {}  # by id(): no repr per datetime
        self._packers: dict[type, Callable[[Any], bytes]] = {}  # made per class
        self._unpackers: list[_Unpacker] = []
        self._id_first: list[bool] = []  # whether the record's bytes 1–16 are `event_id`
        for code, cls in enumerate(self._classes):
            packer, unpacker = self._layout(code, cls)
            self._packers[cls] = packer
            self._unpackers.append(unpacker)
            first = dataclasses.fields(cls)[0].name if dataclasses.fields(cls) else ""
            self._id_first.append(
                first == "event_id" and typing.get_type_hints(cls)[first] is _UUID
            )

    def pack(self, fact: Any) -> bytes | None:
        """The fact as bytes, or None when it cannot be packed exactly."""
        packer = self._packers.get(type(fact))
        if packer is None:
            return None
        try:
            return packer(fact)
        except _Unpackable:
            return None

    def unpack(self, data: Buffer, offset: int = 0) -> Any:
        """The fact packed in `data` at `offset`."""
        return self._unpackers[data[offset]](data, offset)

    def event_id(self, data: Buffer, offset: int = 0) -> int:
        """`event_id.int` of the fact packed at `offset`, read without decoding it
        where the class's first field is its event id."""
        if self._id_first[data[offset]]:
            return int.from_bytes(data[offset + 1 : offset + 17])
        return int(self.unpack(data, offset).event_id.int)

    # --- layouts -------------------------------------------------------------

    def _layout(self, code: int, cls: type[Any]) -> tuple[Callable[[Any], bytes], _Unpacker]:
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        fields = [self._field(name, hints[name]) for name in names]
        fixed = struct.Struct("<B" + "".join(field.format for field in fields))
        return (
            self._packer(code, cls, fixed, names, fields),
            self._unpacker(cls, fixed, names, fields),
        )

    def _namespace(self, cls: type[Any], fixed: struct.Struct) -> dict[str, Any]:
        return {
            "_cls": cls,
            "_pack": fixed.pack,
            "_unpack": fixed.unpack_from,
            "_new": _new,
            # `UUID(bytes=...)` checks its argument in Python; these bytes came from a
            # UUID's own `bytes`.
            "_uuid_of_int": uuid_of_int,
            "_from_bytes": int.from_bytes,
            "_UUID": _UUID,
            "_datetime": datetime,
            "_date": date,
            "_fromordinal": date.fromordinal,
            "_strings": self._strings,
            "_string_index": self._string_index,
            "_new_string": self._new_string,
            "_zones": self._zones,
            "_zone_code": self._zone_code,
            "_Unpackable": _Unpackable,
            "_struct_error": struct.error,
        }

    def _packer(
        self,
        code: int,
        cls: type[Any],
        fixed: struct.Struct,
        names: list[str],
        fields: list[_Field],
    ) -> Callable[[Any], bytes]:
        """A function made for `cls`'s layout: each field checked for its exact type
        (a subclass may carry more than its fields) and turned into its struct values
        by an expression, then one `pack` (~1 µs a fact; a loop over fields took ~3).
        Raises _Unpackable for what it cannot pack exactly."""
        namespace = self._namespace(cls, fixed)
        lines = ["def pack(fact):", "    tail = []"]
        args = [str(code)]
        for index, (name, field) in enumerate(zip(names, fields, strict=True)):
            parts = [f"a{index}_{i}" for i in range(field.width)]
            namespace[f"_kind{index}"] = field.kind
            lines.append(f"    x = fact.{name}")
            values = parts[1:] if field.optional else parts
            if field.optional:
                blank = ", ".join(["False", *_blanks(field.format[1:])])
                lines.append("    if x is None:")
                lines.append(f"        {', '.join(parts)}, = {blank},")
                lines.append("    else:")
                lines.append(f"        {parts[0]} = True")
            else:
                lines.append(f"    if x is None: raise _Unpackable({name!r} + ' is None')")
                lines.append("    if True:")
            lines.append(f"        if type(x) is not _kind{index}:")
            lines.append(f"            raise _Unpackable({name!r} + ': ' + type(x).__name__)")
            if field.inline:
                lines.append("        text = x.encode('utf-8', 'surrogatepass')")
                lines.append("        tail.append(text)")
            lines.append(f"        {', '.join(values)}, = {field.values.format(x='x')},")
            args.extend(parts)
        lines.append("    try:")
        lines.append(f"        head = _pack({', '.join(args)})")
        lines.append("    except _struct_error as error:  # an integer beyond 64 bits...")
        lines.append("        raise _Unpackable(str(error)) from error")
        lines.append("    return head + b''.join(tail) if tail else head")
        exec("\n".join(lines), namespace)  # noqa: S102 - made of the field names and counts
        pack: Callable[[Any], bytes] = namespace["pack"]
        return pack

    def _unpacker(
        self, cls: type[Any], fixed: struct.Struct, names: list[str], fields: list[_Field]
    ) -> _Unpacker:
        """A function made for `cls`'s layout: one `unpack_from`, each field made by an
        expression of its values, set into the new fact's slots (~1.3 µs a fact; a
        loop over the fields took ~5). `__post_init__` is not run again: the packed
        fact passed it when it was made."""
        namespace = self._namespace(cls, fixed)
        targets = ["_code"]
        lines = ["    fact = _new(_cls)", f"    _tail = offset + {fixed.size}  # inline text"]
        for index, (name, field) in enumerate(zip(names, fields, strict=True)):
            parts = [f"v{index}_{i}" for i in range(field.width)]
            targets.extend(parts)
            namespace[f"_set{index}"] = getattr(cls, name).__set__  # the slot's descriptor
            if field.inline:
                length = parts[-1]
                value = f"str(data[_tail : _tail + {length}], 'utf-8', 'surrogatepass')"
            else:
                value = field.make.format(*parts[1:] if field.optional else parts)
            if field.optional:
                value = f"({value} if {parts[0]} else None)"
            lines.append(f"    _set{index}(fact, {value})")
            if field.inline:
                lines.append(f"    _tail += {parts[-1]}")
        source = "\n".join(
            [
                "def unpack(data, offset):",
                f"    ({', '.join(targets)},) = _unpack(data, offset)",
                *lines,
                "    return fact",
            ]
        )
        exec(source, namespace)  # noqa: S102 - made of the field names and counts above
        unpack: _Unpacker = namespace["unpack"]
        return unpack

    def _field(self, name: str, hint: Any) -> _Field:
        base = _base(hint)
        fmt, values, width, make = self._kind(name, base)
        inline = name in self._unique and base is str
        optional = base is not hint
        if optional:
            fmt, width = "?" + fmt, width + 1
        return _Field(fmt, base, values, width, make, optional=optional, inline=inline)

    def _kind(self, name: str, kind: Any) -> tuple[str, str, int, str]:
        """(struct format, the expression of its values from `x`, how many, the
        expression making the value from them: `str.format`ted with their names)."""
        if kind is _UUID:
            return "16s", "{x}.bytes", 1, "_uuid_of_int(_from_bytes({0}))"
        if kind is datetime:
            return (
                "HBBBBBIH",
                "{x}.year, {x}.month, {x}.day, {x}.hour, {x}.minute, {x}.second, "
                "{x}.microsecond, _zone_code({x})",
                8,
                "_datetime({0}, {1}, {2}, {3}, {4}, {5}, {6},"
                " _zones[{7} >> 1] if {7} >> 1 else None, fold={7} & 1)",
            )
        if kind is date:
            return "I", "{x}.toordinal()", 1, "_fromordinal({0})"
        if kind in (bool, int):
            return ("?" if kind is bool else "q"), "{x}", 1, "{0}"
        if kind is str:
            if name in self._unique:
                return "I", "len(text)", 1, ""  # the text follows, inline
            return (
                "I",
                "_string_index.get({x}) if {x} in _string_index else _new_string({x})",
                1,
                "_strings[{0}]",
            )
        raise TypeError(f"a fact field of type {kind!r} cannot be packed ({name})")

    def _new_string(self, value: str) -> int:
        """The index of a string not yet in the table, added (under the lock: two
        projectors' threads in one process share the codec)."""
        with self._lock:
            index = self._string_index.get(value)
            if index is not None:
                return index
            if len(self._strings) >= 1 << 32:
                raise _Unpackable("the string table is full")
            index = len(self._strings)
            value = sys.intern(value)
            self._strings.append(value)
            self._string_index[value] = index
            return index

    def _zone_code(self, value: datetime) -> int:
        """The datetime's zone (its index) and fold, as packed."""
        zone = value.tzinfo
        z = 0
        if zone is not None:
            seen = self._zone_of.get(id(zone))
            z = seen[1] if seen is not None and seen[0] is zone else self._zone(zone)
        return z << 1 | value.fold

    def _zone(self, zone: tzinfo) -> int:
        """The zone's index, one per distinct zone (equal offsets with another name,
        or of another type, are another zone: they print otherwise)."""
        key = (type(zone), repr(zone))
        with self._lock:
            z = self._zone_index.get(key, 0)
            if not z:
                if not self._zones:
                    self._zones.append(zone)  # index 0 stands for "no zone"
                if len(self._zones) >= 1 << 15:
                    raise _Unpackable("too many zones")
                z = len(self._zones)
                self._zones.append(zone)
                self._zone_index[key] = z
            self._zone_of[id(zone)] = (zone, z)  # holds the zone: its id stays its own
        return z


def _blanks(fmt: str) -> list[str]:
    """A value for each of the struct format's items, packed where a field is None:
    bytes for `Ns` (a 0 there is a struct.error, and made every fact with a None
    UUID a loose one: citizens' ratings with no activity, ~55 % of them), else 0."""
    blanks, count = [], ""
    for char in fmt:
        if char.isdigit():
            count += char
            continue
        if char == "s":
            blanks.append("b''")
        else:
            blanks.extend(["0"] * int(count or 1))
        count = ""
    return blanks


def _base(hint: Any) -> Any:
    """`X` of `X | None` (else the hint itself)."""
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not NoneType]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0]
    return hint


class PackedFacts:
    """A ledger's facts packed one after another into one buffer (`FactCodec`), in
    their canonical order: event time (as an instant), then event id.

    Takes an item as the facts' dict does, so `FactRecorded.apply` records into it
    unchanged; `values()` decodes every fact, already in canonical order (what
    `FactLedger.facts()` would sort them into: equal keys stay in the order recorded).
    Facts mostly arrive in time order and are appended; a late one is inserted.
    Costs the packed bytes and 12 bytes a fact (its length, its instant); the ids are
    not indexed (`in` decodes: the projector, which keeps ledgers this way, never
    asks), and as with `FactIds` a ledger records only ids it does not hold, so a
    repeat is not looked for.
    """

    __slots__ = ("_buffer", "_codec", "_instants", "_lengths", "_loose")

    def __init__(self, codec: FactCodec, facts: Iterable[Any] = ()) -> None:
        self._codec = codec
        self._buffer = bytearray()
        self._lengths = array("I")  # each record's length in the buffer (0: a loose fact)
        self._instants = array("q")  # each fact's event time, µs since the epoch (UTC)
        self._loose: list[Any] = []  # facts the codec could not pack, in record order
        # In canonical order first, so that each is appended (equal keys stay in the
        # order given, as `sorted` keeps them and as inserting one by one would).
        for fact in sorted(facts, key=_canonical):
            self._insert(fact)

    def __setitem__(self, _key: int, fact: Any) -> None:
        self._insert(fact)

    def _insert(self, fact: Any) -> None:
        data = self._codec.pack(fact)
        instant = _micros(fact.occurred_at)
        instants = self._instants
        at = len(instants)
        if at and instant <= instants[-1]:
            key = fact.event_id.int
            if instant < instants[-1] or key < self._last_id():
                at = self._position(instant, key)
        if at == len(instants):
            self._buffer += data or b""
            if data is None:
                self._loose.append(fact)
        else:
            lengths = self._lengths
            if data is None:
                self._loose.insert(lengths[:at].count(0), fact)
            else:
                offset = sum(lengths[:at])
                self._buffer[offset:offset] = data
        self._lengths.insert(at, 0 if data is None else len(data))
        instants.insert(at, instant)

    def _position(self, instant: int, key: int) -> int:
        """Where a fact of this instant and id goes: after every fact before it in
        canonical order and every equal one (ties on the instant compare ids, read
        from the records: many facts may share one instant)."""
        low = bisect_left(self._instants, instant)
        high = bisect_right(self._instants, instant)
        if low == high:
            return low
        return low + bisect_right(self._ids(low, high), key)

    def _last_id(self) -> int:
        length = self._lengths[-1]
        if not length:
            return int(self._loose[-1].event_id.int)
        return self._codec.event_id(self._buffer, len(self._buffer) - length)

    def _ids(self, first: int, stop: int) -> list[int]:
        """The event ids of facts `first`..`stop` (as ints), in order."""
        return self._read(first, stop, self._codec.event_id, lambda fact: fact.event_id.int)

    def __len__(self) -> int:
        return len(self._lengths)

    def __contains__(self, key: object) -> bool:
        return any(fact.event_id.int == key for fact in self.values())

    def __iter__(self) -> Iterator[int]:
        return (fact.event_id.int for fact in self.values())

    def values(self) -> list[Any]:
        """Every fact, decoded, in canonical order."""
        return self._read(0, len(self._lengths), self._codec.unpack, lambda fact: fact)

    def _read(
        self,
        first: int,
        stop: int,
        packed: Callable[[Buffer, int], _R],
        loose: Callable[[Any], _R],
    ) -> list[_R]:
        """`packed(buffer, offset)` of each packed record `first`..`stop`, `loose(fact)`
        of each fact kept as it is, in order."""
        lengths, buffer = self._lengths, self._buffer
        kept = iter(self._loose[lengths[:first].count(0) :])
        start = sum(lengths[:first]) if first else 0
        out = []
        for length in lengths[first:stop]:
            if length:
                out.append(packed(buffer, start))
                start += length
            else:
                out.append(loose(next(kept)))
        return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _canonical(fact: Any) -> tuple[int, int]:
    return _micros(fact.occurred_at), fact.event_id.int


def _micros(value: datetime) -> int:
    """The instant, as `FactLedger.facts()` orders it (`astimezone(UTC)`)."""
    return (value.astimezone(UTC) - _EPOCH) // _MICROSECOND
