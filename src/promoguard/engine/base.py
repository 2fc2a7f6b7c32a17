"""What a check is: a small unit with a code, a name, a family, parameters and docs in one shape.

A check finds entities (listings, orders, merchants, buyer groups, reviews, texts) that break a rule.
It is written once and runs on every engine:

- a **relational** check builds an Ibis expression from the canonical tables (``find``), so the same
  code runs on DuckDB and on Spark;
- a **local** check (text matching, graph peeling, MinHash) receives the rows it needs as Arrow
  tables pulled from whichever engine holds the data (``find_local``), so its findings are the same
  whatever the engine.

Either way the engine turns the found rows into findings: stable ids, the pack's legal basis and
severity, ``observed``/``expected`` JSON, and evidence frozen under its SHA-256.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd
    import pyarrow as pa

    from promoguard.engine.cache import ScanCache

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
Basis = Literal["law", "policy"]


@dataclass(frozen=True)
class Parameter:
    """A tunable of a check. ``basis`` says whether the law fixes it or it is a policy choice."""

    name: str
    default: Any
    doc: str
    basis: Basis = "policy"
    unit: str = ""


@dataclass(frozen=True)
class CheckDoc:
    """The rule page, in ruff's shape."""

    what: str  # What it does
    why: str  # Why it is unlawful
    example: str  # Example (a short, concrete case)


@dataclass(frozen=True)
class ChartLevel:
    """A horizontal line a rule asks the report to draw on its entity's chart.

    ``kind`` says what the line is, and the report picks its look: ``claimed`` (what the merchant
    showed or implied), ``lawful`` (what the rule allows), ``context`` (a reference for reading).
    """

    label: str
    value: Any
    kind: Literal["claimed", "lawful", "context"] = "context"


@dataclass(frozen=True)
class GroupRows:
    """Evidence rows that a whole group of findings shows alike, given once per group (REVIEW001:
    a cluster's first members, beside each of the cluster's reviews).

    ``rows`` has a ``group_id`` column and the rows' own columns (no ``entity_id``); ``groups``
    has each found ``entity_id`` (at most once) and its ``group_id``. A finding's rows are its
    group's rows, each with the finding's ``entity_id``: the same document as the expression
    ``groups.join(rows, "group_id").drop("group_id")`` gives, but the engine writes each group's
    canonical JSON once and copies it into each of the group's findings, instead of building,
    sorting and writing one row per finding and member.
    """

    rows: ir.Table
    groups: ir.Table


#: Optional columns of a found row: ``severity`` overrides the pack's severity for that finding
#: (an exemption lowers it, a graver form raises it; NULL keeps the pack's), and
#: ``severity_reason`` says why, in one sentence the finding's ``observed`` JSON carries
#: (docs/exemptions.md).
ROW_SEVERITY_COLUMNS: tuple[str, ...] = ("severity", "severity_reason")
#: Arrow schema metadata key under which a local finder may report coverage details (JSON), e.g.
#: how many entities it could not judge and why; the engine adds them to the check's coverage.
COVERAGE_METADATA = b"promoguard.coverage"

#: Columns every ``find``/``find_local`` result must have. Add the check's own metric columns beside
#: them and name them in ``observed_columns`` / ``expected_columns``. An optional ``entity_type``
#: column overrides the class's ``entity_type`` per row (a check that finds texts and reviews).
FOUND_COLUMNS: tuple[str, ...] = ("entity_id", "merchant_id", "platform_id")


def _ibis_type(duckdb_type: str) -> Any:
    from ibis.backends.sql.datatypes import DuckDBType

    return DuckDBType.from_string(duckdb_type)


