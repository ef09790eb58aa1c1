"""Pseudonymise customer ids with a keyed hash (HMAC-SHA256) before they reach the store.

Every id najma writes is pseudonymised here, in one way: the ids of loaded events, those of
quarantined rows, and the fields of a line that could not be split into columns (any of which
may be an id), so that a quarantined row can be matched to its customer's journey.

The key is taken from the environment variable ``NAJMA_PSEUDONYM_KEY`` or, failing that, from a
key file (``NAJMA_KEY_FILE``, by default ``~/.config/najma/pseudonym.key``) that is created on
first use with a random key, readable by its owner only. The key never enters the database; the
store keeps only its fingerprint, so that loading with another key is refused instead of
silently producing pseudonyms that do not match.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import secrets
from pathlib import Path

import duckdb
from duckdb import ColumnExpression, ConstantExpression, FunctionExpression

from najma._lazy import lazy_module
from najma.errors import StoreError
from najma.journeys._normalise import clean_text
from najma.journeys._sources import Source

pa = lazy_module("pyarrow")  # loaded at first use, so opening a store does not load Arrow
pc = lazy_module("pyarrow.compute")
np = lazy_module("numpy")

__all__ = ["Pseudonymiser", "load_key", "default_key_file", "reject_rows"]

KEY_ENV = "NAJMA_PSEUDONYM_KEY"
KEY_FILE_ENV = "NAJMA_KEY_FILE"
PSEUDONYM_HEX_CHARS = 32
SHA256_BLOCK_BYTES = 64
#: The most ids a pseudonymiser remembers with their pseudonyms (about 60 bytes each), so that the batches of
#: one source hash each customer once: at 10.4M events, 734k customers instead of 5.1M ids hashed batch by batch.
KNOWN_IDS = 4_000_000


def default_key_file() -> Path:
    """Return the key file's path: ``$NAJMA_KEY_FILE`` or ``~/.config/najma/pseudonym.key``."""
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV]).expanduser()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "najma" / "pseudonym.key"


def load_key() -> bytes:
    """Return the pseudonymisation key, creating the key file (mode 0600) on first use.

    Raises
    ------
    StoreError
        If the key file is not a file, is readable by others, cannot be read, or cannot be created.
    """
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode()
    path = default_key_file()
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"cannot create the pseudonymisation key file {path}: {exc.strerror}") from None
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    if not path.is_file():
        raise StoreError(f"the key file {path} is not a file (it is a folder or a device); point {KEY_FILE_ENV} at a file")
    if path.stat().st_mode & 0o077:
        raise StoreError(f"the key file {path} is readable by others; run: chmod 600 {path}")
    try:
        key = path.read_text().strip().encode()
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"cannot read the key file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not key:
        raise StoreError(f"the key file {path} is empty")
    return key


