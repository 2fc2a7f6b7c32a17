"""SQL that turns one raw text value into a typed value and, when it cannot, a plain reason.

Every canonical column arrives as VARCHAR (or NULL). For each ``Kind`` this module writes two SQL
expressions over that text: the typed value, and the reason it was refused (NULL when it is
fine). The expressions only ever reference column identifiers we generate ourselves; the values
themselves are never interpolated into SQL.

The conventions (docs/ingest.md) that these expressions implement:

* full-width digits and punctuation (``１２９９．００``) become ASCII before parsing;
* surrounding spaces (also the ideographic space U+3000 and no-break space) are trimmed;
* money and percentages: ``.`` is the decimal point and ``,`` only a thousands separator in
  groups of three (``1,299.00``); a leading currency sign or code (``¥ ￥ $ € £ US$ RMB CNY USD
  EUR GBP``) is dropped; anything else (``1 299,00``, ``1.299,00``, ``12,5``) is refused, not
  guessed; more decimal places than the column keeps is refused, never rounded;
* timestamps: ISO 8601 with ``T`` or a space, optional seconds and fraction, an optional
  offset (``Z``, ``+08:00``, ``+0800``, ``+08``); ``/`` may separate the date parts; a date alone
  means midnight; a value without offset is read in the ingest time zone (the caller sets the
  session ``TimeZone`` while this SQL runs). Epoch numbers are refused (seconds or milliseconds
  cannot be told apart).
"""

from __future__ import annotations

from promoguard.model import Column, Kind

# Full-width forms (U+FF10.. digits, ．，＋－：／ and the ideographic space) and the no-break space.
_FULL_WIDTH = "０１２３４５６７８９．，＋－：／\u3000\u00a0"
_ASCII = "0123456789.,+-:/  "
_BLANKS = " \t\r\n"

#: Leading currency sign or code accepted on money values (dropped, not checked).
_CURRENCY_PREFIX = r"^([+-]?)\s*(?:US\$|[¥￥$€£]|RMB|CNY|USD|EUR|GBP)\s*([+-]?)"
_PLAIN_AMOUNT = r"\d{1,16}(\.\d{1,2})?"  # the fast path: already canonical
_PLAIN_WHOLE = r"\d{1,18}"  # the fast path for whole numbers (fits BIGINT)
_GROUPED_NUMBER = r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"
# a whole number may end in ``.0``/``.00``..: the text of a whole value in a float or decimal column
# (a Parquet DOUBLE 2.0, a JSON 2.0); any other fraction is not a whole number (not rounded)
_WHOLE_NUMBER = r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.0+)?"
# A year 0001..9999 (ISO 8601 has no year 0 without an agreed extension: DuckDB would store
# 0000 as 1 BC); at most 6 significant fraction digits (a 7th..9th digit must be 0: microseconds
# are what TIMESTAMPTZ keeps, and a cut is never silent); an offset within -14:00..+14:00 with
# minutes below 60 (``+99:99`` or ``+00:60`` would silently shift the instant).
_YEAR = r"(000[1-9]|00[1-9]\d|0[1-9]\d{2}|[1-9]\d{3})"
_OFFSET = r"(Z|z|[+-](0\d|1[0-3])(:?[0-5]\d)?|[+-]14(:?00)?)"
_TIMESTAMP_SHAPE = (
    _YEAR + r"-\d{1,2}-\d{1,2}"
    r"([T ]\d{1,2}:\d{2}(:\d{2}(\.\d{1,6}0{0,3})?)?)?"
    r"\s*" + _OFFSET + "?"
)
# The fast path's shape: the same, with no blank at the end (a blank before an offset is fine):
# ``2026-11-14 `` must be trimmed on the slow path, since DuckDB's cast refuses the blank.
_FAST_TIMESTAMP_SHAPE = (
    _YEAR + r"-\d{1,2}-\d{1,2}"
    r"([T ]\d{1,2}:\d{2}(:\d{2}(\.\d{1,6}0{0,3})?)?)?"
    r"(\s*" + _OFFSET + ")?"
)
# The same shape without those limits: what a value that fails only on them looks like.
_LOOSE_TIMESTAMP = (
    r"\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?"
)
_BAD_OFFSET = r".*\d:\d{2}.*[+-]((1[5-9]|[2-9]\d)(:?\d{2})?|\d{2}:?[6-9]\d|14:?(0[1-9]|[1-5]\d))"
_NANOS = r".*\.\d{6}\d*[1-9]\d*(\s*(Z|z|[+-].*))?"
# A date with no time of day: a deadline's end of day goes after it. (A date with an offset and
# no time, 2026-11-14+08:00, is refused in every timestamp column, deadlines too.)
_BARE_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
#: The instants TIMESTAMPTZ holds that every reader (Python's datetime, Arrow, Spark) can hold too.
TIMESTAMP_MIN = "0001-01-01 00:00:00+00"
TIMESTAMP_MAX = "9999-12-31 23:59:59.999999+00"
OUT_OF_RANGE = "outside the stored range 0001-01-01 .. 9999-12-31 (UTC, after the offset)"
_EPOCH = r"[+-]?\d{9,13}(\.\d+)?"

