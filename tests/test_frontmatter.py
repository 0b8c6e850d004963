"""Front matter: splitting, raw scalars, lines, and errors that say where and what."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.frontmatter import read_front_matter


def read(text: str):  # type: ignore[no-untyped-def]
    return read_front_matter(text, "e.md")


def test_scalars_stay_as_written() -> None:
    matter, problems = read(
        "---\ntitle: NO\ndate: 2023-10-23\ncode: 02023\nflag: yes\nempty:\n---\nBody\n"
    )
    assert problems == []
    assert matter is not None
    assert dict(matter.fields) == {
        "title": "NO",
        "date": "2023-10-23",
        "code": "02023",
        "flag": "yes",
        "empty": None,
    }
    assert matter.body == "Body\n"
    assert matter.body_line == 8


def test_lines_of_nested_values() -> None:
    text = "---\ntitle: T\nsources:\n  - https://a.example/\n  - {title: B, url: x}\n---\n"
    matter, _ = read(text)
    assert matter is not None
    assert matter.line("title") == 2
    assert matter.line("sources") == 3
    assert matter.line("sources", 1) == 5
    assert matter.line("sources", 1, "url") == 5
    assert matter.line("sources", 7) == 3  # unknown index: the closest parent


def test_closing_with_dots_and_empty_front_matter() -> None:
    matter, problems = read("---\n...\nBody")
    assert problems == [] and matter is not None and dict(matter.fields) == {}


def messages(text: str) -> list[tuple[int, str]]:
    _, problems = read(text)
    return [(p.line, p.message) for p in problems]


def test_errors() -> None:
    cases = {
        "": (1, "the file is empty"),
        "title: x\n": (1, "does not start with front matter"),
        "+++\ntitle = 'x'\n+++\n": (1, "TOML front matter"),
        "---title: x\n---\n": (1, "exactly '---'"),
        "---\ntitle: x\n": (1, "never closed"),
        "---\ntitle: a\ntitle: b\n---\n": (3, "'title' is given twice (first on line 2)"),
        "---\ntitle: a\n\tdate: 2023\n---\n": (3, "tabs"),
        "---\ntitle: a: b\n---\n": (2, "put quotes around"),
        "---\n- a\n- b\n---\n": (2, "'key: value' fields"),
        "---\ntitle: [unclosed\ndate: 2023\n---\n": (3, "started on line 2"),
        "---\n? [a, b]\n: c\n---\n": (2, "plain text"),
        "---\nbase: &b {title: x}\n<<: *b\n---\n": (3, "merge keys"),
    }
    for text, (line, fragment) in cases.items():
        found = messages(text)
        assert len(found) == 1, (text, found)
        assert found[0][0] == line, (text, found)
        assert fragment in found[0][1], (text, found)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    found = messages("---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\n")
    assert len(found) == 1 and "nested too deeply" in found[0][1]


def _alias_levels(levels: int) -> str:
    """Front matter whose last field stands for 9 ** levels values, in a few lines."""
    lines = ["---", "a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join([*lines, "---", ""])


def test_an_alias_bomb_is_an_error_not_billions_of_values() -> None:
    matter, problems = read(_alias_levels(9))
    assert matter is None
    assert [(p.line, p.message) for p in problems] == [
        (
            2,
            "front matter holds more than 10,000 values once its aliases (*name) are "
            "expanded; write the values out, fewer of them",
        )
    ]


def test_aliases_within_the_limit_are_read_as_their_values() -> None:
    matter, problems = read(_alias_levels(4))  # 8,307 values, lists and names in all
    assert problems == [] and matter is not None
    assert matter.fields["d"] == [[[["x"] * 9] * 9] * 9] * 9


@given(st.text(max_size=300))
@settings(max_examples=600)
def test_any_text_gives_front_matter_or_diagnostics(text: str) -> None:
    matter, problems = read(text)
    assert (matter is None) == bool(problems)


yaml_ish = st.lists(
    st.sampled_from(
        [
            "title: x",
            "date: 2023",
            "- a",
            "  - b",
            "a: [1, 2",
            "b: {c: d}",
            "&x y",
            "*x",
            "'q",
            '"q"',
            "k: |",
            "  text",
            "? k",
            ": v",
            "\t",
            "---",
            "...",
            "#c",
            "%YAML 1.1",
        ]
    ),
    max_size=12,
)


@given(yaml_ish)
@settings(max_examples=600)
def test_yaml_shaped_text_gives_front_matter_or_diagnostics(lines: list[str]) -> None:
    matter, problems = read("---\n" + "\n".join(lines) + "\n---\nbody")
    assert (matter is None) == bool(problems)
