"""Survey instruments as data: frozen definitions read from one TOML file per instrument.

Instruments are files rather than code so that a user can add a questionnaire (or the
licensed items of one we cannot ship) without touching the program. Because a typo in such
a file would silently change scores, the loader refuses unknown keys and inconsistent
references and names the file and the field in a single line. The file format is
described in `instruments/README.md`.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, NoReturn, cast

import platformdirs

from burnout_tui.config import APP_NAME
from burnout_tui.errors import UserError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

Method = Literal["mean", "sum"]
TotalOf = Literal["items", "subscales"]

METHODS: tuple[Method, ...] = ("mean", "sum")
TOTAL_OF: tuple[TotalOf, ...] = ("items", "subscales")

TOTAL = "total"
"""How a burnout_01 term names the total, so no subscale may take this id."""

PACKAGED_DIR = Path(__file__).resolve().parent / "instruments"
USER_SUBDIR = "instruments"
INSTRUMENT_GLOB = "*.toml"

Warn = Callable[[str], None]
"""Receives one line per user instrument file that was skipped."""

_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
"""Instrument ids are typed after `--instrument` and stored with every survey: keep them plain."""


class InstrumentError(UserError):
    """An instrument file is unreadable or inconsistent, or an instrument id is unknown."""


@dataclass(frozen=True, slots=True)
class Scale:
    """The whole numbers an answer may take, with an optional label for each of them."""

    min: int
    max: int
    labels: tuple[str, ...] = ()

    def describe(self) -> str:
        """Error messages and prompts show the labelled ends, so the user sees what 0 means."""
        if not self.labels:
            return f"{self.min} to {self.max}"
        return f"{self.min} ({self.labels[0]}) to {self.max} ({self.labels[-1]})"


@dataclass(frozen=True, slots=True)
class Item:
    """One question; `reverse` marks a positively worded one whose score is min + max - answer."""

    id: str
    text: str
    scale: Scale
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Subscale:
    """Items combined into one score, optionally mapped linearly onto `rescale` (e.g. 0-100)."""

    id: str
    label: str
    items: tuple[str, ...]
    method: Method = "mean"
    rescale: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class Total:
    method: Method
    of: TotalOf


@dataclass(frozen=True, slots=True)
class Band:
    """A category from `min` (inclusive) up to the next band's min.

    Bands carry lower bounds only, so a mean such as 49.6 can never fall between two bands.
    """

    min: float
    label: str


@dataclass(frozen=True, slots=True)
class Burnout01Term:
    """A subscale id or "total", normalised from its range to 0-1 and optionally flipped."""

    score: str
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Instrument:
    id: str
    name: str
    items: tuple[Item, ...]
    burnout_01_description: str
    burnout_01_terms: tuple[Burnout01Term, ...]
    subscales: tuple[Subscale, ...] = ()
    total: Total | None = None
    categories: tuple[Band, ...] = ()
    description: str = ""
    citation: str = ""
    licence: str = ""
    instructions: str = ""
    source: Path | None = None

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def subscale(self, subscale_id: str) -> Subscale:
        for subscale in self.subscales:
            if subscale.id == subscale_id:
                return subscale
        raise KeyError(subscale_id)

    def raw_range(self, subscale: Subscale) -> tuple[float, float]:
        """The subscale's range before `rescale`, which is the source range of that mapping."""
        scales = [self.item(item_id).scale for item_id in subscale.items]
        return (
            aggregate(subscale.method, [scale.min for scale in scales]),
            aggregate(subscale.method, [scale.max for scale in scales]),
        )

    def score_range(self, name: str) -> tuple[float, float]:
        """Lowest and highest value of a subscale or of "total".

        burnout_01 normalises against this range, so it is derived from the scales rather
        than written in the file, where it could disagree with them. Mean and sum are
        monotonic and reversal keeps an item's range, so the ends come from all-min and
        all-max answers.
        """
        if name != TOTAL:
            subscale = self.subscale(name)
            return subscale.rescale or self.raw_range(subscale)
        if self.total is None:
            raise KeyError(TOTAL)
        ranges: list[tuple[float, float]]
        if self.total.of == "items":
            ranges = [(item.scale.min, item.scale.max) for item in self.items]
        else:
            ranges = [self.score_range(subscale.id) for subscale in self.subscales]
        return (
            aggregate(self.total.method, [low for low, _ in ranges]),
            aggregate(self.total.method, [high for _, high in ranges]),
        )


