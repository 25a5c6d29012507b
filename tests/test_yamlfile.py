"""engine.load.yamlfile.load_yaml: plain data, Decimals from their text, 1-based positions,
and a refusal (with file:line:col) for every YAML 1.1 surprise."""
from decimal import Decimal

import pytest

# The refusal of something that is neither text nor a plain number, for value v:
NOT_A_NUMBER = ("'{0}' is neither text nor a plain decimal number: quote it if it is text (\"{0}\"); a number "
                "is digits with an optional '-' and '.', no leading zeros, exponents, '+', '_' or .inf/.nan")

from engine.errors import RuleError
from engine.load.yamlfile import load_yaml


def value(text):
    return load_yaml(f"a: {text}\n", "f.yaml").data["a"]


def refusals(text) -> list[str]:
    with pytest.raises(RuleError) as exc:
        load_yaml(text, "f.yaml")
    return [str(d) for d in exc.value.diagnostics]


@pytest.mark.parametrize("text, expected", [
    ("1.10", Decimal("1.10")),
    ("0.10000000000000000001", Decimal("0.10000000000000000001")),
    ("-0.5", Decimal("-0.5")),
    ("0.0", Decimal("0.0")),
    ("500", 500),
    ("-3", -3),
    ("12345678901234567890123", 12345678901234567890123),
    ("true", True),
    ("false", False),
    ("null", None),
    ("~", None),
    ("", None),
])
def test_plain_scalars(text, expected):
    got = value(text)
    assert got == expected and type(got) is type(expected)


def test_decimals_keep_their_text():
    assert str(value("1.10")) == "1.10"           # not 1.1, as float would give
    assert value("0.10000000000000000001") != Decimal("0.1")


@pytest.mark.parametrize("text, expected", [
    ("'yes'", "yes"), ('"1.10"', "1.10"), ("'2024-07-01'", "2024-07-01"), ('"1:30"', "1:30"),
    ("'012'", "012"), ("!!str 1", "1"), ("|\n  1.10\n", "1.10\n"), ("hello world", "hello world"),
])
def test_quoted_and_tagged_strings_stay_strings(text, expected):
    assert value(text) == expected


def test_marks_are_one_based_line_and_column():
    src = load_yaml("# comment\na: 1\nb:\n  c: [x, 'y']\n  d:\n    - 2.5\n", "f.yaml")
    assert src.data == {"a": 1, "b": {"c": ["x", "y"], "d": [Decimal("2.5")]}}
    assert src.marks[()] == (2, 1)
    assert src.marks[("a",)] == (2, 4)
    assert src.marks[("b", "c")] == (4, 6)
    assert src.marks[("b", "c", 0)] == (4, 7)
    assert src.marks[("b", "c", 1)] == (4, 10)
    assert src.marks[("b", "d", 0)] == (6, 7)
    assert src.key_marks[("b",)] == (3, 1)
    assert src.key_marks[("b", "d")] == (5, 3)
    assert src.styles[("b", "c", 1)] == "'" and src.styles[("b", "c", 0)] is None
    assert src.where(("b", "c", 1)) == "f.yaml:4:10"
    assert src.where(("b", "d"), key=True) == "f.yaml:5:3"
    assert src.marks[("b",)] == (4, 3)            # a block mapping starts at its first key
    assert src.where(("b", "nothing", 3)) == "f.yaml:4:3"   # nearest ancestor with a mark


def test_bom_and_crlf_are_accepted():
    assert load_yaml("\ufeffa: 1\r\nb: 2.0\r\n", "f.yaml").data == {"a": 1, "b": Decimal("2.0")}


@pytest.mark.parametrize("text, message", [
    ("yes", "'yes' is a boolean in YAML 1.1; write true or false, or quote it as a string"),
    ("Off", "'Off' is a boolean in YAML 1.1; write true or false, or quote it as a string"),
    ("True", "'True' is a boolean in YAML 1.1; write true or false, or quote it as a string"),
    ("2024-07-01", "unquoted date '2024-07-01' would be read as a timestamp; quote it: \"2024-07-01\""),
    ("2024-06-04T10:00:00Z", "unquoted date '2024-06-04T10:00:00Z' would be read as a timestamp; "
                             "quote it: \"2024-06-04T10:00:00Z\""),
    ("1:30", "'1:30' is a base-60 number in YAML 1.1; quote it if it is text"),
    ("012", NOT_A_NUMBER.format("012")),
    ("1e3", NOT_A_NUMBER.format("1e3")),
    ("+1", NOT_A_NUMBER.format("+1")),
    ("1_000", NOT_A_NUMBER.format("1_000")),
    (".inf", NOT_A_NUMBER.format(".inf")),
    ("-.5", NOT_A_NUMBER.format("-.5")),
    ("!!int 1", "explicit tag 'tag:yaml.org,2002:int' is not allowed; write the value plainly"),
    ("!foo x", "explicit tag '!foo' is not allowed; write the value plainly"),
    ("&x 1", "anchor '&x' is not allowed; rule files use no anchors or aliases"),
])
def test_refused_scalars_point_at_the_value(text, message):
    assert refusals(f"a: {text}\n") == [f"f.yaml:1:4: {message}"]


