"""Markdown bodies: input beside the HTML expected."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.inlinepatterns import LinkInlineProcessor

from generator import markup
from generator.frontmatter import read_front_matter
from generator.markup import (
    EXTENSIONS,
    BracketEnds,
    MarkdownRenderer,
    _SourceLinks,
    all_bracket_ends,
    link_mark,
    render_markdown,
    sanitize,
    sanitized,
    summary_from_html,
)

REPO = Path(__file__).resolve().parent.parent

PAGES = {
    "content/events/other.md": "events/other/index.html",
    "content/actors/lavrov.md": "actors/lavrov/index.html",
}


def render(text: str) -> tuple[str, list[str]]:
    html, problems = MarkdownRenderer(PAGES).render(text, "content/events/this.md", 10)
    return html, [p.format() for p in problems]


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("*a* **b**", "<p><em>a</em> <strong>b</strong></p>"),
        (
            "[x](other.md)",
            '<p><a href="../../events/other/index.html" rel="noopener noreferrer">x</a></p>',
        ),
        (
            "[x](other.md#part)",
            '<p><a href="../../events/other/index.html#part" rel="noopener noreferrer">x</a></p>',
        ),
        (
            "[L](../actors/lavrov.md)",
            '<p><a href="../../actors/lavrov/index.html" rel="noopener noreferrer">L</a></p>',
        ),
        ("<script>alert(1)</script>\n\nok", "\n\n<p>ok</p>"),
        (
            '<a href="javascript:alert(1)" onclick="x()">y</a>',
            '<p><a rel="noopener noreferrer">y</a></p>',
        ),
        ("<img src=x onerror=alert(1)>", '<p><img src="x"></p>'),
        ("{{ site.title }} {% if %}", "<p>{{ site.title }} {% if %}</p>"),
        # Links from the server's root lead to the site's root, wherever it is served.
        ("![m](/images/m.png)", '<p><img alt="m" src="../../images/m.png"></p>'),
        (
            "[h](/) [y](/years/2023/#top) [q](/tags/?a=b) [p](//example.org/a)",
            '<p><a href="../../index.html" rel="noopener noreferrer">h</a> '
            '<a href="../../years/2023/index.html#top" rel="noopener noreferrer">y</a> '
            '<a href="../../tags/index.html?a=b" rel="noopener noreferrer">q</a> '
            '<a href="//example.org/a" rel="noopener noreferrer">p</a></p>',
        ),
        # A table's column alignment survives the sanitizer; no other style does.
        (
            "| a | b |\n|:-:|--:|\n| 1 | 2 |",
            '<table>\n<thead>\n<tr>\n<th style="text-align:center">a</th>\n'
            '<th style="text-align:right">b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n'
            '<td style="text-align:center">1</td>\n<td style="text-align:right">2</td>\n'
            "</tr>\n</tbody>\n</table>",
        ),
        (
            '<table><tr><td style="position: fixed; text-align: left">x</td></tr></table>\n\n'
            '<p style="text-align: center">y</p>',
            '<table><tbody><tr><td style="text-align:left">x</td></tr></tbody></table>\n\n<p>y</p>',
        ),
    ],
)
def test_markdown(markdown: str, html: str) -> None:
    assert render(markdown) == (html, [])


def test_footnotes_do_not_leak_between_documents() -> None:
    renderer = MarkdownRenderer(PAGES)
    first, _ = renderer.render("a[^1]\n\n[^1]: one", "content/events/a.md", 1)
    second, _ = renderer.render("b", "content/events/b.md", 1)
    assert "footnote" in first and "footnote" not in second


def test_unresolved_link_is_reported_at_its_line() -> None:
    html, problems = render("Intro.\n\nSee [it](nowhere.md).")
    assert 'href="nowhere.md"' in html
    assert problems == [
        "content/events/this.md:12: link to 'nowhere.md' points to no event or actor file; "
        "check the file name"
    ]


def test_the_link_placeholder_scheme_in_an_author_s_text_stays_as_written() -> None:
    # The scheme's words as text, as a link, and as a placeholder of another body.
    text = 'In `timeline-source:0` and timeline-source:0 and `href="timeline-source:0"`'
    text += ", [y](timeline-source:0) and timeline-source:0123456789abcdef.0: [x](other.md)."
    for unsafe_html in (False, True):
        renderer = MarkdownRenderer(PAGES, unsafe_html)
        html, problems = renderer.render(text, "content/events/this.md", 10)
        assert problems == []
        assert "<code>timeline-source:0</code> and timeline-source:0 and " in html
        assert '<code>href="timeline-source:0"</code>' in html.replace("&quot;", '"')
        assert '<a href="timeline-source:0"' in html
        assert " and timeline-source:0123456789abcdef.0: " in html
        assert '<a href="../../events/other/index.html"' in html


def test_deep_nesting_does_not_crash() -> None:
    _, problems = render("> " * 3000 + "deep")
    assert problems == [] or "nested too deeply" in problems[0]


def summary(markdown: str) -> str:
    return summary_from_html(render(markdown)[0])


def test_summary_is_the_first_top_level_paragraph() -> None:
    text = '# Title\n\n- item\n\n> quoted\n\nThe *real* "one".\n\nNext.'
    assert summary(text) == "The real “one”."
    assert summary("") == ""
    assert summary("- only\n- a list") == ""
    long = " ".join(["word"] * 200)
    assert summary(long).endswith("…")
    assert len(summary(long)) <= 301


def test_raw_html_is_kept_only_when_the_site_allows_it() -> None:
    raw = '<div class="note" onclick="x()">Hi <script>s()</script></div>'
    kept, _ = MarkdownRenderer(PAGES, unsafe_html=True).render(raw, "content/events/a.md", 1)
    cleaned, _ = MarkdownRenderer(PAGES).render(raw, "content/events/a.md", 1)
    assert kept == raw
    assert cleaned == '<div class="note">Hi </div>'


def test_typographic_quotes_dashes_and_ellipses() -> None:
    text = "He said \"'Quoted' words\" -- in the '80s --- and then..."
    assert render_markdown(text, "content/events/a.md", 1).html == (
        "<p>He said &ldquo;&lsquo;Quoted&rsquo; words&rdquo; &ndash; in the &rsquo;80s "
        "&mdash; and then&hellip;</p>"
    )
    assert render_markdown("`it's` \\'", "content/events/a.md", 1).html == (
        "<p><code>it's</code> '</p>"
    )


# Python-Markdown as it comes, smarty's own processor and toc's marker search included,
# with the same links to source files: what render_markdown must write.
_PLAIN = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
_PLAIN_LINKS = _SourceLinks(_PLAIN)
_PLAIN.treeprocessors.register(_PLAIN_LINKS, "source_links", 1)


def assert_as_plain(text: str) -> None:
    _PLAIN_LINKS.found = []
    _PLAIN_LINKS.mark = link_mark(text)
    expected = _PLAIN.reset().convert(text)
    assert render_markdown(text, "content/events/a.md", 1).html == expected


def test_markup_matches_plain_markdown_on_the_example_site() -> None:
    files = sorted((REPO / "content").rglob("*.md"))
    assert len(files) > 20
    for path in files:
        matter, _ = read_front_matter(path.read_text(encoding="utf-8"), str(path))
        assert matter is not None
        assert_as_plain(matter.body)


_PIECES = [
    *["word", "It", "s", "n", "80s", "1990", "x2", " ", " ", " ", "\n", "  \n", "\n\n"],
    *["'", "'", "'", '"', '"', '"', "-", "--", "---", ".", "...", ",", ";", ":", "!", "?"],
    *["(", ")", "[", "]", "{", "}", "–", "—", "\\'", '\\"', "\\-"],
    *["*", "**", "_", "`", "`it's`", '``a "b"``', "<kbd>'k'</kbd>", "<b>", "</b>"],
    *["[a 'b'](https://example.org/x)", "[c](https://example.org/y \"the 't'\")"],
    *["<https://example.org/it's>", "![it's](i.png)", "&amp;", "&nbsp;", "&mdash;"],
    *["&#8211;", "&#8212;", "&ndash;", "&rsquo;", "&", "\n# ", "\n- ", "\n> ", "\n    "],
    *["[^1]", "\n\n[^1]: note's", "\n\n*[HTML]: it's", "HTML", "{: #id}", "\n```\n"],
    *["[TOC]", "\n\n[TOC]\n\n", "[e](other.md)", "[f](it's.md#x)"],
    *["<me@example.org>", "\\`", "\\\\", "\\*", "[r][1]", "![s][1]", "[r]", "\n\n[1]: /r"],
    *["``", "a_b_c", "__", "***", "<!-- c -->", "<?p?>", "&#x41;", "Ctrl+C", "!"],
]


@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
@settings(max_examples=2000, deadline=None)
def test_markup_matches_plain_markdown(text: str) -> None:
    assert_as_plain(text)


def test_an_inline_pattern_of_another_extension_is_always_tried() -> None:
    """_Inline skips only the patterns it knows; with one it does not know, it no longer
    skips texts as a whole, and the HTML is still Python-Markdown's."""
    from markdown.inlinepatterns import SimpleTagInlineProcessor

    from generator.markup import _Inline

    def with_mark(md: markdown.Markdown) -> markdown.Markdown:
        md.inlinePatterns.register(SimpleTagInlineProcessor(r"(==)(.+?)==", "mark"), "mark", 65)
        return md

    plain = with_mark(markdown.Markdown(extensions=EXTENSIONS, output_format="html"))
    md = with_mark(markdown.Markdown(extensions=EXTENSIONS, output_format="html"))
    inline = _Inline(md)
    md.treeprocessors.register(inline, "inline", 20)
    assert inline.any_pattern is None and len(inline.needs) == len(md.inlinePatterns) - 1
    text = "A ==marked== word, *emphasis*, [a link](https://example.org) and `code`."
    assert "<mark>marked</mark>" in md.convert(text) == plain.convert(text)
    assert _Inline(markdown.Markdown(extensions=EXTENSIONS)).any_pattern is not None


