"""Survey instruments: the shipped files, scoring against hand-computed values, refusals."""

from __future__ import annotations

import re
from pathlib import Path

import platformdirs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from burnout_tui.errors import UserError
from burnout_tui.surveys import (
    Instrument,
    InstrumentError,
    SurveyAnswerError,
    available_instruments,
    find_instrument,
    load_instrument,
    parse_answers,
    score,
    validate_answers,
)
from burnout_tui.surveys.instrument import PACKAGED_DIR, TOTAL

SHIPPED = ("cbi", "checkin", "mbi", "pss10")
PSS_REVERSED = ("q4", "q5", "q7", "q8")
PSS_ITEM_MAX = 4


def packaged(instrument_id: str) -> Instrument:
    return load_instrument(PACKAGED_DIR / f"{instrument_id}.toml")


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user config dir; instruments go in its `instruments` folder."""
    config = tmp_path / "config"
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda _: str(config))
    folder = config / "instruments"
    folder.mkdir(parents=True)
    return folder


def test_every_shipped_instrument_loads(user_dir: Path) -> None:
    files = sorted(path.stem for path in PACKAGED_DIR.glob("*.toml"))
    assert files == list(SHIPPED)
    instruments = available_instruments()
    assert sorted(instruments) == list(SHIPPED)
    for instrument_id, instrument in instruments.items():
        assert instrument.id == instrument_id
        assert instrument.name and instrument.citation and instrument.licence
        assert instrument.burnout_01_description


def test_cbi_structure() -> None:
    cbi = packaged("cbi")
    assert len(cbi.items) == 19
    assert {s.id: len(s.items) for s in cbi.subscales} == {"personal": 6, "work": 7, "client": 6}
    assert [item.id for item in cbi.items if item.reverse] == ["wb7"]
    assert cbi.item("wb7").text == (
        "Do you have enough energy for family and friends during leisure time?"
    )
    degree = {item.id for item in cbi.items if item.scale.labels[-1] == "To a very high degree"}
    assert degree == {"wb1", "wb2", "wb3", "cb1", "cb2", "cb3", "cb4"}
    assert all(item.scale.labels[-1] == "Always" for item in cbi.items if item.id not in degree)
    assert all(s.rescale == (0.0, 100.0) for s in cbi.subscales)


def test_cbi_scores_match_the_manual() -> None:
    cbi = packaged("cbi")
    high = score(cbi, [4] * 19)
    # wb7 reversed: "always enough energy" scores 0, so work-related = 6 x 100 / 7.
    assert high.subscales == pytest.approx({"personal": 100, "work": 600 / 7, "client": 100})
    assert high.total == pytest.approx((200 + 600 / 7) / 3)
    assert high.burnout_01 == pytest.approx((200 + 600 / 7) / 300)
    assert high.category == "high"
    low = score(cbi, [0] * 19)
    assert low.subscales == pytest.approx({"personal": 0, "work": 100 / 7, "client": 0})
    assert low.category == "low"
    worst = score(cbi, [4] * 12 + [0] + [4] * 6)
    assert worst.total == pytest.approx(100)
    assert worst.burnout_01 == pytest.approx(1.0)
    assert worst.category == "severe"


def test_cbi_total_exactly_on_a_band_edge_is_in_the_upper_band() -> None:
    middle = score(packaged("cbi"), [2] * 19)
    assert middle.total == pytest.approx(50)
    assert middle.category == "moderate"


@pytest.mark.parametrize(
    ("answers", "total"),
    [
        ([0] * 10, 16),  # 0 x 6 + (4 - 0) x 4
        ([4] * 10, 24),  # 4 x 6 + (4 - 4) x 4
        ([4, 4, 4, 0, 0, 4, 0, 0, 4, 4], 40),
        ([0, 0, 0, 4, 4, 0, 4, 4, 0, 0], 0),
        ([1, 2, 3, 1, 2, 0, 1, 2, 3, 2], 21),  # (1+2+3+0+3+2) + (3+2+3+2)
        ([3, 3, 2, 1, 1, 2, 1, 3, 3, 2], 25),  # (3+3+2+2+3+2) + (3+3+3+1)
    ],
)
def test_pss10_reverses_items_4_5_7_8(answers: list[int], total: int) -> None:
    pss = packaged("pss10")
    assert [item.id for item in pss.items if item.reverse] == list(PSS_REVERSED)
    result = score(pss, answers)
    assert result.total == total
    assert result.burnout_01 == pytest.approx(total / 40)
    assert result.answers == tuple(answers)


def pss_answers_for(total: int) -> list[int]:
    """Fills the stress items first, then the reversed ones, to reach a given total."""
    pss = packaged("pss10")
    answers: list[int] = []
    remaining = total
    for item in sorted(pss.items, key=lambda item: item.reverse):
        points = min(PSS_ITEM_MAX, remaining)
        remaining -= points
        answers.append(PSS_ITEM_MAX - points if item.reverse else points)
    order = [item.id for item in sorted(pss.items, key=lambda item: item.reverse)]
    return [answers[order.index(item.id)] for item in pss.items]


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "low"), (13, "low"), (14, "moderate"), (26, "moderate"), (27, "high"), (40, "high")],
)
def test_pss10_band_edges(total: int, band: str) -> None:
    result = score(packaged("pss10"), pss_answers_for(total))
    assert result.total == total
    assert result.category == band


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        ((54, 30, 0), 1.0),
        ((0, 0, 48), 0.0),
        ((27, 15, 24), 0.5),
        ((27, 10, 33), (27 / 54 + 10 / 30 + 1 - 33 / 48) / 3),
    ],
)
def test_mbi_normalisation(totals: tuple[int, int, int], expected: float) -> None:
    result = score(packaged("mbi"), list(totals))
    assert result.subscales == dict(zip(("ee", "dp", "pa"), map(float, totals), strict=True))
    assert result.total is None
    assert result.category is None
    assert result.burnout_01 == pytest.approx(expected)


def test_mbi_ranges_are_those_of_the_hss() -> None:
    mbi = packaged("mbi")
    assert [(item.scale.min, item.scale.max) for item in mbi.items] == [(0, 54), (0, 30), (0, 48)]
    with pytest.raises(SurveyAnswerError, match=r"item 1 \(ee\): 55 is out of range.*0 to 54"):
        score(mbi, [55, 0, 0])


@pytest.mark.parametrize(
    ("answers", "expected"),
    [((1, 1, 10), 0.0), ((10, 10, 1), 1.0), ((5, 5, 5), 13 / 27), ((10, 1, 10), 1 / 3)],
)
def test_checkin(answers: tuple[int, int, int], expected: float) -> None:
    result = score(packaged("checkin"), list(answers))
    stress, fatigue, motivation = map(float, answers)
    assert result.subscales == {"stress": stress, "fatigue": fatigue, "motivation": motivation}
    assert result.burnout_01 == pytest.approx(expected)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([4] * 18, r"cbi has 19 items but 18 answers were given; item 19 \(cb6\) has no answer"),
        ([4] * 20, r"cbi has 19 items but 20 answers were given"),
        ([4, None, *[4] * 17], r"cbi item 2 \(pb2\) has no answer: .*0 \(Never / almost never\)"),
        ([4] * 6 + [5] + [4] * 12, r"cbi item 7 \(wb1\): 5 is out of range.*To a very high degree"),
        ([-1] + [4] * 18, r"cbi item 1 \(pb1\): -1 is out of range; .* 0 .* to 4 "),
        ([4, True, *[4] * 17], r"cbi item 2 \(pb2\): True is not a whole number"),
        ([4, 2.5, *[4] * 17], r"cbi item 2 \(pb2\): 2.5 is not a whole number"),
    ],
)
def test_bad_answers_are_refused(answers: list[int | None], message: str) -> None:
    with pytest.raises(SurveyAnswerError, match=message) as caught:
        score(packaged("cbi"), answers)
    assert isinstance(caught.value, UserError)


def test_the_first_bad_answer_is_named() -> None:
    with pytest.raises(SurveyAnswerError, match=r"item 3 \(q3\)"):
        validate_answers(packaged("pss10"), [0, 0, 9, None, 0, 0, 0, 0, 0, 0])


def test_parse_answers() -> None:
    assert parse_answers("3,2,0") == [3, 2, 0]
    assert parse_answers(" 3, 2 ,10 ") == [3, 2, 10]
    assert parse_answers("-1") == [-1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no answers given"),
        ("  ", "no answers given"),
        ("3,x,2", "answer 2 'x' is not a whole number"),
        ("3,2.5", r"answer 2 '2\.5' is not a whole number"),
        ("3,,2", "answer 2 is empty"),
        ("3,2,", "answer 3 is empty"),
        ("3;2", "answer 1 '3;2' is not a whole number"),
    ],
)
def test_parse_answers_refuses(text: str, message: str) -> None:
    with pytest.raises(SurveyAnswerError, match=message):
        parse_answers(text)


def test_parsed_answers_of_wrong_count_are_refused_by_score() -> None:
    with pytest.raises(SurveyAnswerError, match="pss10 has 10 items but 3 answers"):
        score(packaged("pss10"), parse_answers("3,2,1"))


@st.composite
def valid_answers(draw: st.DrawFn, instrument: Instrument) -> list[int]:
    return [draw(st.integers(item.scale.min, item.scale.max)) for item in instrument.items]


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_scores_stay_in_range_for_any_valid_answers(instrument_id: str) -> None:
    instrument = packaged(instrument_id)

    @given(valid_answers(instrument))
    def check(answers: list[int]) -> None:
        result = score(instrument, answers)
        assert 0.0 <= result.burnout_01 <= 1.0
        for subscale_id, value in result.subscales.items():
            low, high = instrument.score_range(subscale_id)
            assert low <= value <= high
        if instrument.total is not None:
            assert result.total is not None
            low, high = instrument.score_range(TOTAL)
            assert low <= result.total <= high
        assert (result.category is not None) == bool(instrument.categories)

    check()


CUSTOM = """
id = "{id}"
name = "Custom"

