"""Column mappings: the user's column names onto the canonical event schema (bupaR-style).

A mapping names, for each canonical column, the source column that holds it. Canonical columns
left out are taken from a source column of the same name when there is one. Source columns that
end up mapped onto nothing are kept as attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from najma.errors import InvalidEventLogError
from najma.journeys._schema import MAPPABLE, REQUIRED
from najma.journeys._sources import ROW

if TYPE_CHECKING:
    from najma.journeys._sources import Source

__all__ = ["ColumnMapping", "XES_MAPPING", "parse_mapping", "resolve_mapping"]

#: Short names accepted in ``--map`` beside the canonical names.
ALIASES: dict[str, str] = {
    "case": "case_id",
    "customer": "customer_id",
    "start": "start_timestamp",
    "time": "timestamp",
}


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column holds each canonical column.

    Parameters
    ----------
    columns : mapping of str to str
        Canonical column name (or an alias such as ``case``) to source column name.

    Examples
    --------
    >>> m = ColumnMapping({"case": "SessionID", "activity": "PAGE_NAME"})
    >>> m.resolve(["SessionID", "PAGE_NAME", "timestamp", "IPID"])
    {'case_id': 'SessionID', 'activity': 'PAGE_NAME', 'timestamp': 'timestamp'}
    """

    columns: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        canonical: dict[str, str] = {}
        for key, source in self.columns.items():
            name = ALIASES.get(key, key)
            if name not in MAPPABLE:
                raise InvalidEventLogError(
                    f"The mapping key {key!r} is not a canonical column. "
                    f"Expected one of {', '.join(MAPPABLE)} (or {', '.join(ALIASES)}). Got {key!r} instead."
                )
            if name in canonical:
                raise InvalidEventLogError(f"The mapping names {name!r} twice.")
            if not isinstance(source, str) or not source:
                raise InvalidEventLogError(f"The mapping of {name!r} must be a column name. Got {source!r} instead.")
            canonical[name] = source
        object.__setattr__(self, "columns", canonical)

    def resolve(self, available: Sequence[str]) -> dict[str, str]:
        """Return canonical name -> source column for the columns `available` in a source.

        Raises
        ------
        InvalidEventLogError
            If a mapped column is missing, or a required column is neither mapped nor present.
        """
        present = set(available)
        missing = {name: src for name, src in self.columns.items() if src not in present}
        if missing:
            name, src = next(iter(missing.items()))
            raise InvalidEventLogError(
                f"the column {src!r} mapped to {name} is missing; columns available: {', '.join(available)}"
            )
        resolved = {}
        for name in MAPPABLE:
            if name in self.columns:
                resolved[name] = self.columns[name]
            elif name in present and name not in self.columns.values():
                resolved[name] = name
        absent = [name for name in REQUIRED if name not in resolved]
        if absent:
            raise InvalidEventLogError(
                f"no column for {', '.join(absent)}: map one, e.g. {absent[0].removesuffix('_id')}=COLUMN; "
                f"columns available: {', '.join(available)}", parameter="mapping"
            )
        return resolved

    def merged(self, other: ColumnMapping) -> ColumnMapping:
        """Return this mapping with the entries of `other` added or replacing its own."""
        return ColumnMapping({**self.columns, **other.columns})


#: The standard XES keys, as pm4py names them (trace attributes carry the prefix ``case:``).
XES_MAPPING = ColumnMapping(
    {
        "case_id": "case:concept:name",
        "activity": "concept:name",
        "timestamp": "time:timestamp",
        "resource": "org:resource",
        "lifecycle": "lifecycle:transition",
    }
)


def parse_mapping(text: str | None) -> ColumnMapping:
    """Parse a ``--map`` option such as ``case=SessionID,activity=PAGE_NAME``.

    Examples
    --------
    >>> parse_mapping("case=SessionID, timestamp=TIMESTAMP").columns
    {'case_id': 'SessionID', 'timestamp': 'TIMESTAMP'}
    """
    if not text:
        return ColumnMapping()
    pairs = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidEventLogError(f"A column mapping must be NAME=COLUMN pairs separated by commas. Got {part!r} instead.",
                                       parameter="mapping")
        pairs[key.strip()] = value.strip()
    return ColumnMapping(pairs)


def resolve_mapping(source: Source, mapping: ColumnMapping, names: list[str]) -> dict[str, str]:
    """The canonical column of each of `names` (the columns of a batch read from `source`) under `mapping`.

    An XES source (or a file with XES's keys) starts from :data:`XES_MAPPING`; a batch of XES traces may
    lack an attribute, whose rows then get NULL (checked once the source is read). A mapping that does
    not fit the columns is refused naming the source (:meth:`Source.fail`).
    """
    data = [n for n in names if n != ROW]
    if source.kind == "xes" or "case:concept:name" in data:
        preset = ColumnMapping({k: v for k, v in XES_MAPPING.columns.items() if v in data})
        mapping = preset.merged(mapping)
        if source.kind == "xes":
            return dict(mapping.columns)
    try:
        return mapping.resolve(data)
    except ValueError as exc:
        raise source.fail(str(exc)) from None
