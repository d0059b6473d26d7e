"""docs/examples.md has one section per folder of examples/, named as the folder."""

from __future__ import annotations

import re

from tests.docs.doc_examples import DOCS, ROOT


def test_one_section_per_example_folder():
    text = (DOCS / "examples.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## `([^`]+)`$", text, re.M)
    folders = sorted(path.name for path in (ROOT / "examples").iterdir() if path.is_dir())
    assert len(sections) == len(set(sections))
    assert sorted(sections) == folders


def test_each_section_starts_with_the_folders_class_or_file():
    text = (DOCS / "examples.md").read_text(encoding="utf-8")
    for folder, body in re.findall(r"^## `([^`]+)`\n\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        name = re.match(r"`([\w.]+)`", body).group(1)
        where = ROOT / "examples" / folder
        assert (where / f"{name}.py").is_file() or (where / name).is_file(), folder
