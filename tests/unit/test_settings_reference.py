"""docs/configuration.md is the code's own account of its options.

The page is generated from ``seldon_wrapper/settings_reference.py``; these tests hold that table
to the parser (every flag), to what the code reads (every environment variable, found both by
recording ``Settings.from_env`` and by reading the package's source), and to the behaviour
(each row's flag and variable really set the field the row names).
"""

from __future__ import annotations

import ast
import importlib.util
import pathlib
from collections.abc import Iterable

import pytest

from seldon_wrapper import cli, settings_reference
from seldon_wrapper.settings import Settings
from seldon_wrapper.speedups import heap

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "seldon_wrapper"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_config_doc", ROOT / "tools" / "gen_config_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RecordingEnv(dict):
    """An environment that remembers every name asked of it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def parser_flags(parser) -> set[str]:
    flags = set()
    for action in parser._actions:
        if action.dest == "help":
            continue
        flags.add(action.option_strings[0] if action.option_strings else action.dest)
    return flags


def _is_environment(node: ast.AST) -> bool:
    """``env`` or ``os.environ``: how the package reads variables (``environ`` is WSGI's)."""
    if isinstance(node, ast.Name):
        return node.id == "env"
    return (
        isinstance(node, ast.Attribute) and node.attr == "environ" and getattr(node.value, "id", "") == "os"
    )


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def names_read_in_source(paths: Iterable[pathlib.Path]) -> set[str]:
    """Variable names in ``env.get("X")``, ``env["X"]``, ``"X" in os.environ`` and ``*ENV = "X"``."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found = None
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
            ):
                if _is_environment(node.func.value) and node.args:
                    found = _string(node.args[0])
            elif isinstance(node, ast.Subscript) and _is_environment(node.value):
                found = _string(node.slice)
            elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In) for op in node.ops):
                if _is_environment(node.comparators[0]):
                    found = _string(node.left)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and target.id.upper().endswith("ENV"):
                    found = _string(node.value)
            if found:
                names.add(found)
    return names


#: Another command with its own options (seldon-core-executor, executor/settings.py ENVIRONMENT).
OTHER_COMMANDS = (PACKAGE / "executor",)


def variables_the_code_reads() -> set[str]:
    env = RecordingEnv()
    Settings.from_env(env)
    sources = [path for path in PACKAGE.rglob("*.py") if not any(d in path.parents for d in OTHER_COMMANDS)]
    return env.asked | names_read_in_source(sources)


def test_every_flag_of_the_parser_has_a_row_and_every_row_a_flag():
    parser = cli.build_parser(Settings())
    assert parser_flags(parser) == settings_reference.documented_flags()


def test_a_flag_added_without_a_row_is_caught():
    parser = cli.build_parser(Settings())
    parser.add_argument("--brand-new-flag", default=1)
    assert parser_flags(parser) - settings_reference.documented_flags() == {"--brand-new-flag"}


def test_every_variable_the_code_reads_has_a_row_and_no_row_is_stale():
    read = variables_the_code_reads()
    documented = settings_reference.documented_env()
    assert read - documented - set(settings_reference.RESPECTED) == set()
    assert documented - read == set()


def test_the_source_scan_sees_reads_outside_settings(tmp_path):
    source = tmp_path / "module.py"
    source.write_text(
        "import os\nSOME_ENV = 'A_NAME'\n"
        "def f(env):\n    return env.get('B_NAME'), os.environ['C_NAME'], 'D_NAME' in os.environ\n"
    )
    assert names_read_in_source([source]) == {"A_NAME", "B_NAME", "C_NAME", "D_NAME"}


def test_respected_variables_are_the_heap_keepers():
    assert settings_reference.RESPECTED == heap._USER_TUNING


ROWS_WITH_FIELDS = [o for o in settings_reference.OPTIONS if o.field and o.example is not None]


@pytest.mark.parametrize("option", [o for o in ROWS_WITH_FIELDS if o.env], ids=lambda o: o.env[0])
def test_each_variable_sets_the_field_its_row_names(option):
    default = getattr(Settings(), option.field)
    for name in option.env:
        value = getattr(Settings.from_env({name: option.example}), option.field)
        assert value != default, f"{name}={option.example} left {option.field} at {default!r}"


FLAG_ROWS = [o for o in ROWS_WITH_FIELDS if o.flag and o.flag != "interface_name"]


@pytest.mark.parametrize("option", FLAG_ROWS, ids=lambda o: o.flag)
def test_each_flag_sets_the_field_its_row_names(option):
    default = getattr(Settings(), option.field)
    value = getattr(cli.parse_settings(["MyModel", option.flag, option.example], env={}), option.field)
    assert value != default


@pytest.mark.parametrize("option", [o for o in settings_reference.OPTIONS if o.flag and o.field], ids=str)
def test_the_parser_default_is_the_settings_default(option):
    """The table shows Settings' default; the parser must start from the same value."""
    parsed = cli.parse_settings(["MyModel"], env={})
    if option.flag == "interface_name":
        assert parsed.interface_name == "MyModel"
        return
    assert getattr(parsed, option.field) == getattr(Settings(), option.field)


def test_every_field_of_settings_is_documented_or_derived():
    """A new Settings field needs a row; the ones below are filled from others, not configured."""
    derived = {"annotations"}
    documented = {option.field for option in settings_reference.OPTIONS if option.field}
    fields = set(Settings.__dataclass_fields__) - derived
    assert fields - documented == set()


def test_the_configuration_page_is_the_generated_one():
    generator = _generator()
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == generator.render(), "run: python tools/gen_config_doc.py"
    for name in settings_reference.documented_env():
        if not name.startswith("FLASK_"):
            assert f"`{name}`" in page
    assert "`FLASK_JSONIFY_PRETTYPRINT_REGULAR`" in page


def test_the_check_mode_fails_on_a_stale_page(tmp_path, capsys):
    generator = _generator()
    stale = tmp_path / "configuration.md"
    stale.write_text(generator.render().replace("`--workers`", "`--wrokers`"))
    generator.PAGE = stale
    assert generator.main(["--check"]) == 1
    stale.write_text(generator.render())
    assert generator.main(["--check"]) == 0