class Tables:
    """The canonical tables of one engine, as Ibis tables: ``tables.orders``, ``tables["orders"]``."""

    def __init__(self, backend: Any, names: Mapping[str, str] | None = None) -> None:
        self.backend = backend
        self._names = dict(names or {})
        self._cache: dict[str, ir.Table] = {}
        #: what the running scan keeps (shared relations, found rows); None outside a scan
        self.scan: ScanCache | None = None

    def __getitem__(self, name: str) -> ir.Table:
        if name not in self._cache:
            self._cache[name] = self._canonical(name)
        return self._cache[name]

    def _canonical(self, name: str) -> ir.Table:
        """The table as the current model has it, also in a store made before the model grew.

        A store written by an older release lacks the newer tables (coupons, …) and nullable
        columns (``orders.placed_at``, …), and a scan opens it read-only, so it cannot be migrated
        there. A missing table reads as empty and a missing nullable column as NULL: the rules see
        one schema, and coverage reports such a check "not checked (no coupons)" instead of the
        scan failing.
        """
        import ibis
        from ibis.common.exceptions import TableNotFound

        from promoguard.model import TABLES_BY_NAME

        canonical = TABLES_BY_NAME.get(name)
        try:
            t = self.backend.table(self._names.get(name, name))
        except TableNotFound:
            if canonical is None:
                raise
            schema = ibis.schema({c.name: _ibis_type(c.duckdb_type) for c in canonical.columns})
            return ibis.memtable(schema.to_pyarrow().empty_table())
        if canonical is not None:
            missing = {
                c.name: ibis.null().cast(_ibis_type(c.duckdb_type))
                for c in canonical.columns
                if c.nullable and c.name not in t.columns
            }
            if missing:
                t = t.mutate(**missing)
        return t

    def __getattr__(self, name: str) -> ir.Table:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Run an expression on this engine and bring the rows back as Arrow."""
        return self.backend.to_pyarrow(expr)


@dataclass(frozen=True)
class ScanContext:
    """What a check may know about the scan beyond its parameters."""

    pack: str
    engine: str
    timezone: str = "UTC"
    extra: Mapping[str, Any] = field(default_factory=dict)


class Check:
    """Base class of every check. Subclass it, set the class attributes, implement one finder.

    Parameters reach ``find`` as a plain dict: the check's defaults overlaid with the pack's values.
    """

    code: ClassVar[str]
    name: ClassVar[str]  # short kebab-case name, e.g. "reference-above-prior-price"
    title: ClassVar[str]  # one line for listings
    family: ClassVar[str]  # pricing, coupons, logistics, licensing, brushing, reviews, content
    entity_type: ClassVar[str]  # one of promoguard.model.ENTITY_TYPES
    severity: ClassVar[Severity] = "medium"
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    doc: ClassVar[CheckDoc]
    #: columns of the found rows that go into the finding's ``observed`` / ``expected`` JSON
    observed_columns: ClassVar[tuple[str, ...]] = ()
    expected_columns: ClassVar[tuple[str, ...]] = ()
    #: tables the check reads (documentation, and what a local check is handed)
    reads: ClassVar[tuple[str, ...]] = ()
    #: what the check cannot judge anything without: tables (``"texts"``) or columns that must
    #: hold values (``"orders.promised_delivery_by"``). A scan whose store has no rows there skips
    #: the check and says so ("not checked (no price_observations)"), instead of reporting 0
    #: findings as if it had looked. Empty: the first table of ``reads``.
    requires: ClassVar[tuple[str, ...]] = ()
    #: what a finding depends on, for incremental scans (``promoguard.incremental.DEPENDS_ON``
    #: says what each kind promises): "merchant", "order", "order_horizon", "order_parcels",
    #: "text", or "season" (the safe default) when anything in the season can change it
    depends_on: ClassVar[str] = "season"

    # -- how the report shows the rule's findings (the report asks the rule, never its code) -------
    #: the report section that shows its findings (a section module's name); None: its family
    report_section: ClassVar[str | None] = None
    #: its findings carry personal data: the report never repeats their texts or matches
    personal_data: ClassVar[bool] = False

    # -- finders: implement exactly one ---------------------------------------------------------
    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        """Relational form: an Ibis expression with FOUND_COLUMNS and the metric columns."""
        raise NotImplementedError

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        """Local form: pull what is needed with ``tables.to_arrow(...)``, compute in Python."""
        raise NotImplementedError

    @property
    def is_relational(self) -> bool:
        return type(self).find is not Check.find

    def warm(self, params: dict[str, Any]) -> None:
        """Load now what the finder would load on first use (compiled kernels from numba's
        cache, their modules), so that a caller with a thread to spare pays for it before the
        check starts: ``scan --since`` warms its season-wide checks on the thread that plans the
        scoped ones while they run in another. Nothing by default; results never depend on it,
        and a failure here is the finder's to report when it runs."""

    def input_files(self, params: dict[str, Any]) -> list[str]:
        """The files besides the store's rows that the findings are made from (a lexicon, the
        built-in ones and any a parameter names). A saved scan records a digest of their
        contents (``engine.run.ran_with``), so that ``scan --since`` does not carry findings
        made with a file that has been edited in place since. None by default."""
        return []

    # -- evidence ----------------------------------------------------------------------------------
    def evidence(
        self, tables: Tables, found: ir.Table, params: dict[str, Any], ctx: ScanContext
    ) -> dict[str, ir.Table | GroupRows]:
        """The rows that prove each finding, by name; each expression has an ``entity_id`` column.

        ``found`` is an in-engine table of the found rows (FOUND_COLUMNS + metrics). The engine
        groups the rows by ``entity_id`` into each finding's evidence document. The default keeps
        only the found row itself. Rows that whole groups of findings show alike may be given
        once per group instead (:class:`GroupRows`).
        """
        return {}

    #: Kept evidence (docs/kept.md): a check may define
    #: ``evidence_touched(self, tables, new, found, params, ctx)``, returning the ``entity_id``s
    #: among ``found`` (the found rows, as ``evidence`` gets them) whose evidence rows the rows
    #: added since the previous scan (``new``: Tables of only those rows) can change (an Ibis
    #: table with an ``entity_id`` column, or an Arrow array). In a ``scan --since`` every other
    #: finding that the previous scan had with the same head (found row, observed, expected)
    #: keeps its frozen document; without the method every document is proved again.
    #: ``evidence_version``: bump it with any change to the check's evidence queries (documents
    #: are carried only from a scan that wrote them under the same version).
    evidence_version: ClassVar[str] = "1"
    #: Free-text columns of the evidence, by evidence name (``{"review": ("text",)}``): their
    #: validated identifiers (resident ID, bank card, mobile, e-mail) are masked as the rows are
    #: pulled, as the content rules quote texts, so a review or title naming a phone number does
    #: not copy it into a finding's document (docs/security.md).
    masked_evidence: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    #: Kept evidence, re-heading: True only when the check's evidence queries pick a finding's
    #: rows by ``entity_id`` alone (never by another column of the found row). Then a finding
    #: whose head moved (a count, a score) but whose rows the hook leaves takes S's rows under
    #: its new head. False (the default): such a finding is proved again, because its rows may
    #: follow a found column that moved (BRUSH002 picks the ring's orders at the found row's
    #: ``merchants``; a ring that moved shops keeps its id and its buyers' orders). BRUSH001
    #: picks them so too and declares True: its hook names every block whose shops moved.
    evidence_rows_by_entity: ClassVar[bool] = False

    # -- report hooks ----------------------------------------------------------------------------
    @property
    def section(self) -> str:
        return self.report_section or self.family

    def magnitude(self, observed: dict[str, Any], expected: dict[str, Any]) -> float:
        """How far a finding is from the rule (0 when unknown), to order findings of equal
        severity; ``observed``/``expected`` are the finding's JSON, parsed."""
        return 0.0

    def chart_levels(self, observed: dict[str, Any], expected: dict[str, Any]) -> list[ChartLevel]:
        """Lines to draw on a finding's chart (e.g. the reference and the legal prior price)."""
        return []

    def report_html(self, con: Any, findings: pd.DataFrame) -> str:
        """The rule's own block in its section (HTML, escaped), from its findings in the scan
        (``findings``: rows of the findings table) and the store's connection; "" for none."""
        return ""

    def parameter_defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.parameters}

    def __repr__(self) -> str:
        return f"<{self.code} {self.name}>"