class Pseudonymiser:
    """Replace customer ids by HMAC-SHA256 pseudonyms (the first 128 bits, in hex).

    Parameters
    ----------
    key : bytes
        The secret key.

    Examples
    --------
    >>> p = Pseudonymiser(b"secret")
    >>> p.pseudonym("784-1990-1234567-1") == p.pseudonym("784-1990-1234567-1")
    True
    >>> len(p.pseudonym("784-1990-1234567-1"))
    32
    """

    def __init__(self, key: bytes) -> None:
        self._key = key
        block = (hashlib.sha256(key).digest() if len(key) > SHA256_BLOCK_BYTES else key).ljust(SHA256_BLOCK_BYTES, b"\0")
        self._pads = [bytes(b ^ 0x5C for b in block), bytes(b ^ 0x36 for b in block)]
        self._engine: duckdb.DuckDBPyConnection | None = None
        self._known_ids = self._known = pa.array([], pa.string())

    @property
    def fingerprint(self) -> str:
        """A hash of the key that identifies it without revealing it."""
        return hmac.new(self._key, b"najma key fingerprint", hashlib.sha256).hexdigest()[:16]

    def pseudonym(self, value: str) -> str:
        """Return the pseudonym of one customer id."""
        return hmac.digest(self._key, value.encode(), "sha256").hex()[:PSEUDONYM_HEX_CHARS]

    def array(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Pseudonymise an Arrow array of ids, hashing each distinct id once.

        The ids met before (up to :data:`KNOWN_IDS` of them) keep the pseudonyms they were given; the
        others are hashed (:meth:`_hashed`) and remembered.

        Examples
        --------
        >>> p = Pseudonymiser(b"secret")
        >>> first, again = p.array(pa.array(["a", "b", "a"])), p.array(pa.array(["c", "a", None]))
        >>> again.to_pylist() == [p.pseudonym("c"), p.pseudonym("a"), None] and first[0] == again[1]
        True
        """
        values = pc.cast(values, pa.string())
        if len(self._known_ids) > 4 * len(values):  # encoding the known ids again would cost more than hashing these
            encoded = pc.dictionary_encode(values)
            if isinstance(encoded, pa.ChunkedArray):
                encoded = encoded.combine_chunks()
            return pc.take(self._hashed(encoded.dictionary), encoded.indices)
        chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
        # The known ids come first, in their order, so the dictionary is them followed by the new ids.
        encoded = pc.dictionary_encode(pa.chunked_array([self._known_ids, *chunks], pa.string())).combine_chunks()
        dictionary = encoded.dictionary
        if len(dictionary) > KNOWN_IDS and len(self._known_ids):  # too many to remember: start again from these
            self._known_ids = self._known = pa.array([], pa.string())
            return self.array(values)
        known = len(self._known_ids)
        self._known_ids, self._known = dictionary, pa.concat_arrays([self._known, self._hashed(dictionary.slice(known))])
        return pc.take(self._known, encoded.indices.slice(known))

    def _hashed(self, ids: pa.Array) -> pa.Array:
        """The pseudonyms of distinct `ids`, in their order, computed by DuckDB as
        ``sha256(outer pad || sha256(inner pad || id))`` (RFC 2104), equal to :meth:`pseudonym`."""
        if self._engine is None:
            self._engine = duckdb.connect()
        unseen = pa.table({"id": ids})  # noqa: F841 - read by the query below (order kept)
        return self._engine.sql(
            "SELECT left(sha256(?::BLOB || unhex(sha256(?::BLOB || encode(id)))), ?) AS pseudonym FROM unseen",
            params=[*self._pads, PSEUDONYM_HEX_CHARS],
        ).to_arrow_table().column(0).combine_chunks()

    def ids(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Pseudonymise customer ids as they are loaded: as text, trimmed, blank text as null.

        Examples
        --------
        >>> p = Pseudonymiser(b"secret")
        >>> p.ids(pa.array([" 784-1 ", "", None])).to_pylist() == [p.pseudonym("784-1"), None, None]
        True
        """
        return self.array(clean_text(pc.cast(values, pa.string())))

    def in_batch(self, batch: pa.RecordBatch, column: str) -> pa.RecordBatch:
        """Return `batch` with the ids in its `column` pseudonymised (:meth:`ids`); as it is if it has no such column.

        A batch of an XES file may lack an attribute that other batches have.
        """
        index = batch.schema.get_field_index(column)
        if index < 0:
            return batch
        return batch.set_column(index, column, self.ids(batch.column(index)))

    def fields(self, records: list[tuple[str, ...]]) -> pa.ListArray:
        """Pseudonymise every field of each record as an id (:meth:`ids`), hashing all the records' fields at once.

        For a record that could not be split into its columns: any of its fields may be a customer
        id, and its id keeps the pseudonym it has in the customer's loaded events.

        Examples
        --------
        >>> p = Pseudonymiser(b"secret")
        >>> p.fields([("c1", " 784-1"), ()]).to_pylist() == [[p.pseudonym("c1"), p.pseudonym("784-1")], []]
        True
        """
        flat = pa.array([value for record in records for value in record], pa.string())
        offsets = pa.array([0, *itertools.accumulate(len(record) for record in records)], pa.int32())
        return pa.ListArray.from_arrays(offsets, self.ids(flat))


def reject_rows(con: duckdb.DuckDBPyConnection, source: Source, pseudonymiser: Pseudonymiser) -> duckdb.DuckDBPyRelation:
    """The quarantine rows of the records of `source` that could not be split into its columns.

    Any field of such a record may be a customer id, in any column: each field is kept
    pseudonymised as an id (:meth:`Pseudonymiser.fields`), its text never, so that the record's
    id still matches the pseudonym of its customer's loaded events.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The connection the rows are read in.
    source : Source
        The source, read to its end (its ``rejects`` are complete).
    pseudonymiser : Pseudonymiser
        The pseudonymiser of the events' ids.

    Returns
    -------
    duckdb.DuckDBPyRelation
        The columns of a quarantined row but the batch id: ``source``, ``row``, ``unit``,
        ``column`` (null: no column is at fault), ``reason`` and ``record``
        (``{"field_pseudonyms": [...]}``, as JSON).
    """
    rejects = pa.table({
        "row": pa.array([reject.row for reject in source.rejects], pa.int64()),
        "reason": pa.array([reject.reason for reject in source.rejects], pa.string()),
        "fields": pseudonymiser.fields([reject.fields for reject in source.rejects]),
    })
    return con.from_arrow(rejects).select(
        ConstantExpression(source.name).cast("VARCHAR").alias("source"),
        ColumnExpression("row"),
        ConstantExpression(source.unit).cast("VARCHAR").alias("unit"),
        ConstantExpression(None).cast("VARCHAR").alias("column"),
        ColumnExpression("reason"),
        FunctionExpression("json_object", ConstantExpression("field_pseudonyms"), ColumnExpression("fields")).alias("record"),
    )