def test_every_problem_is_reported_at_once():
    assert refusals("a: yes\nb:\n  - 1:30\n") == [
        "f.yaml:1:4: 'yes' is a boolean in YAML 1.1; write true or false, or quote it as a string",
        "f.yaml:3:5: '1:30' is a base-60 number in YAML 1.1; quote it if it is text",
    ]


def test_duplicate_keys():
    assert refusals("a: 1\nb: 2\na: 3\n") == ["f.yaml:3:1: duplicate key 'a' (first at line 1)"]
    # keys are compared as text: 1 and '1' are the same key
    assert refusals("1: x\n'1': z\n") == ["f.yaml:2:1: duplicate key '1' (first at line 1)"]


def test_anchor_and_alias():
    assert refusals("a: &x {b: 1}\nc: *x\n") == [
        "f.yaml:1:4: anchor '&x' is not allowed; rule files use no anchors or aliases",
        "f.yaml:2:4: alias '*x' is not allowed; write the value out",
    ]


def test_keys_must_be_plain_strings():
    assert refusals("? [a]\n: x\n") == ["f.yaml:1:3: a mapping key must be a plain string"]
    assert refusals("~: x\n") == ["f.yaml:1:1: a mapping key must be a plain string"]


@pytest.mark.parametrize("text, message", [
    ("", "f.yaml:1:1: the file is empty; expected a YAML mapping"),
    ("# only a comment\n", "f.yaml:1:1: the file is empty; expected a YAML mapping"),
    ("a: 1\n---\nb: 2\n", "f.yaml:2:1: only one YAML document per file is allowed"),
    ("a: [1, 2\n", "f.yaml:2:1: YAML syntax error: did not find expected ',' or ']' (in the flow sequence '[' opened at line 1, column 4)"),
])
def test_file_level_refusals(text, message):
    assert refusals(text) == [message]


def test_not_utf8_names_line_column_and_byte():
    assert refusals(b"a: 1\nb: caf\xe9\n") == ["f.yaml:2:7: the file is not valid UTF-8 (byte 0xe9)"]


def test_nesting_is_bounded():
    assert load_yaml("[" * 65 + "]" * 65, "f.yaml").data is not None   # 64 levels below the root
    assert refusals("[" * 66 + "]" * 66) == ["f.yaml:1:66: nesting deeper than 64 levels"]
    # a bomb of 10000 levels is refused at the 65th, without a RecursionError
    assert refusals("a: " + "[" * 10000 + "]" * 10000) == ["f.yaml:1:68: nesting deeper than 64 levels"]
    assert refusals("a:\n" + "".join(" " * i + "- " + "\n" for i in range(0, 140, 2))) == \
        ["f.yaml:66:129: nesting deeper than 64 levels"]   # block nesting, which no library limits


def test_our_depth_limit_wins_over_the_yaml_librarys(monkeypatch):
    """Whatever nesting limit the YAML library has (libyaml 0.2.5 in PyYAML 6.0.4 stops
    flow nesting near 1,000 levels, reading ahead of the events), the message and its
    position are the engine's own: simulate a library that stops at 10 levels."""
    import yaml
    from engine.load import yamlfile as yamlsrc
    real = yaml.parse

    def strict_library(text, Loader):
        depth = 0
        for ev in real(text, Loader=Loader):
            if Loader is yamlsrc._Loader and isinstance(ev, yaml.CollectionStartEvent):
                depth += 1
                if depth > 10:
                    raise yaml.scanner.ScannerError(None, None, "exceeded maximum nesting depth", ev.start_mark)
            yield ev
    monkeypatch.setattr(yaml, "parse", strict_library)
    assert refusals("a: " + "[" * 200 + "]" * 200) == ["f.yaml:1:68: nesting deeper than 64 levels"]
    assert load_yaml("a: " + "[" * 30 + "]" * 30, "f.yaml").data is not None


def test_hex_with_letters_is_refused():
    refusals("a: 0x1A\n")


def test_text_starting_with_a_date_is_a_string():
    assert value("2024-06-04 announcement, superseded") == "2024-06-04 announcement, superseded"