#: Extra lower bounds beyond what the kind says, by (table, column).
MINIMUMS: dict[tuple[str, str], int] = {
    ("orders", "quantity"): 1,
    ("price_observations", "final_price_qty"): 1,
}

EMPTY = "required value is empty"
#: ="=""77""" is a guard around a guard: no export writes it, and taken off once it would be
#: stored as a guard (=""77"", the doubled quotes kept), which the next ingest would take off
GUARD_IN_GUARD = 'a spreadsheet text guard inside another (="=""…""")'

#: An id a spreadsheet turned into a number and wrote back in its scientific notation
#: (7500123456789 -> 7.50012E+12): its digits are gone, and as an id it would meet nothing
#: (Excel turns to it past 11 digits, so the exponent is 11 or more; 7.5E+2 is no such id. A decimal
#: comma in some locales; LibreOffice writes e and no sign, a three-digit exponent at times.)
_EXCEL_E = r"\d[.,]\d+[Ee]\+?0?(1[1-9]|[2-9]\d)|\d[Ee]\+0?(1[1-9]|[2-9]\d)"
EXCEL_E = (
    "an id in a spreadsheet's scientific notation (7.50012E+12) has lost its digits: "
    "export the column as text"
)
NOT_MONEY = "not an amount of money (use '.' for decimals, ',' for thousands)"
NOT_PERCENT = "not a percentage (use '.' for decimals)"
#: Spellings of yes and no accepted for a FLAG column (compared in lower case).
TRUE_WORDS = ("true", "t", "yes", "y", "1", "是")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否")
NOT_FLAG = "not a yes/no value (use true or false)"


def _lit(text: str) -> str:
    """A SQL string literal for text WE wrote (patterns, reasons); never for data."""
    return "'" + text.replace("'", "''") + "'"


def _trim(x: str) -> str:
    """trim() of blanks, skipped (it is slow) when neither end is a blank or control character."""
    return f"CASE WHEN ascii({x}) > 32 AND ascii({x}[-1]) > 32 THEN {x} ELSE trim({x}, {_lit(_BLANKS)}) END"


def guarded(x: str) -> str:
    """The test that ``x`` is a spreadsheet's text guard ``="…"`` (what :func:`_unquoted` takes
    off; a stored id never is one). Tested on the first character before anything else: most
    values stop there."""
    return (
        f"(ascii({x}) = 61 AND starts_with({x}, '=\"') AND ends_with({x}, '\"') "
        f"AND length({x}) >= 3)"
    )


def _unquoted(x: str) -> str:
    """``x`` without a spreadsheet's text guard: ``="0012345"`` is ``0012345``.

    Exports meant to be opened in Excel (brokers', Goodreads', Chinese sites' downloads) write a
    long number as the formula ``="…"`` so that Excel keeps its digits; the value is what is
    inside (trimmed).
    """
    return f"CASE WHEN {guarded(x)} THEN trim({x}[3:-2], {_lit(_BLANKS)}) ELSE {x} END"


