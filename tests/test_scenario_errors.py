"""Every kind of bad input ends in one ScenarioError naming the file and the key.

Through the Python API (``sim.loads``, ``sim.load``), so these are fast. Each
message must name the file (the path string as given), the key, what was
expected and what was found; an unknown name comes with the nearest valid one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import sim
from sim.scenario import shipped

EVENT = '[[events]]\nday = 10\nbrand = "ours"\nlever = "quality"\nvalue = 0.3\n'


def event(**fields) -> str:
    """One [[events]] table; a field set to None is left out."""
    base = {"day": 10, "brand": '"ours"', "lever": '"quality"', "value": 0.3}
    base.update(fields)
    lines = [f"{k} = {v}" for k, v in base.items() if v is not None]
    return "[[events]]\n" + "\n".join(lines) + "\n"


# (id, scenario text, the key the message must name, other substrings it must contain)
CASES = [
    # unknown keys, with the nearest valid name suggested
    ("unknown_key_in_table", "[populaton]\nsize = 300\n",
     "populaton.size", ["unknown key", "did you mean 'population.size'"]),
    ("unknown_key_misspelt_leaf", "[sharing]\nnegative_multiplyer = 2\n",
     "sharing.negative_multiplyer", ["unknown key", "did you mean 'sharing.negative_multiplier'"]),
    ("unknown_top_level_key", "stepz = 100\n",
     "stepz", ["unknown key", "did you mean 'steps'"]),
    ("unknown_dotted_key", "journey.discovry = 0.5\n",
     "journey.discovry", ["unknown key", "did you mean 'journey.discovery'"]),
    ("unknown_brand_lever", "[brands.ours]\nqualty = 0.5\n",
     "brands.ours.qualty", ["unknown brand lever 'qualty'", "expected one of", "did you mean 'quality'"]),
    ("unknown_about_key", '[about]\ntitel = "x"\n',
     "about.titel", ["unknown key", "expected one of", "did you mean 'title'"]),
    # a brand table for a brand that market.brands does not list
    ("brand_not_in_market", "[brands.mine]\nquality = 0.5\n",
     "brands.mine.quality", ["no brand 'mine'", "market.brands", "'ours'", "'theirs'"]),
    ("brand_typo_in_market", "[brands.our]\nquality = 0.5\n",
     "brands.our.quality", ["no brand 'our'", "did you mean 'ours'"]),
    # wrong types: float, bool, int, str, list, and a table where a value belongs
    ("wrong_type_float", '[sharing]\nnegative_multiplier = "four"\n',
     "sharing.negative_multiplier", ["expected a number", "found 'four'"]),
    ("wrong_type_bool", '[market]\nnew_category = "yes"\n',
     "market.new_category", ["expected true or false", "found 'yes'"]),
    ("wrong_type_bool_as_int", "[market]\nnew_category = 1\n",
     "market.new_category", ["expected true or false", "found 1"]),
    ("wrong_type_int_float", "steps = 3.5\n",
     "steps", ["expected an integer", "found 3.5"]),
    ("wrong_type_int_bool", "seed = true\n",
     "seed", ["expected an integer", "found True"]),
    ("wrong_type_int_str", '[market]\nshare_window = "ten"\n',
     "market.share_window", ["expected an integer", "found 'ten'"]),
    ("wrong_type_str", "[network]\nfile = 3\n",
     "network.file", ["expected a string", "found 3"]),
    ("wrong_type_list_str", '[market]\nbrands = "ours"\n',
     "market.brands", ["expected a list of names", "found 'ours'"]),
    ("wrong_type_list_empty", "[market]\nbrands = []\n",
     "market.brands", ["expected a list of names", "found []"]),
    ("wrong_type_list_items", "[market]\nbrands = [1, 2]\n",
     "market.brands", ["expected a list of names", "found [1, 2]"]),
    ("wrong_type_table_for_value", "[population.size]\nvalue = 300\n",
     "population.size", ["expected an integer", "found {'value': 300}"]),
    ("wrong_type_brand_lever", '[brands.ours]\nprice = "cheap"\n',
     "brands.ours.price", ["expected a number", "found 'cheap'"]),
    ("not_a_number", "[population]\nsusceptibility = nan\n",
     "population.susceptibility", ["expected a number in [0, 1]", "found nan"]),
    # a choice outside network.kind's choices
    ("choice_outside", '[network]\nkind = "smallworld"\n',
     "network.kind", ["expected one of 'small_world'", "found 'smallworld'", "did you mean 'small_world'"]),
    # probabilities outside [0, 1]
    ("probability_above_one", "[sharing]\npublic_fraction = 1.5\n",
     "sharing.public_fraction", ["expected a number in [0, 1]", "found 1.5"]),
    ("probability_below_zero", "[wom]\nreach = -0.1\n",
     "wom.reach", ["expected a number in [0, 1]", "found -0.1"]),
    ("brand_probability_above_one", "[brands.theirs]\nquality = 1.2\n",
     "brands.theirs.quality", ["expected a number in [0, 1]", "found 1.2"]),
    # non-positive population (and other positive quantities)
    ("population_zero", "[population]\nsize = 0\n",
     "population.size", ["expected an integer > 0", "found 0"]),
    ("population_negative", "[population]\nsize = -5\n",
     "population.size", ["expected an integer > 0", "found -5"]),
    ("steps_zero", "steps = 0\n",
     "steps", ["expected an integer > 0", "found 0"]),
    ("negative_multiplier_negative", "[sharing]\nnegative_multiplier = -1\n",
     "sharing.negative_multiplier", ["expected a number >= 0", "found -1"]),
    ("sharing_chance_above_one", "[sharing]\nbase_propensity = 0.5\nnegative_multiplier = 4\n",
     "sharing.base_propensity", ["expected base_propensity x negative_multiplier <= 1",
                                 "found 0.5 x 4 = 2"]),
    ("channel_mix_all_zero",
     "[population.channel_mix]\ncomputer = 0\nsmartphone = 0\npress_mail = 0\nin_person = 0\n",
     "population.channel_mix", ["expected weights with a positive sum", "found all zero"]),
    # events
    ("event_missing_brand", event(brand='"mine"'),
     "events[0].brand", ["expected one of ['ours', 'theirs']", "found 'mine'"]),
    ("event_unknown_lever", event(lever='"qualty"'),
     "events[0].lever", ["expected one of quality", "found 'qualty'", "did you mean 'quality'"]),
    ("event_initial_lever", event(lever='"initial_awareness"'),
     "events[0].lever", ["expected one of", "found 'initial_awareness'"]),
    ("event_missing_value", event(value=None),
     "events[0].value", ["missing", "an event needs day, brand, lever, value"]),
    ("event_missing_day", event(day=None),
     "events[0].day", ["missing", "an event needs day, brand, lever, value"]),
    ("event_unknown_key", event() + "valeu = 1\n",
     "events[0].valeu", ["unknown key", "expected one of day, brand, lever, value",
                         "did you mean 'value'"]),
    ("event_day_negative", event(day=-1),
     "events[0].day", ["expected an integer >= 0", "found -1"]),
    ("event_day_float", event(day=1.5),
     "events[0].day", ["expected an integer >= 0", "found 1.5"]),
    ("event_value_out_of_range", event(value=1.3),
     "events[0].value", ["expected a number in [0, 1]", "found 1.3"]),
    ("event_value_wrong_type", event(value='"high"'),
     "events[0].value", ["expected a number", "found 'high'"]),
    ("second_event_names_its_index", EVENT + event(brand='"mine"'),
     "events[1].brand", ["found 'mine'"]),
    ("events_not_an_array", "[events]\nday = 1\n",
     "events", ["expected an array of tables", "found {'day': 1}"]),
    ("event_not_a_table", "events = [1]\n",
     "events[0]", ["expected a table with day, brand, lever, value", "found 1"]),
    # malformed TOML
    ("malformed_toml", "steps = 100\n[population\nsize = 300\n",
     "", ["malformed TOML", "line 2"]),
    ("malformed_toml_value", "steps = = 3\n",
     "", ["malformed TOML", "line 1"]),
]


def _check(message: str, source: str, key: str, must: list[str]) -> None:
    assert "\n" not in message, f"one line expected: {message!r}"
    assert source in message, f"file {source!r} not named in {message!r}"
    if key:
        assert key in message, f"key {key!r} not named in {message!r}"
    for part in must:
        assert part in message, f"{part!r} not in {message!r}"


@pytest.mark.parametrize("text,key,must", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_loads_names_file_and_key(tmp_path, text, key, must):
    source = str(tmp_path / "my_scenario.toml")
    with pytest.raises(sim.ScenarioError) as info:
        sim.loads(text, path=source)
    _check(str(info.value), source, key, must)


@pytest.mark.parametrize("text,key,must", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_load_file_names_file_and_key(tmp_path, text, key, must):
    path = tmp_path / "my_scenario.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load(path)
    _check(str(info.value), str(path), key, must)


def test_scenario_error_is_a_value_error():
    assert issubclass(sim.ScenarioError, ValueError)


def test_the_valid_cases_load():
    """Sanity: the cases above fail because of the mistake, not of the surrounding text."""
    scenario = sim.loads("[population]\nsize = 300\n" + EVENT, path="fine.toml")
    assert scenario.params["population.size"] == 300
    assert [e.as_dict() for e in scenario.params.events] == [
        {"day": 10, "brand": "ours", "lever": "quality", "value": 0.3}]


# --- mistakes of form: wrong types where tables or names were expected ------------------

@pytest.mark.parametrize("brand", ['["ours"]', '{name = "ours"}'], ids=["list", "table"])
def test_event_brand_of_wrong_type(brand):
    with pytest.raises(sim.ScenarioError) as info:
        sim.loads(event(brand=brand), path="shop.toml")
    _check(str(info.value), "shop.toml", "events[0].brand", ["expected one of"])


def test_brand_given_a_value_instead_of_a_table():
    with pytest.raises(sim.ScenarioError) as info:
        sim.loads("brands.ours = 3\n", path="shop.toml")
    _check(str(info.value), "shop.toml", "brands.ours", ["expected", "found 3"])


def test_unknown_key_with_a_newline_stays_one_line():
    with pytest.raises(sim.ScenarioError) as info:
        sim.loads('"steps\\nx" = 1\n', path="shop.toml")
    assert "\n" not in str(info.value)


# --- the edge-list file (network.kind = "file") --------------------------------------------

def _network_scenario(folder: Path, file: str | None, name: str = "net.toml") -> Path:
    text = '[network]\nkind = "file"\n'
    if file is not None:
        text += f"file = {file!r}\n"
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _edge_error(path: Path) -> str:
    with pytest.raises(sim.ScenarioError) as info:
        sim.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message and "network.file" in message
    return message


def test_edge_list_kind_file_without_file(tmp_path):
    message = _edge_error(_network_scenario(tmp_path, None))
    assert "expected an edge-list file" in message and "found nothing" in message


def test_edge_list_missing_file(tmp_path):
    message = _edge_error(_network_scenario(tmp_path, "no_such_edges.txt"))
    assert "no_such_edges.txt" in message and "no such file" in message


def test_edge_list_is_a_folder(tmp_path):
    (tmp_path / "edges_dir").mkdir()
    message = _edge_error(_network_scenario(tmp_path, "edges_dir"))
    assert "edges_dir" in message and "cannot read" in message


def test_edge_list_line_of_four_tokens(tmp_path):
    (tmp_path / "edges.txt").write_text("# a comment\na b\nb c d e\nc a\n", encoding="utf-8")
    message = _edge_error(_network_scenario(tmp_path, "edges.txt"))
    assert "edges.txt" in message
    assert "line 3" in message and "expected 'a b'" in message and "found 'b c d e'" in message


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n  # another\n"],
                         ids=["empty", "blank_lines", "comments_only"])
def test_edge_list_empty(tmp_path, content):
    (tmp_path / "edges.txt").write_text(content, encoding="utf-8")
    message = _edge_error(_network_scenario(tmp_path, "edges.txt"))
    assert "edges.txt" in message
    assert "expected at least one edge" in message and "empty file" in message


def test_edge_list_not_utf8(tmp_path):
    (tmp_path / "edges.txt").write_bytes(b"a b\n\xff\xfe c\n")
    message = _edge_error(_network_scenario(tmp_path, "edges.txt"))
    assert "edges.txt" in message and "cannot read" in message and "utf-8" in message


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="file permissions do not stop root (or Windows) from reading")
def test_edge_list_without_read_permission(tmp_path):
    edges = tmp_path / "edges.txt"
    edges.write_text("a b\n", encoding="utf-8")
    edges.chmod(0)
    try:
        message = _edge_error(_network_scenario(tmp_path, "edges.txt"))
    finally:
        edges.chmod(0o644)
    assert "edges.txt" in message and "cannot read" in message


def test_edge_list_relative_to_the_scenario_folder(tmp_path, monkeypatch):
    folder = tmp_path / "study"
    (folder / "nets").mkdir(parents=True)
    edges = folder / "nets" / "edges.txt"
    edges.write_text("# five consumers, one alone\nann bob\nbob cy, 1.0\ncy ann\ndee bob\neve\n",
                     encoding="utf-8")
    path = _network_scenario(folder, "nets/edges.txt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative to the scenario file, not to the working folder
    scenario = sim.load(path)
    assert Path(scenario.params["network.file"]) == edges.resolve()
    assert scenario.params["population.size"] == 5  # the file says who is there
    table = sim.run(scenario, steps=3).table
    assert len(table) == 4
    stages = table[[c for c in table.columns if c.startswith("stage_")]].sum(axis=1)
    assert (stages == 5).all()


def test_edge_list_relative_path_is_not_read_from_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "edges.txt").write_text("a b\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    path = _network_scenario(tmp_path / "sub", "edges.txt")
    monkeypatch.chdir(tmp_path)
    message = _edge_error(path)
    assert str((tmp_path / "sub" / "edges.txt").resolve()) in message and "no such file" in message


# --- overrides (the --set of the command line) --------------------------------------------

BASELINE = str(shipped()["baseline"])

OVERRIDES = [
    ("unknown_key", {"bad.key": 1}, "bad.key", ["unknown key"]),
    ("unknown_key_suggests", {"sharing.negative_multiplyer": 2}, "sharing.negative_multiplyer",
     ["unknown key", "did you mean 'sharing.negative_multiplier'"]),
    ("unknown_lever_suggests", {"brands.ours.qualty": 0.5}, "brands.ours.qualty",
     ["unknown brand lever", "did you mean 'quality'"]),
    ("missing_brand", {"brands.mine.quality": 0.5}, "brands.mine.quality", ["no brand 'mine'"]),
    ("wrong_type", {"population.size": "many"}, "population.size",
     ["expected an integer > 0", "found 'many'"]),
    ("probability", {"journey.discovery": 2}, "journey.discovery",
     ["expected a number in [0, 1]", "found 2"]),
    ("population_zero", {"population.size": 0}, "population.size",
     ["expected an integer > 0", "found 0"]),
    ("choice", {"network.kind": "ring"}, "network.kind", ["expected one of", "found 'ring'"]),
]


@pytest.mark.parametrize("overrides,key,must", [c[1:] for c in OVERRIDES], ids=[c[0] for c in OVERRIDES])
def test_override_names_file_and_key(overrides, key, must):
    with pytest.raises(sim.ScenarioError) as info:
        sim.load("baseline", overrides)
    _check(str(info.value), BASELINE, key, must)


def test_override_of_a_scenario_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("[population]\nsize = 300\n", encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load(path, {"wom.rech": 0.2})
    _check(str(info.value), str(path), "wom.rech", ["unknown key", "did you mean 'wom.reach'"])


def test_good_override_applies():
    scenario = sim.load("baseline", {"population.size": 300, "brands.ours.quality": 0.5})
    assert scenario.params["population.size"] == 300
    assert scenario.params.brand("ours")["quality"] == 0.5


@pytest.mark.parametrize("text", ["population.size", "=3", ""], ids=["no_equals", "no_key", "empty"])
def test_parse_override_needs_key_and_value(text):
    from sim.scenario import parse_override
    with pytest.raises(sim.ScenarioError) as info:
        parse_override(text)
    assert "expected dotted.key=value" in str(info.value)


# --- scenario files and names ---------------------------------------------------------------

def test_missing_scenario_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(sim.ScenarioError) as info:
        sim.load(path)
    _check(str(info.value), str(path), "", ["no such file"])


def test_unknown_scenario_name_suggests():
    with pytest.raises(sim.ScenarioError) as info:
        sim.load("basline")
    _check(str(info.value), "basline", "", ["no such scenario", "baseline", "did you mean 'baseline'"])


def test_scenario_file_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes("# caf\u00e9\nsteps = 10\n".encode("latin-1"))
    with pytest.raises(sim.ScenarioError) as info:
        sim.load(path)
    _check(str(info.value), str(path), "", ["cannot read the scenario file", "expected UTF-8 text", "found byte 0xe9"])


def test_about_values_must_be_text():
    with pytest.raises(sim.ScenarioError) as info:
        sim.loads("[about]\ntitle = 3\n", path="shop.toml")
    _check(str(info.value), "shop.toml", "about.title", ["expected a string", "found 3"])
