"""The README is the front page: each of its relative links leads to a file of the repository."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
LINK = re.compile(r"\[[^\]]+\]\(([^)#\s]+)(#[^)]*)?\)")


def relative_links(text: str) -> list[str]:
    return [target for target, _ in LINK.findall(text) if "://" not in target]


def test_every_relative_link_of_the_readme_exists():
    links = relative_links((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(links) >= 10
    missing = [link for link in links if not (ROOT / link).exists()]
    assert missing == []


def test_the_link_finder_sees_links_and_skips_urls():
    text = "[a](docs/a.md) [b](https://x.y/z) [c](docs/c.md#part)"
    assert relative_links(text) == ["docs/a.md", "docs/c.md"]