def clean(ref: str, kind: Kind) -> str:
    """The raw text made comparable: full-width folded, trimmed, a spreadsheet's ``="…"``
    taken off, empty -> NULL.

    Text columns keep their value exactly (untrusted data, kept as given) except that an empty
    string is NULL; identifiers are trimmed and unquoted only (no full-width folding: an id is
    opaque).
    """
    if kind is Kind.TEXT:
        return f"nullif({ref}, '')"
    if kind is Kind.ID:
        return f"nullif({_unquoted(_trim(ref))}, '')"
    # translate() is slow; only text with a non-ASCII character (more chars than bytes) needs it.
    folded = (
        f"CASE WHEN strlen({ref}) = length({ref}) THEN {ref} "
        f"ELSE translate({ref}, {_lit(_FULL_WIDTH)}, {_lit(_ASCII)}) END"
    )
    return f"nullif({_unquoted(_trim(folded))}, '')"


#: The fast path's test per kind: the raw text is already canonical for that kind.
_CANONICAL = {
    Kind.MONEY: _PLAIN_AMOUNT,
    Kind.PERCENT: _PLAIN_AMOUNT,
    Kind.COUNT: _PLAIN_WHOLE,
    Kind.WEIGHT: _PLAIN_WHOLE,
    Kind.TIMESTAMP: _FAST_TIMESTAMP_SHAPE,
}


def accepts(v: str, col: Column, table: str) -> str:
    """The test over typed value ``v`` under which a value of ``col`` needs no reason."""
    kind = col.kind
    if kind is Kind.MONEY:
        return f"{v} >= 0"
    if kind is Kind.PERCENT:
        return f"{v} BETWEEN 0 AND 100"
    if kind in (Kind.COUNT, Kind.WEIGHT):
        return f"{v} >= {MINIMUMS.get((table, col.name), 0)}"
    if kind is Kind.TIMESTAMP:
        return f"{v} BETWEEN TIMESTAMPTZ '{TIMESTAMP_MIN}' AND TIMESTAMPTZ '{TIMESTAMP_MAX}'"
    return f"{v} IS NOT NULL"


def fast_path(r: str, col: Column) -> tuple[str, str] | None:
    """(test, value) over the *raw* text ``r`` for the common, already-canonical case.

    Most values in a real export are already canonical (``1299.00``, ``2026-11-11T00:00:00+08:00``,
    ``3``): no spaces, no full-width forms, no currency sign. For those the test proves the value
    needs no cleaning, and the typed value is exactly what the full rules would give; only rows
    that fail it pay for folding, trimming and diagnosis. ``None``: the kind has no fast path.
    """
    pattern = _CANONICAL.get(col.kind)
    if pattern is None:
        return None
    return (
        f"regexp_full_match({r}, {_lit(pattern)})",
        f"TRY_CAST({_dated(r, col)} AS {col.duckdb_type})",
    )


def _dated(x: str, col: Column) -> str:
    """``x`` with a bare date read as the last microsecond of that day when ``col`` is a deadline
    (``2026-11-14`` -> ``2026-11-14 23:59:59.999999``, in the export's zone): a parcel promised
    for the 14th and delivered that afternoon is on time. Other timestamps keep a bare date's
    midnight. Year 9999 is left at midnight: ``9999-12-31`` is how exports write "no deadline",
    and its end lies past the stored range in a zone west of UTC."""
    if not col.deadline:
        return x
    # only a short text can be a bare date: the pattern is not tried on every timestamp
    return (
        f"CASE WHEN length({x}) <= 10 AND regexp_full_match({x}, {_lit(_BARE_DATE)}) "
        f"AND NOT starts_with({x}, '9999') THEN {x} || ' 23:59:59.999999' ELSE {x} END"
    )


