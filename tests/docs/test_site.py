"""The documentation site: every page is in the nav, and `mkdocs build --strict` passes.

The build runs on a copy of mkdocs.yml and docs/ in a temporary folder (the repository's
`site/` is left alone). Broken links, broken anchors and pages left out of the nav must fail
it: each is injected into a copy and the build must refuse it, so the check cannot go quiet.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

# mkdocs and mkdocs-material are test extras: missing, the suite fails here rather than skip.
import material  # noqa: F401
import mkdocs  # noqa: F401
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
MKDOCS = pathlib.Path(sys.executable).parent / "mkdocs"
REQUIRED = (
    "index.md",  # the quickstart, the site's front page
    "user-class.md",
    "rest-api.md",
    "grpc-api.md",
    "v2.md",
    "metrics.md",
    "configuration.md",
    "s2i.md",
    "deployment.md",
    "compatibility.md",
    "migration.md",
    "reliability.md",
    "legacy-v0.md",
    "architecture.md",
    "development.md",
    "examples.md",
)
# Pages written elsewhere in the project; a build of a checkout without them stubs them, and
# test_every_required_page_exists says they are missing.
WRITTEN_ELSEWHERE = ("configuration.md", "deployment.md")


def nav_pages(entries: list) -> list[str]:
    pages: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages.extend(nav_pages(value) if isinstance(value, list) else [value])
    return pages


CONFIG = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
NAV = nav_pages(CONFIG["nav"])


def test_every_required_page_exists():
    missing = [page for page in REQUIRED if not (ROOT / "docs" / page).is_file()]
    assert missing == []


def test_every_required_page_is_in_the_nav_once():
    assert [page for page in REQUIRED if page not in NAV] == []
    assert len(NAV) == len(set(NAV))
    assert NAV[0] == "index.md"


def test_site_settings():
    assert CONFIG["theme"]["name"] == "material"
    assert (CONFIG["docs_dir"], CONFIG["site_dir"], CONFIG["strict"]) == ("docs", "site", True)


def copy_site(tmp_path: pathlib.Path) -> pathlib.Path:
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    for page in WRITTEN_ELSEWHERE:
        stub = tmp_path / "docs" / page
        if not stub.exists():
            stub.write_text(f"# {page} (not written yet)\n", encoding="utf-8")
    return tmp_path


def build(folder: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "-f", str(folder / "mkdocs.yml"), "-d", str(folder / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # mkdocs-material's end-of-life banner
    )


def test_site_builds_strict(tmp_path):
    folder = copy_site(tmp_path)
    result = build(folder)
    assert result.returncode == 0, result.stderr
    built = {path.relative_to(folder / "out").as_posix() for path in (folder / "out").rglob("index.html")}
    for page in NAV:
        expected = "index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html"
        assert expected in built


@pytest.mark.parametrize(
    "page, addition, complaint",
    [
        ("user-class.md", "\nSee [nowhere](no-such-page.md).\n", "no-such-page.md"),
        ("rest-api.md", "\nSee [the errors](v2.md#no-such-anchor).\n", "no-such-anchor"),
        ("index.md", "\nSee [this page](#no-such-heading).\n", "no-such-heading"),
        ("grpc-api.md", "\nSee [the README](../README.md).\n", "README.md"),
    ],
    ids=["missing page", "missing anchor", "missing local anchor", "file outside docs"],
)
def test_a_broken_link_fails_the_build(tmp_path, page, addition, complaint):
    folder = copy_site(tmp_path)
    with (folder / "docs" / page).open("a", encoding="utf-8") as handle:
        handle.write(addition)
    result = build(folder)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_a_page_left_out_of_the_nav_fails_the_build(tmp_path):
    folder = copy_site(tmp_path)
    (folder / "docs" / "orphan.md").write_text("# Orphan\n", encoding="utf-8")
    result = build(folder)
    assert result.returncode != 0
    assert "orphan.md" in result.stderr
