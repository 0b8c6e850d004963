"""Rendering: theme lookup, overrides, options, template errors, relative links."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment

from generator import render
from generator.build import build
from generator.config import parse_config
from generator.render import only_printed
from generator.sources import load_sources
from tests.conftest import write_files
from tests.helpers import build_files, default_theme, event

E = "content/events/"


def test_site_templates_override_and_extend_the_default() -> None:
    result = build_files(
        {E + "a.md": event("A", "2023")},
        templates={
            "event.html": '{% extends "default/event.html" %}'
            "{% block title %}Custom: {{ event.title }}{% endblock %}"
        },
    )
    assert result.ok, result.diagnostics
    page = result.pages["events/a/index.html"].decode()
    assert "<title>Custom: A</title>" in page
    assert "<h1>A</h1>" in page  # the rest still comes from the default theme


def test_links_are_relative_to_each_page() -> None:
    result = build_files({E + "a.md": event("A", "2023", actors="[X]")})
    home = result.pages["index.html"].decode()
    page = result.pages["events/a/index.html"].decode()
    assert 'href="static/style.css"' in home
    assert 'href="events/a/index.html"' in home
    assert 'href="../../static/style.css"' in page
    assert 'href="../../actors/x/index.html"' in page


def test_template_errors_name_template_and_line() -> None:
    result = build_files(
        {E + "a.md": event("A", "2023"), E + "b.md": event("B", "2024")},
        templates={"event.html": "line one\n{{ event.nope.deeper }}\n"},
    )
    assert [d.format() for d in result.diagnostics] == [
        "templates/event.html:2: template error: 'generator.model.Event object' has no "
        "attribute 'nope'; check the variable's name"
    ]


def test_content_is_never_evaluated_as_a_template() -> None:
    result = build_files({E + "a.md": event("'{{ 7+7 }}'", "2023") + "{% raw %}{{ 6+6 }}\n"})
    page = result.pages["events/a/index.html"].decode()
    assert "<h1>{{ 7+7 }}</h1>" in page
    assert "{% raw %}{{ 6+6 }}" in page


def test_home_becomes_an_overview_past_the_limit() -> None:
    config, _ = parse_config("home_limit = 3\n")
    files = {f"{E}e{i}.md": event(f"E{i}", f"{2000 + i}") for i in range(5)}
    result = build_files(files, config)
    home = result.pages["index.html"].decode()
    assert "Years" in home and 'href="years/2004/index.html"' in home
    assert result.pages["years/2004/index.html"]


def test_a_theme_of_the_site_extends_the_default(tmp_path: Path) -> None:
    root = write_files(
        tmp_path,
        {
            "timeline.toml": '[theme]\nname = "mine"\ngreeting = "Hello"\n',
            "themes/mine/theme.toml": 'extends = "default"\n',
            "themes/mine/templates/index.html": (
                '{% extends "base.html" %}{% block main %}<p>{{ theme.greeting }}</p>{% endblock %}'
            ),
            "themes/mine/static/extra.css": "p {}",
            "content/events/a.md": event("A", "2023"),
        },
    )
    config, problems = parse_config((root / "timeline.toml").read_text())
    sources, found = load_sources(root, config)
    assert problems == found == []
    assert [t.name for t in sources.themes] == ["mine", "default"]
    result = build(config, sources)
    assert result.ok, result.diagnostics
    assert "<p>Hello</p>" in result.pages["index.html"].decode()
    assert "static/extra.css" in result.pages and "static/style.css" in result.pages


def test_the_same_input_gives_the_same_bytes() -> None:
    files = {
        f"{E}e{i}.md": event(f"E{i}", f"2023-0{1 + i % 9}", actors="[A, B]") for i in range(30)
    }
    assert build_files(files).pages == build_files(dict(reversed(files.items()))).pages


def test_missing_summaries_come_from_the_first_paragraph() -> None:
    result = build_files(
        {
            E + "a.md": "---\ntitle: A\ndate: 2023\n---\n## Heading\n\nFirst *one*.\n\nSecond.\n",
            E + "b.md": "---\ntitle: B\ndate: 2024\nsummary: Given.\n---\nBody.\n",
        }
    )
    assert result.timeline is not None
    assert [e.summary for e in result.timeline.events] == ["First one.", "Given."]
    assert '<p class="summary">First one.</p>' in result.pages["index.html"].decode()


def _card_site() -> dict[str, str]:
    """Events whose cards show on the home page, year, actor, tag and place pages, and
    on later pages of lists (page_size 10): every folder depth and heading level."""
    return {
        f"{E}e{i:02}.md": event(
            f'E{i} <&> "{i}"',
            f"2023-0{1 + i % 9}",
            actors="[Ann, Bo]",
            tags=f"[t{i % 2}]",
            places="[Rome]",
        )
        for i in range(25)
    }


def test_a_card_rendered_once_for_all_pages_equals_one_rendered_for_each() -> None:
    """The default card is rendered once an event, with stand-ins for its root and heading
    level; a card template that uses them otherwise is rendered for each page kind. The
    same card with such a use that prints nothing must give the very same site."""
    config, _ = parse_config("page_size = 10\n")
    default = default_theme().templates["partials/card.html"][0]
    assert default.endswith("\n")
    # The same output, but testing both variables: no stand-ins.
    each = default + "{% if heading is number and root is string %}{% endif %}"
    once = build_files(_card_site(), config)
    every = build_files(_card_site(), config, templates={"partials/card.html": each})
    assert once.ok and every.ok, (once.diagnostics, every.diagnostics)
    assert once.pages == every.pages
    tag_pages = [p for p in once.pages if p.startswith("tags/t0/")]
    assert "tags/t0/page/2/index.html" in tag_pages  # cards at two depths
    assert b'<h4 class="card-title"><a href="../../../../events/' in once.pages[tag_pages[-1]]
    assert b'<h5 class="card-title"><a href="../../events/' in once.pages["actors/ann/index.html"]
    assert b'<h3 class="card-title"><a href="../../events/' in once.pages["years/2023/index.html"]


# Calls of every function the theme gets, at the top, in a block and in loops, with a
# `root` of their own: Jinja hands those to a call as the block's and the loop's variables.
_CALLS = """{% extends "default/event.html" %}{% set root = "T/" %}
{% block main %}{{ url("a/") }} {{ card(event, 2) }} {{ url(target="b.css") }}
{% for x in [1] %}{% set root = "L/" %}[{{ url() }} {{ card(event) }}]{% endfor %}
{% set root = "B/" %}{{ url("c/") }} {% for x in [1] %}[{{ url() }}]{% endfor %}
{% for y in [2023, -44] %}{{ year_slug(y) }} {{ year_label(y) }}{% endfor %}
{% for g in group_by_month([event]) %}{{ g.label }}{% endfor %}{% endblock %}"""


def test_the_functions_templates_call_most_give_what_jinjas_own_call_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """url(), card() and the plain functions are called without the sandbox's checks
    (and url() and card() without Context.call's): the same pages as with them."""
    files = _card_site()
    fast = build_files(files, templates={"event.html": _CALLS})
    monkeypatch.setattr(render._Sandbox, "call", SandboxedEnvironment.call)
    slow = build_files(files, templates={"event.html": _CALLS})
    # The roots set here break links: the link check must find the same.
    assert fast.diagnostics == slow.diagnostics and fast.pages == slow.pages
    page = fast.pages["events/e01/index.html"].decode()
    assert "T/a/index.html" in page and 'href="T/events/e01/index.html"' in page
    assert "[L/index.html " in page and 'href="L/events/e01/index.html"' in page
    assert "B/c/index.html" in page and "-0044 44 BC" in page


def _card_renders(monkeypatch: pytest.MonkeyPatch, budget: int) -> int:
    """How many times a build of _card_site renders partials/card.html, its render
    workers keeping up to ``budget`` characters of cards."""
    monkeypatch.setattr(render, "MAX_CARD_CHARS", budget)
    renders = 0
    original = jinja2.Template.render

    def counted(self: jinja2.Template, *args: object, **kwargs: object) -> str:
        nonlocal renders
        renders += self.name == "partials/card.html"
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", counted)
    config, _ = parse_config("page_size = 10\n")
    assert build_files(_card_site(), config).ok
    return renders


def test_each_card_is_rendered_once_while_the_cards_fit_the_workers_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The actor, tag and place pages show the events in no order of theirs: a budget
    counted in events (25,000) made 100,000 events' cards render two or three times."""
    assert _card_renders(monkeypatch, 10**6) == len(_card_site())
    # With room for no card, each is rendered for every list that shows it.
    assert _card_renders(monkeypatch, 0) > 4 * len(_card_site())


def test_a_card_template_changing_its_printed_level_or_links_gets_each_page_s_own() -> None:
    card = (
        "{% filter lower %}<H{{ heading }}>{% endfilter %}"
        '<a data-up="{{ url("events/" ~ event.slug ~ "/") | upper }}">{{ event.title }}</a>\n'
    )
    config, _ = parse_config("page_size = 10\n")
    result = build_files(_card_site(), config, templates={"partials/card.html": card})
    assert result.ok, result.diagnostics
    assert b'<h5><a data-up="../../EVENTS/E00/INDEX.HTML">' in result.pages["actors/ann/index.html"]
    assert b'<h3><a data-up="../../EVENTS/E00/INDEX.HTML">' in result.pages["years/2023/index.html"]
    later = result.pages["tags/t0/page/2/index.html"]
    assert later.count(b'<h4><a data-up="../../../../EVENTS/E') == 3  # 13 cards, 10 a page


def test_a_card_template_computing_with_its_level_gets_each_level() -> None:
    card = '<h{{ heading + 1 }} data-root="{{ root | length }}">{{ event.title }}</h>\n'
    result = build_files(_card_site(), templates={"partials/card.html": card})
    assert result.ok, result.diagnostics
    assert b'<h4 data-root="6">E0' in result.pages["years/2023/index.html"]
    assert b'<h5 data-root="6">E0' in result.pages["tags/t0/index.html"]
    assert b'<h6 data-root="6">E0' in result.pages["actors/ann/index.html"]
    assert b'<h5 data-root="0">E0' in result.pages["index.html"]


@pytest.mark.parametrize(
    ("template", "printed"),
    [
        ("", True),
        ("<h{{ heading }}>", True),
        ("<h{{ heading | default(4) }}>{{ heading }}", True),
        ("{{ heading + 1 }}", False),
        ("{{ heading ~ '' }}", False),
        ("{% if heading > 3 %}x{% endif %}", False),
        ("{{ heading | default(level) }}", False),
        ("{{ heading | int }}", False),
        ("{% set heading = 2 %}{{ heading }}", False),
        ("{% for heading in [1] %}{{ heading }}{% endfor %}", False),
        ("{% macro m(heading) %}{{ heading }}{% endmacro %}", False),
        ("{{ heading }}{% include 'other.html' %}", False),
        ('{% extends "base.html" %}', False),
        ("{% import 'm.html' as m %}", False),
        # Printed, but into output the template changes or reuses before the page.
        ("{% filter upper %}{{ heading }}{% endfilter %}", False),
        ("{% set x %}{{ heading }}{% endset %}{{ x | upper }}", False),
        ("{% macro m() %}{{ heading }}{% endmacro %}{{ m() | upper }}", False),
        ("{% call cycler() %}{{ heading }}{% endcall %}", False),
        ("{% block b %}{{ heading }}{% endblock %}{{ self.b() | upper }}", False),
        ("{% filter upper %}{{ other }}{% endfilter %}{{ heading }}", True),
    ],
)
def test_only_printed_finds_any_other_use(template: str, printed: bool) -> None:
    tree = jinja2.Environment().parse(template)
    assert only_printed(tree, "heading") is printed


def test_the_default_card_only_prints_its_level_and_links() -> None:
    """So the default theme renders each event's card once, not once per page kind."""
    tree = jinja2.Environment().parse(default_theme().templates["partials/card.html"][0])
    assert only_printed(tree, "heading")
    assert only_printed(tree, "root", via=("url",))


@pytest.mark.parametrize(
    ("template", "printed"),
    [
        ('<a href="{{ url(event.slug) }}">{{ url("x/") | default("") }}', True),
        ("{{ url('x/') | upper }}", False),
        ("{{ url('x/') ~ '#top' }}", False),
        ("{% if url('x/') %}{% endif %}", False),
        ("{% set link = url %}{{ link('x/') }}", False),
        ("{{ url(url('x/')) }}", False),
        ("{% filter upper %}{{ url('x/') }}{% endfilter %}", False),
        ("{{ root }}{{ url('x/') }}", True),
    ],
)
def test_a_function_reading_the_root_counts_as_a_use_of_it(template: str, printed: bool) -> None:
    tree = jinja2.Environment().parse(template)
    assert only_printed(tree, "root", via=("url",)) is printed