def _decimal(c: str, precision: int, scale: int, *, suffix: str = "") -> tuple[str, str, str]:
    """(value, bad-format test, too-many-decimals test) for a decimal column over cleaned ``c``."""
    stripped = f"regexp_replace({c}, {_lit(_CURRENCY_PREFIX)}, '\\1\\2')"
    if suffix:
        stripped = f"regexp_replace({stripped}, {_lit(suffix)}, '')"
    digits = f"replace({stripped}, ',', '')"
    fast = f"regexp_full_match({c}, {_lit(_PLAIN_AMOUNT)})"
    grouped = f"regexp_full_match({stripped}, {_lit(_GROUPED_NUMBER)})"
    # the fraction's digits up to its last non-zero one: trailing zeros round nothing away (a
    # DECIMAL(18,4) column exports 1.10 as 1.1000), so only a digit that would be lost refuses
    fraction_len = f"length(rtrim(split_part({digits}, '.', 2), '0'))"
    value = (
        f"CASE WHEN {fast} THEN TRY_CAST({c} AS DECIMAL({precision},{scale})) "
        f"WHEN {grouped} AND {fraction_len} <= {scale} "
        f"THEN TRY_CAST({digits} AS DECIMAL({precision},{scale})) END"
    )
    return value, f"NOT {grouped}", f"{fraction_len} > {scale}"


def value_sql(c: str, col: Column) -> str:
    """The typed value of column ``col`` from its cleaned text ``c`` (NULL when it cannot be)."""
    kind = col.kind
    if kind in (Kind.ID, Kind.TEXT):
        return c
    if kind is Kind.MONEY:
        return _decimal(c, 18, 2)[0]
    if kind is Kind.PERCENT:
        return _decimal(c, 7, 2, suffix=r"\s*%$")[0]
    if kind in (Kind.COUNT, Kind.WEIGHT, Kind.RATING):
        value = (
            f"CASE WHEN regexp_full_match({c}, {_lit(_WHOLE_NUMBER)}) "
            f"THEN TRY_CAST(regexp_replace(replace({c}, ',', ''), '\\.0+$', '') AS BIGINT) END"
        )
        if kind is Kind.RATING:
            return f"CASE WHEN {value} BETWEEN 1 AND 5 THEN {value} END"
        return value
    if kind is Kind.CURRENCY:
        return f"upper({c})"
    if kind is Kind.ENUM:
        # a value written as stored (most are) is kept after a few equality tests, which cost
        # less than lower() of every value; a value in another case, or one of the column's
        # aliases, is looked up in lower case; a spelling that is neither stays as written (in
        # lower case), so that the reason names the values
        same = " OR ".join(f"{c} = {_lit(v)}" for v in col.values)
        slow = f"lower({c})"
        if col.aliases:
            # one lookup in a constant list (a CASE of every alias ran ~10x slower: DuckDB
            # evaluated lower() again for each WHEN)
            spellings = "[" + ", ".join(_lit(a) for a, _ in col.aliases) + "]"
            meanings = "[" + ", ".join(_lit(v) for _, v in col.aliases) + "]"
            slow = f"coalesce({meanings}[list_position({spellings}, {slow})], {slow})"
        return f"CASE WHEN {same} THEN {c} ELSE {slow} END"
    if kind is Kind.FLAG:
        yes = ", ".join(_lit(w) for w in TRUE_WORDS)
        no = ", ".join(_lit(w) for w in FALSE_WORDS)
        return f"CASE WHEN lower({c}) IN ({yes}) THEN true WHEN lower({c}) IN ({no}) THEN false END"
    if kind is Kind.TIMESTAMP:
        iso = f"CASE WHEN contains({c}, '/') THEN replace({c}, '/', '-') ELSE {c} END"
        return (
            f"CASE WHEN regexp_full_match({iso}, {_lit(_TIMESTAMP_SHAPE)}) "
            f"THEN TRY_CAST({_dated(iso, col)} AS TIMESTAMPTZ) END"
        )
    raise AssertionError(f"no rule for kind {kind}")  # a new Kind must get a rule here


