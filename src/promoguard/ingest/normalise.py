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
_GROUPED_NUMBER = r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"
_WHOLE_NUMBER = r"[+-]?(\d{1,3}(,\d{3})+|\d+)"
_TIMESTAMP_SHAPE = (
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"([T ]\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
    r"\s*(Z|z|[+-]\d{2}(:?\d{2})?)?"
)
_EPOCH = r"[+-]?\d{9,13}(\.\d+)?"

#: Extra lower bounds beyond what the kind says, by (table, column).
MINIMUMS: dict[tuple[str, str], int] = {("orders", "quantity"): 1}

EMPTY = "required value is empty"
NOT_MONEY = "not an amount of money (use '.' for decimals, ',' for thousands)"
NOT_PERCENT = "not a percentage (use '.' for decimals)"


def _lit(text: str) -> str:
    """A SQL string literal for text WE wrote (patterns, reasons); never for data."""
    return "'" + text.replace("'", "''") + "'"


def clean(ref: str, kind: Kind) -> str:
    """The raw text made comparable: full-width folded, trimmed, empty -> NULL.

    Text columns keep their value exactly (untrusted data, kept as given) except that an empty
    string is NULL; identifiers are trimmed only (no full-width folding: an id is opaque).
    """
    if kind is Kind.TEXT:
        return f"nullif({ref}, '')"
    if kind is Kind.ID:
        return f"nullif(trim({ref}, {_lit(_BLANKS)}), '')"
    folded = f"translate({ref}, {_lit(_FULL_WIDTH)}, {_lit(_ASCII)})"
    return f"nullif(trim({folded}, {_lit(_BLANKS)}), '')"


def _decimal(c: str, precision: int, scale: int, *, suffix: str = "") -> tuple[str, str, str]:
    """(value, format reason, scale check) for a decimal column over cleaned text ``c``."""
    stripped = f"regexp_replace({c}, {_lit(_CURRENCY_PREFIX)}, '\\1\\2')"
    if suffix:
        stripped = f"regexp_replace({stripped}, {_lit(suffix)}, '')"
    digits = f"replace({stripped}, ',', '')"
    fast = f"regexp_full_match({c}, {_lit(_PLAIN_AMOUNT)})"
    fraction_len = f"length(split_part({digits}, '.', 2))"
    value = (
        f"CASE WHEN {fast} THEN TRY_CAST({c} AS DECIMAL({precision},{scale})) "
        f"WHEN regexp_full_match({stripped}, {_lit(_GROUPED_NUMBER)}) AND {fraction_len} <= {scale} "
        f"THEN TRY_CAST({digits} AS DECIMAL({precision},{scale})) END"
    )
    bad_format = f"NOT {fast} AND NOT regexp_full_match({stripped}, {_lit(_GROUPED_NUMBER)})"
    too_precise = f"NOT {fast} AND {fraction_len} > {scale}"
    return value, bad_format, too_precise


def typed(c: str, col: Column, table: str) -> tuple[str, str]:
    """(typed value SQL, reason SQL) for the cleaned text expression ``c`` of column ``col``."""
    empty = f"WHEN {c} IS NULL THEN {'NULL' if col.nullable else _lit(EMPTY)} "
    kind = col.kind
    if kind in (Kind.ID, Kind.TEXT):
        return c, f"CASE {empty}END"
    if kind is Kind.MONEY:
        value, bad_format, too_precise = _decimal(c, 18, 2)
        reason = (
            f"CASE {empty}"
            f"WHEN {bad_format} THEN "
            f"{_lit(NOT_MONEY)} "
            f"WHEN {too_precise} THEN 'more than 2 decimal places (not rounded)' "
            f"WHEN {value} IS NULL THEN 'amount out of range' "
            f"WHEN {value} < 0 THEN 'negative amount' END"
        )
        return value, reason
    if kind is Kind.PERCENT:
        value, bad_format, too_precise = _decimal(c, 7, 2, suffix=r"\s*%$")
        reason = (
            f"CASE {empty}"
            f"WHEN {bad_format} THEN {_lit(NOT_PERCENT)} "
            f"WHEN {too_precise} THEN 'more than 2 decimal places (not rounded)' "
            f"WHEN {value} IS NULL OR {value} < 0 OR {value} > 100 "
            f"THEN 'percentage outside 0..100' END"
        )
        return value, reason
    if kind in (Kind.COUNT, Kind.WEIGHT, Kind.RATING):
        whole = f"regexp_full_match({c}, {_lit(_WHOLE_NUMBER)})"
        value = f"CASE WHEN {whole} THEN TRY_CAST(replace({c}, ',', '') AS BIGINT) END"
        if kind is Kind.RATING:
            value = f"CAST(CASE WHEN {value} BETWEEN 1 AND 5 THEN {value} END AS SMALLINT)"
            reason = (
                f"CASE {empty}WHEN {value} IS NULL THEN 'rating must be a whole number 1..5' END"
            )
            return value, reason
        minimum = MINIMUMS.get((table, col.name), 0)
        below = "negative number" if minimum == 0 else f"must be at least {minimum}"
        reason = (
            f"CASE {empty}"
            f"WHEN NOT {whole} THEN 'not a whole number' "
            f"WHEN {value} IS NULL THEN 'number out of range' "
            f"WHEN {value} < {minimum} THEN {_lit(below)} END"
        )
        return value, reason
    if kind is Kind.CURRENCY:
        value = f"upper({c})"
        reason = (
            f"CASE {empty}WHEN NOT regexp_full_match({value}, '[A-Z]{{3}}') "
            f"THEN 'not a three-letter currency code' END"
        )
        return value, reason
    if kind is Kind.ENUM:
        value = f"lower({c})"
        allowed = ", ".join(_lit(v) for v in col.values)
        reason = (
            f"CASE {empty}WHEN {value} NOT IN ({allowed}) "
            f"THEN {_lit('not one of: ' + ', '.join(col.values))} END"
        )
        return value, reason
    if kind is Kind.TIMESTAMP:
        iso = f"replace({c}, '/', '-')"
        shaped = f"regexp_full_match({iso}, {_lit(_TIMESTAMP_SHAPE)})"
        value = f"CASE WHEN {shaped} THEN TRY_CAST({iso} AS TIMESTAMPTZ) END"
        reason = (
            f"CASE {empty}"
            f"WHEN regexp_full_match({c}, {_lit(_EPOCH)}) "
            f"THEN 'epoch numbers are not accepted (use ISO 8601)' "
            f"WHEN {value} IS NULL THEN 'not an ISO 8601 timestamp' END"
        )
        return value, reason
    raise AssertionError(f"no rule for kind {kind}")  # a new Kind must get a rule here