[scale]
min = 1
max = 5

[[items]]
id = "a"
text = "First?"

[[items]]
id = "b"
text = "Second?"
reverse = true

[subscales.both]
items = ["a", "b"]
method = "sum"

[total]
method = "sum"

[[categories]]
min = 2
label = "low"

[[categories]]
min = 6
label = "high"

[burnout_01]
description = "Sum of a and reversed b, from 2-10 onto 0-1."
terms = [{{ score = "total" }}]
"""


def test_user_instruments_extend_and_override(user_dir: Path) -> None:
    (user_dir / "mine.toml").write_text(CUSTOM.format(id="mine"))
    (user_dir / "checkin.toml").write_text(CUSTOM.format(id="checkin"))
    (user_dir / "notes.txt").write_text("not an instrument")
    instruments = available_instruments()
    assert sorted(instruments) == sorted([*SHIPPED, "mine"])
    assert instruments["checkin"].source == user_dir / "checkin.toml"
    assert [item.id for item in instruments["checkin"].items] == ["a", "b"]
    assert instruments["cbi"].source == PACKAGED_DIR / "cbi.toml"
    result = score(find_instrument("mine"), [5, 1])
    assert result.subscales == {"both": 10.0}
    assert result.category == "high"
    assert result.burnout_01 == 1.0


def test_two_user_files_with_one_id_are_both_skipped(user_dir: Path) -> None:
    (user_dir / "a.toml").write_text(CUSTOM.format(id="mine"))
    (user_dir / "b.toml").write_text(CUSTOM.format(id="mine"))
    warnings: list[str] = []
    instruments = available_instruments(warnings.append)
    assert sorted(instruments) == sorted(SHIPPED)
    [warning] = warnings
    assert re.search(r"b\.toml: id: 'mine' is already used by .*a\.toml", warning)


def test_unknown_instrument_lists_the_known_ones(user_dir: Path) -> None:
    with pytest.raises(InstrumentError, match="unknown instrument 'nope'; available: cbi, checkin"):
        find_instrument("nope")


def test_readme_example_is_a_valid_instrument(tmp_path: Path) -> None:
    readme = (PACKAGED_DIR / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```toml\n(.*?)```", readme, re.DOTALL)
    assert match is not None
    path = tmp_path / "mbi-gs.toml"
    path.write_text(match.group(1))
    example = load_instrument(path)
    assert score(example, [30, 30, 0]).burnout_01 == 1.0


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('name = "Custom"', 'name = "Custom', r"invalid TOML"),
        ('id = "mine"', "", r": id: missing"),
        ('id = "mine"', 'id = "Mine!"', r": id: use lower-case"),
        ("reverse = true", "reversed = true", r": items\[2\]\.reversed: unknown key"),
        ("reverse = true", 'reverse = "yes"', r": items\[2\]\.reverse: must be true or false"),
        ('text = "Second?"', "", r": items\[2\]\.text: missing"),
        ('id = "b"', 'id = "a"', r": items\[2\]\.id: 'a' is used by an earlier item"),
        ("max = 5", "max = 1", r": scale\.max: must be greater than min"),
        ("max = 5", 'max = 5\nlabels = ["x", "y"]', r": scale\.labels: has 2 labels but .* 5"),
        ('text = "First?"', 'text = "First?"\nscale = "odd"', r"items\[1\]\.scale: 'odd' is not"),
        ('items = ["a", "b"]', 'items = ["a", "c"]', r"subscales\.both\.items: 'c' is not"),
        ('method = "sum"\n\n[total]', 'method = "median"\n\n[total]', r"both\.method: must be"),
        ("min = 6", "min = 2", r"categories\[2\]\.min: .*strictly increasing"),
        ("min = 2", "min = 3", r"categories\[1\]\.min: must be at most 2"),
        ('score = "total"', 'score = "al"', r"burnout_01\.terms\[1\]\.score: 'al' is not"),
        ('description = "Sum', 'descr = "Sum', r"burnout_01\.descr: unknown key"),
        ('[total]\nmethod = "sum"\n', "", r"categories: need a \[total\] table"),
        ("[subscales.both]", "[subscales.total]", r"subscales\.total: 'total' is reserved"),
    ],
)
def test_malformed_files_name_file_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = CUSTOM.format(id="mine")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InstrumentError, match=message) as caught:
        load_instrument(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id = ", r"broken\.toml: invalid TOML"),
        (CUSTOM.format(id="mine").replace("Custom", "Caf\xe9").encode("latin-1"), r"not UTF-8"),
        (CUSTOM.format(id="checkin").replace("max = 5", "max = 1").encode(), r"scale\.max"),
    ],
    ids=["toml", "encoding", "schema"],
)
def test_a_broken_user_file_is_skipped_with_a_warning(
    user_dir: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    """The shipped instruments (checkin included, which the broken file meant to replace)
    stay available, and the user's good file still loads."""
    (user_dir / "broken.toml").write_bytes(content)
    (user_dir / "mine2.toml").write_text(CUSTOM.format(id="mine2"))
    instruments = available_instruments()
    assert sorted(instruments) == sorted([*SHIPPED, "mine2"])
    assert instruments["checkin"].source == PACKAGED_DIR / "checkin.toml"
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"warning: {user_dir / 'broken.toml'}")
    assert re.search(message, line)
    assert find_instrument("cbi").id == "cbi"


def test_non_utf8_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(CUSTOM.format(id="mine").replace("Custom", "Caf\xe9").encode("latin-1"))
    with pytest.raises(InstrumentError, match="not UTF-8") as caught:
        load_instrument(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match="cannot read instrument file"):
        load_instrument(tmp_path / "absent.toml")