def _bracket_ends_by_definition(data: str) -> list[int | None]:
    """For each index, the first later index where fewer brackets are open than there."""
    depth = [0]
    for c in data:
        depth.append(depth[-1] + (c == "[") - (c == "]"))
    return [
        next((j for j in range(i + 1, len(depth)) if depth[j] < depth[i]), None)
        for i in range(len(depth))
    ]


@given(st.text(alphabet="[]a\\(", max_size=60))
@settings(max_examples=3000, deadline=None)
def test_bracket_ends_are_python_markdown_s(data: str) -> None:
    """BracketEnds stands in for Python-Markdown's own method, which this version of it
    may lack; each gives every index's answer by the definition, whether BracketEnds
    steps from the index (scan 64) or works out every index at once (scan 0 or 2)."""
    expected = _bracket_ends_by_definition(data)
    assert all_bracket_ends(data) == expected
    for scan in (0, 2, 64):
        ends = BracketEnds(data, scan)
        assert [ends[i] for i in range(len(data) + 1)] == expected
    own = getattr(LinkInlineProcessor, "_findBracketEnds", None)
    if own is not None:
        assert own(data) == expected


def test_a_paragraph_of_many_links_takes_linear_time() -> None:
    """Python-Markdown 3.11.4 took 16 s for a paragraph of 2,000 links (each replaced
    link makes a new text, and every index of it was worked out in Python). Counted, not
    timed: how many brackets the lookups step over."""
    text = " ".join(f"[link {i}](https://example.org/{i})" for i in range(2000))
    steps = 0
    original = markup._BRACKET

    class Counting:
        def finditer(self, data: str, pos: int = 0) -> Iterator[re.Match[str]]:
            nonlocal steps
            for found in original.finditer(data, pos):
                steps += 1
                yield found

    markup._BRACKET = Counting()  # type: ignore[assignment]
    try:
        html = render_markdown(text, "content/events/a.md", 1).html
    finally:
        markup._BRACKET = original
    assert html.count("<a ") == 2000
    assert steps <= 2 * 2000


def test_link_patterns_find_brackets_with_bracket_ends() -> None:
    render_markdown("[a](https://example.org)", "content/events/a.md", 1)
    assert markup._converter is not None
    patterns = markup._converter.md.inlinePatterns
    links = [p for p in patterns if isinstance(p, LinkInlineProcessor)]
    assert len(links) == 6  # links, images, and the reference forms of each
    if hasattr(LinkInlineProcessor, "_findBracketEnds"):
        assert all(p._findBracketEnds is BracketEnds for p in links)


@pytest.mark.parametrize("threads", [1, 3])
def test_sanitized_cleans_each_fragment_in_order(threads: int) -> None:
    """More fragments than a few blocks, each different: each comes back cleaned, in
    the order given."""
    fragments = [f'<p id="p{i}" onclick="x()">{i}<script>s({i})</script></p>' for i in range(2345)]
    found = list(sanitized(fragments, threads))
    assert found == [sanitize(f) for f in fragments]
    assert found[1234] == '<p id="p1234">1234</p>'
    assert list(sanitized([], threads)) == []
