"""Write docs/configuration.md from the code: the option table, annotations and batch processor.

``python tools/gen_config_doc.py`` rewrites the page; ``--check`` exits 1 when the committed page
differs from what the code says (``tests/unit/test_settings_reference.py`` runs the same check).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "configuration.md"

HEADER = """\
# Configuration

Every flag of `seldon-core-microservice` and every environment variable the server reads, in
one table. **Origin** says whether the original wrapper had the option (`original`), had it with
another behaviour that `docs/compatibility.md` explains (`original, changed`), or it is ours
(`seldon-wrapper`). A flag wins over its environment variable; the variable sets the flag's
default.

This page is generated from the code (`seldon_wrapper/settings_reference.py`, the parser in
`seldon_wrapper/cli.py`, the defaults of `seldon_wrapper/settings.py`) by
`python tools/gen_config_doc.py`; a test fails when a flag or variable is added without a row
here, or when the page and the code disagree.

## seldon-core-microservice

| flag | environment variable | default | origin | meaning |
|---|---|---|---|---|
"""

ANNOTATIONS_HEADER = """
## Pod annotations

Read from the downward-API annotations file (`SELDON_ANNOTATIONS_FILE`, default
`/etc/podinfo/annotations`; see [deployment](deployment.md)).

| annotation | default | meaning |
|---|---|---|
"""

RESPECTED_HEADER = """
## Variables respected, not ours

glibc's malloc tunables: when one is set, the REST workers' heap keeper leaves the allocator
as the user tuned it.

"""

BATCH_HEADER = """
## seldon-batch-processor

The batch client of the `seldon_core` package (`seldon-batch-processor`): every option also
comes from its environment variable; `-t` sets `--transport` (`rest`, `grpc`) or
`--batch-interval` (a number).

| flag | environment variable | default | meaning |
|---|---|---|---|
"""

S2I_FOOTER = """
The s2i builder's own variables (`MODEL_NAME`, `SERVICE_TYPE`, `PERSISTENCE`, ...) are on the
[s2i](s2i.md) page.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _code(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def render() -> str:
    """The whole page, as the code says it."""
    sys.path.insert(0, str(ROOT))
    from seldon_core import batch_processor
    from seldon_wrapper import settings_reference as ref

    lines = [HEADER.rstrip("\n")]
    for option in ref.OPTIONS:
        if option.flag == "interface_name":
            flag = "`<interface_name>` (positional)"
        else:
            flag = f"`{option.flag}`" if option.flag else ""
        env = _code(option.env)
        if option.field == "flask_config":
            env = "`FLASK_<SETTING>`"
        default = option.shown_default()
        default = f"`{default}`" if default and option.default is None else default
        lines.append(f"| {flag} | {env} | {_cell(default)} | {option.origin} | {_cell(option.meaning)} |")
    lines.append(ANNOTATIONS_HEADER.rstrip("\n"))
    for name, meaning, default in ref.ANNOTATIONS:
        lines.append(f"| `{name}` | {default} | {_cell(meaning)} |")
    lines.append(RESPECTED_HEADER.rstrip("\n"))
    lines.append(_code(ref.RESPECTED) + ".")
    lines.append(BATCH_HEADER.rstrip("\n"))
    for option in batch_processor._OPTIONS:
        if option.default is None:
            default = "required"
        elif option.default == "":
            default = ""
        elif isinstance(option.default, bool):
            default = f"`{str(option.default).lower()}`"
        else:
            default = f"`{option.default}`"
        meaning = option.help + (f" ({' / '.join(option.choices)})" if option.choices else "")
        lines.append(f"| {_code(option.flags)} | `{option.env}` | {default} | {_cell(meaning)} |")
    lines.append(S2I_FOOTER.rstrip("\n"))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE.name} is out of date: run python tools/gen_config_doc.py")
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