def reason_sql(c: str, v: str, col: Column, table: str) -> str:
    """Why column ``col`` was refused (NULL when fine), from cleaned text ``c`` and value ``v``.

    The common case (a good value) is decided first from ``v`` alone; only refused values pay
    for the diagnosis.
    """
    empty = f"WHEN {c} IS NULL THEN {'NULL' if col.nullable else _lit(EMPTY)} "
    kind = col.kind
    if kind is Kind.ID:
        return (
            f"CASE {empty}WHEN {guarded(c)} THEN {_lit(GUARD_IN_GUARD)} "
            f"WHEN ascii({c}) BETWEEN 48 AND 57 AND (contains({c}, 'E') OR "
            f"contains({c}, 'e')) AND regexp_full_match({c}, {_lit(_EXCEL_E)}) "
            f"THEN {_lit(EXCEL_E)} END"
        )
    if kind is Kind.TEXT:
        return f"CASE {empty}END"
    if kind in (Kind.MONEY, Kind.PERCENT):
        if kind is Kind.MONEY:
            _, bad_format, too_precise = _decimal(c, 18, 2)
            wrong, not_number = "'negative amount'", NOT_MONEY
            overflow = "'amount out of range'"
        else:
            _, bad_format, too_precise = _decimal(c, 7, 2, suffix=r"\s*%$")
            wrong, not_number = "'percentage outside 0..100'", NOT_PERCENT
            overflow = wrong
        return (
            f"CASE {empty}WHEN {accepts(v, col, table)} THEN NULL WHEN {v} IS NOT NULL THEN {wrong} "
            f"WHEN {bad_format} THEN {_lit(not_number)} "
            f"WHEN {too_precise} THEN 'more than 2 decimal places (not rounded)' "
            f"ELSE {overflow} END"
        )
    if kind is Kind.RATING:
        return f"CASE {empty}WHEN {v} IS NULL THEN 'rating must be a whole number 1..5' END"
    if kind in (Kind.COUNT, Kind.WEIGHT):
        minimum = MINIMUMS.get((table, col.name), 0)
        below = "negative number" if minimum == 0 else f"must be at least {minimum}"
        return (
            f"CASE {empty}WHEN {accepts(v, col, table)} THEN NULL "
            f"WHEN {v} IS NOT NULL THEN {_lit(below)} "
            f"WHEN NOT regexp_full_match({c}, {_lit(_WHOLE_NUMBER)}) THEN 'not a whole number' "
            f"ELSE 'number out of range' END"
        )
    if kind is Kind.CURRENCY:
        return (
            f"CASE {empty}WHEN NOT regexp_full_match({v}, '[A-Z]{{3}}') "
            f"THEN 'not a three-letter currency code' END"
        )
    if kind is Kind.ENUM:
        allowed = ", ".join(_lit(x) for x in col.values)
        return (
            f"CASE {empty}WHEN {v} NOT IN ({allowed}) "
            f"THEN {_lit('not one of: ' + ', '.join(col.values))} END"
        )
    if kind is Kind.FLAG:
        return f"CASE {empty}WHEN {v} IS NULL THEN {_lit(NOT_FLAG)} END"
    if kind is Kind.TIMESTAMP:
        return (
            f"CASE {empty}WHEN {accepts(v, col, table)} THEN NULL "
            f"WHEN regexp_full_match({c}, {_lit(_EPOCH)}) "
            f"THEN 'epoch numbers are not accepted (use ISO 8601)' "
            f"WHEN {v} IS NOT NULL THEN {_lit(OUT_OF_RANGE)} "
            f"WHEN NOT regexp_full_match({c}, {_lit(_LOOSE_TIMESTAMP)}) "
            f"THEN 'not an ISO 8601 timestamp' "
            f"WHEN regexp_full_match({c}, '0000.*') THEN {_lit('year 0000: ' + OUT_OF_RANGE)} "
            f"WHEN regexp_full_match({c}, {_lit(_NANOS)}) "
            f"THEN 'more than 6 decimal places in the seconds (microseconds are kept; not cut)' "
            f"WHEN regexp_full_match({c}, {_lit(_BAD_OFFSET)}) "
            f"THEN 'UTC offset out of range (hours -14..+14, minutes 00..59)' "
            f"ELSE 'not an ISO 8601 timestamp' END"
        )
    raise AssertionError(f"no rule for kind {kind}")