def aggregate(method: Method, values: Sequence[float]) -> float:
    total = math.fsum(values)
    return total / len(values) if method == "mean" else total


def rescale(value: float, source: tuple[float, float], target: tuple[float, float]) -> float:
    (source_low, source_high), (target_low, target_high) = source, target
    fraction = (value - source_low) / (source_high - source_low)
    return target_low + fraction * (target_high - target_low)


def user_instruments_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / USER_SUBDIR


def warn_on_stderr(message: str) -> None:
    """The default for `available_instruments`' warnings: one line each on stderr."""
    sys.stderr.write(f"warning: {message}\n")


def available_instruments(warn: Warn = warn_on_stderr) -> dict[str, Instrument]:
    """Packaged instruments, then the user's; a user file replaces a packaged one of its id.

    The packaged files are part of the program, so one that fails to load is an error. A
    user's file that fails (bad encoding, TOML or schema, or an id another of their files
    already uses) is skipped with one `warn` line naming it, so a typo in one file never
    takes the validated questionnaires away; scores are never computed from a file that
    did not load in full.
    """
    instruments = _load_dir(PACKAGED_DIR, None)
    instruments.update(_load_dir(user_instruments_dir(), warn))
    return instruments


def find_instrument(instrument_id: str, warn: Warn = warn_on_stderr) -> Instrument:
    instruments = available_instruments(warn)
    try:
        return instruments[instrument_id]
    except KeyError:
        known = ", ".join(sorted(instruments))
        raise InstrumentError(f"unknown instrument {instrument_id!r}; available: {known}") from None


def _load_dir(folder: Path, warn: Warn | None) -> dict[str, Instrument]:
    """Every instrument in `folder`; with `warn`, a file that fails is reported and skipped,
    without it the first failure raises. Two files of one id are both refused: which one
    wins would be arbitrary."""
    instruments: dict[str, Instrument] = {}
    if not folder.is_dir():
        return instruments
    clashing: set[str] = set()
    for path in sorted(folder.glob(INSTRUMENT_GLOB)):
        try:
            instrument = load_instrument(path)
            previous = instruments.get(instrument.id)
            if previous is not None or instrument.id in clashing:
                clashing.add(instrument.id)
                instruments.pop(instrument.id, None)
                first = "an earlier file" if previous is None else str(previous.source)
                raise InstrumentError(
                    f"{path}: id: {instrument.id!r} is already used by {first} (both files skipped)"
                )
        except InstrumentError as error:
            if warn is None:
                raise
            warn(f"{error}; instrument file skipped")
            continue
        instruments[instrument.id] = instrument
    return instruments


