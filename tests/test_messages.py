"""The catalogue of errors: every message in generator/messages.py is used by the code and
documented in docs/errors.md, and nothing else is documented there."""

from __future__ import annotations

import re

from generator import messages
from generator.messages import Message, all_messages
from tests.conftest import REPO

DOC = (REPO / "docs" / "errors.md").read_text("utf-8")
CODE = "\n".join(
    p.read_text("utf-8") for p in (REPO / "generator").glob("*.py") if p.name != "messages.py"
)


def test_every_message_is_documented_and_nothing_else() -> None:
    documented = re.findall(r"^### `([a-z0-9-]+)`$", DOC, re.M)
    assert sorted(documented) == sorted(all_messages())
    assert len(documented) == len(set(documented))


def test_every_message_is_used_by_the_code() -> None:
    names = [n for n, v in vars(messages).items() if isinstance(v, Message)]
    unused = [n for n in names if not re.search(rf"\bM\.{n}\(", CODE)]
    assert unused == []


def test_codes_and_texts_are_unique() -> None:
    found = list(all_messages().values())
    assert len({m.text for m in found}) == len(found)