def load_instrument(path: Path) -> Instrument:
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise InstrumentError(f"cannot read instrument file {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise InstrumentError(
            f"{path}: not UTF-8 text (byte {error.start}): save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise InstrumentError(f"{path}: invalid TOML: {error}") from None
    return _Reader(path).instrument(data)


class _Reader:
    """Turns the parsed TOML into an Instrument; every error names the file and the field."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, field: str, problem: str) -> NoReturn:
        raise InstrumentError(f"{self.path}: {field}: {problem}")

    def table(self, value: object, field: str, allowed: set[str]) -> dict[str, Any]:
        """Unknown keys are errors: a misspelt `reverse` would otherwise change the scores."""
        if not isinstance(value, dict):
            self.fail(field, "must be a table")
        for key in value:
            if key not in allowed:
                where = f"{field}.{key}" if field else key
                self.fail(where, f"unknown key (allowed: {', '.join(sorted(allowed))})")
        return cast(dict[str, Any], value)

    def named_tables(self, value: object, field: str) -> dict[str, object]:
        """`[scales.NAME]` and `[subscales.NAME]`: the names are the user's, the values tables."""
        if not isinstance(value, dict):
            self.fail(field, "must be a table of named tables")
        return cast(dict[str, object], value)

    def string(
        self, table: dict[str, Any], key: str, field: str, default: str | None = None
    ) -> str:
        """Required when no default is given; stripped, as multi-line values start on a new line."""
        where = f"{field}.{key}" if field else key
        if key not in table:
            if default is None:
                self.fail(where, "missing")
            return default
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(where, "must be a non-empty string")
        return value.strip()

    def integer(self, table: dict[str, Any], key: str, field: str) -> int:
        if key not in table:
            self.fail(f"{field}.{key}", "missing")
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{field}.{key}", "must be a whole number")
        return value

    def number(self, value: object, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(field, "must be a number")
        if not math.isfinite(value):
            self.fail(field, "must be finite")
        return float(value)

    def boolean(self, table: dict[str, Any], key: str, field: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            self.fail(f"{field}.{key}", "must be true or false")
        return value

    def choice(self, table: dict[str, Any], key: str, field: str, options: tuple[str, ...]) -> str:
        value = table.get(key, options[0])
        if value not in options:
            self.fail(f"{field}.{key}", f"must be one of {', '.join(options)}, not {value!r}")
        return cast(str, value)

    def array_of_tables(self, value: object, field: str) -> list[object]:
        if not isinstance(value, list) or not value:
            self.fail(field, "must be a non-empty array of tables")
        return cast(list[object], value)

    def instrument(self, data: dict[str, Any]) -> Instrument:
        top = self.table(
            data,
            "",
            {
                "id",
                "name",
                "description",
                "citation",
                "licence",
                "instructions",
                "scale",
                "scales",
                "items",
                "subscales",
                "total",
                "categories",
                "burnout_01",
            },
        )
        instrument_id = self.string(top, "id", "")
        if not _ID_PATTERN.fullmatch(instrument_id):
            self.fail("id", "use lower-case letters, digits, '-' and '_' only")
        default_scale = self.scale(top["scale"], "scale") if "scale" in top else None
        named = self.named_tables(top.get("scales", {}), "scales")
        scales = {name: self.scale(value, f"scales.{name}") for name, value in named.items()}
        items = self.items(top.get("items"), default_scale, scales)
        subscales = self.subscales(top.get("subscales", {}), {item.id for item in items})
        total = self.total(top["total"], subscales) if "total" in top else None
        if "categories" in top and total is None:
            self.fail("categories", "need a [total] table: bands are applied to the total")
        burnout_01_description, terms = self.burnout_01(top.get("burnout_01"), subscales, total)
        instrument = Instrument(
            id=instrument_id,
            name=self.string(top, "name", ""),
            items=items,
            burnout_01_description=burnout_01_description,
            burnout_01_terms=terms,
            subscales=subscales,
            total=total,
            description=self.string(top, "description", "", ""),
            citation=self.string(top, "citation", "", ""),
            licence=self.string(top, "licence", "", ""),
            instructions=self.string(top, "instructions", "", ""),
            source=self.path,
        )
        if "categories" in top:
            instrument = self.with_categories(instrument, top["categories"])
        return instrument

    def scale(self, value: object, field: str) -> Scale:
        table = self.table(value, field, {"min", "max", "labels"})
        low = self.integer(table, "min", field)
        high = self.integer(table, "max", field)
        if high <= low:
            self.fail(f"{field}.max", f"must be greater than min ({low})")
        labels = table.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            self.fail(f"{field}.labels", "must be an array of strings")
        points = high - low + 1
        if labels and len(labels) != points:
            self.fail(
                f"{field}.labels",
                f"has {len(labels)} labels but the scale has {points} points ({low} to {high})",
            )
        return Scale(min=low, max=high, labels=tuple(labels))

    def items(
        self, value: object, default_scale: Scale | None, scales: dict[str, Scale]
    ) -> tuple[Item, ...]:
        items: list[Item] = []
        for number, entry in enumerate(self.array_of_tables(value, "items"), start=1):
            field = f"items[{number}]"
            table = self.table(entry, field, {"id", "text", "reverse", "scale"})
            item_id = self.string(table, "id", field)
            if any(item.id == item_id for item in items):
                self.fail(f"{field}.id", f"{item_id!r} is used by an earlier item")
            scale_name = table.get("scale")
            if scale_name is None:
                if default_scale is None:
                    self.fail(f"{field}.scale", "missing, and the file has no [scale] table")
                scale = default_scale
            elif isinstance(scale_name, str) and scale_name in scales:
                scale = scales[scale_name]
            else:
                self.fail(f"{field}.scale", f"{scale_name!r} is not a [scales.NAME] table")
            items.append(
                Item(
                    id=item_id,
                    text=self.string(table, "text", field),
                    scale=scale,
                    reverse=self.boolean(table, "reverse", field),
                )
            )
        return tuple(items)

    def subscales(self, value: object, item_ids: set[str]) -> tuple[Subscale, ...]:
        named = self.named_tables(value, "subscales")
        subscales: list[Subscale] = []
        for subscale_id, entry in named.items():
            field = f"subscales.{subscale_id}"
            if subscale_id == TOTAL:
                self.fail(field, f"{TOTAL!r} is reserved for the total")
            table = self.table(entry, field, {"label", "items", "method", "rescale"})
            members = table.get("items")
            if not isinstance(members, list) or not members:
                self.fail(f"{field}.items", "must be a non-empty array of item ids")
            for member in members:
                if not isinstance(member, str) or member not in item_ids:
                    self.fail(f"{field}.items", f"{member!r} is not the id of an item")
            if len(set(members)) != len(members):
                self.fail(f"{field}.items", "lists an item twice")
            subscales.append(
                Subscale(
                    id=subscale_id,
                    label=self.string(table, "label", field, subscale_id),
                    items=tuple(members),
                    method=cast(Method, self.choice(table, "method", field, METHODS)),
                    rescale=self.rescale(table["rescale"], field) if "rescale" in table else None,
                )
            )
        return tuple(subscales)

    def rescale(self, value: object, field: str) -> tuple[float, float]:
        where = f"{field}.rescale"
        if not isinstance(value, list) or len(value) != 2:
            self.fail(where, "must be [low, high]")
        low, high = (self.number(end, where) for end in value)
        if high <= low:
            self.fail(where, "high must be greater than low")
        return low, high

    def total(self, value: object, subscales: tuple[Subscale, ...]) -> Total:
        table = self.table(value, "total", {"method", "of"})
        total = Total(
            method=cast(Method, self.choice(table, "method", "total", METHODS)),
            of=cast(TotalOf, self.choice(table, "of", "total", TOTAL_OF)),
        )
        if total.of == "subscales" and not subscales:
            self.fail("total.of", "is 'subscales' but the file defines none")
        return total

    def burnout_01(
        self, value: object, subscales: tuple[Subscale, ...], total: Total | None
    ) -> tuple[str, tuple[Burnout01Term, ...]]:
        if value is None:
            self.fail("burnout_01", "missing: every instrument must say how it maps onto 0-1")
        table = self.table(value, "burnout_01", {"description", "terms"})
        known = {subscale.id for subscale in subscales} | ({TOTAL} if total else set())
        terms: list[Burnout01Term] = []
        for number, entry in enumerate(
            self.array_of_tables(table.get("terms"), "burnout_01.terms"), 1
        ):
            field = f"burnout_01.terms[{number}]"
            term = self.table(entry, field, {"score", "reverse"})
            name = term.get("score")
            if not isinstance(name, str) or name not in known:
                options = ", ".join(sorted(known)) or "none: define subscales or a total"
                self.fail(f"{field}.score", f"{name!r} is not a subscale or total ({options})")
            terms.append(Burnout01Term(score=name, reverse=self.boolean(term, "reverse", field)))
        return self.string(table, "description", "burnout_01"), tuple(terms)

    def with_categories(self, instrument: Instrument, value: object) -> Instrument:
        """Bands are checked against the total's range, so they are read once the rest is known."""
        bands: list[Band] = []
        for number, entry in enumerate(self.array_of_tables(value, "categories"), start=1):
            field = f"categories[{number}]"
            table = self.table(entry, field, {"min", "label"})
            if "min" not in table:
                self.fail(f"{field}.min", "missing")
            band = Band(
                min=self.number(table["min"], f"{field}.min"),
                label=self.string(table, "label", field),
            )
            if bands and band.min <= bands[-1].min:
                self.fail(f"{field}.min", "bands must be listed with strictly increasing min")
            bands.append(band)
        lowest, _ = instrument.score_range(TOTAL)
        if bands[0].min > lowest:
            self.fail(
                "categories[1].min",
                f"must be at most {lowest:g}, the lowest possible total, so every total has a band",
            )
        return replace(instrument, categories=tuple(bands))


__all__ = [
    "PACKAGED_DIR",
    "TOTAL",
    "Band",
    "Burnout01Term",
    "Instrument",
    "InstrumentError",
    "Item",
    "Method",
    "Scale",
    "Subscale",
    "Total",
    "aggregate",
    "available_instruments",
    "find_instrument",
    "load_instrument",
    "rescale",
    "user_instruments_dir",
    "warn_on_stderr",
]
