"""Constructor parameters (spec 1.5) and importing the user class (spec 1.4)."""

from __future__ import annotations

import math

import pytest

from seldon_wrapper.errors import SeldonMicroserviceException, StartupError
from seldon_wrapper.loader import (
    import_user_class,
    load_user_object,
    parameters_from_json,
    parse_parameters,
)
from tests.conftest import MODELS_DIR


def param(name: str, value, ptype: str) -> dict:
    return {"name": name, "value": value, "type": ptype}


# -- parse_parameters: conversions --------------------------------------------------------------


@pytest.mark.parametrize(
    "ptype,value,expected",
    [
        ("INT", "1", 1),
        ("INT", "-42", -42),
        ("INT", " 7 ", 7),
        ("FLOAT", "0.5", 0.5),
        ("FLOAT", "1e3", 1000.0),
        ("FLOAT", "3", 3.0),
        ("DOUBLE", "2.25", 2.25),
        ("DOUBLE", "-1", -1.0),
        ("STRING", "hello world", "hello world"),
        ("STRING", "", ""),
        ("STRING", "123", "123"),
    ],
)
def test_conversion(ptype, value, expected):
    result = parse_parameters([param("p", value, ptype)])
    assert result == {"p": expected}
    assert type(result["p"]) is type(expected)


def test_float_and_double_give_python_float():
    result = parse_parameters([param("f", "0.1", "FLOAT"), param("d", "0.1", "DOUBLE")])
    assert result == {"f": 0.1, "d": 0.1}
    assert isinstance(result["f"], float) and isinstance(result["d"], float)


def test_float_special_values():
    assert math.isinf(parse_parameters([param("f", "inf", "FLOAT")])["f"])


@pytest.mark.parametrize("value", ["y", "yes", "t", "true", "on", "1", "Y", "YES", "True", "TRUE", "On"])
def test_bool_true_spellings(value):
    assert parse_parameters([param("flag", value, "BOOL")]) == {"flag": True}


@pytest.mark.parametrize("value", ["n", "no", "f", "false", "off", "0", "N", "No", "False", "FALSE", "OFF"])
def test_bool_false_spellings(value):
    assert parse_parameters([param("flag", value, "BOOL")]) == {"flag": False}


def test_several_parameters_become_kwargs():
    params = [param("a", "1", "INT"), param("e", "true", "BOOL"), param("s", "x", "STRING")]
    assert parse_parameters(params) == {"a": 1, "e": True, "s": "x"}


def test_empty_list_gives_no_kwargs():
    assert parse_parameters([]) == {}


def test_json_type_extension():
    assert parse_parameters([param("cfg", '{"layers": [1, 2], "name": "n"}', "JSON")]) == {
        "cfg": {"layers": [1, 2], "name": "n"}
    }


# -- parse_parameters: errors (exact messages of spec 1.5) ------------------------------------------


@pytest.mark.parametrize(
    "name,value,ptype",
    [
        ("batch_size", "abc", "INT"),
        ("batch_size", "1.5", "INT"),
        ("batch_size", "", "INT"),
        ("rate", "fast", "FLOAT"),
        ("rate", "1,5", "DOUBLE"),
        ("enabled", "maybe", "BOOL"),
        ("enabled", "", "BOOL"),
        ("enabled", "2", "BOOL"),
        ("cfg", "{not json", "JSON"),
    ],
)
def test_bad_value_message(name, value, ptype):
    with pytest.raises(SeldonMicroserviceException) as info:
        parse_parameters([param(name, value, ptype)])
    expected = f"Bad model parameter: {name} with value {value} can't be parsed as a {ptype}"
    assert info.value.message == expected
    assert info.value.reason == "MICROSERVICE_BAD_PARAMETER"


@pytest.mark.parametrize("ptype", ["FOO", "int", "LIST", ""])
def test_bad_type_message(ptype):
    with pytest.raises(SeldonMicroserviceException) as info:
        parse_parameters([param("p", "1", ptype)])
    assert info.value.message.startswith(
        f"Bad model parameter type: {ptype} valid are INT, FLOAT, DOUBLE, STRING, BOOL"
    )
    assert info.value.reason == "MICROSERVICE_BAD_PARAMETER"


def test_bad_parameter_error_body_shape():
    with pytest.raises(SeldonMicroserviceException) as info:
        parse_parameters([param("p", "x", "INT")])
    assert info.value.to_dict() == {
        "status": {
            "status": 1,
            "info": "Bad model parameter: p with value x can't be parsed as a INT",
            "code": -1,
            "reason": "MICROSERVICE_BAD_PARAMETER",
        }
    }


# -- parameters_from_json ---------------------------------------------------------------------------


def test_parameters_from_json_ok():
    assert parameters_from_json('[{"name":"a","value":"1","type":"INT"}]') == {"a": 1}
    assert parameters_from_json("[]") == {}
    assert parameters_from_json("") == {}


def test_parameters_from_json_malformed():
    with pytest.raises(StartupError, match="not valid JSON"):
        parameters_from_json('[{"name": "a", ')


def test_parameters_from_json_not_a_list():
    with pytest.raises(StartupError, match="expected a JSON list"):
        parameters_from_json('{"name": "a", "value": "1", "type": "INT"}')


def test_parameters_from_json_bad_value_is_startup_error():
    with pytest.raises(StartupError) as info:
        parameters_from_json('[{"name":"a","value":"abc","type":"INT"}]')
    assert str(info.value) == "Bad model parameter: a with value abc can't be parsed as a INT"


# -- import_user_class ------------------------------------------------------------------------------


@pytest.fixture
def models_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(MODELS_DIR))


def test_import_by_module_name(models_on_path):
    cls = import_user_class("IdentityModel")
    assert cls.__name__ == "IdentityModel"
    assert cls.__module__ == "IdentityModel"


def test_import_by_dotted_path(models_on_path):
    cls = import_user_class("dotted_pkg.sub_mod.Inner")
    assert cls.__name__ == "Inner"
    assert cls.__module__ == "dotted_pkg.sub_mod"


def test_import_dotted_path_splits_on_last_dot():
    cls = import_user_class("tests.models.IdentityModel.IdentityModel")
    assert cls.__module__ == "tests.models.IdentityModel"


def test_missing_module_is_startup_error(models_on_path):
    with pytest.raises(StartupError) as info:
        import_user_class("NoSuchModelAnywhere")
    assert "NoSuchModelAnywhere" in str(info.value)


def test_missing_dotted_module_is_startup_error(models_on_path):
    with pytest.raises(StartupError) as info:
        import_user_class("dotted_pkg.nope.Inner")
    assert "dotted_pkg.nope" in str(info.value)


def test_module_without_same_named_class(models_on_path):
    with pytest.raises(StartupError) as info:
        import_user_class("NoMatchingClass")
    assert str(info.value) == "Model module 'NoMatchingClass' has no class 'NoMatchingClass'"


def test_dotted_module_without_class(models_on_path):
    with pytest.raises(StartupError) as info:
        import_user_class("dotted_pkg.sub_mod.Outer")
    assert str(info.value) == "Model module 'dotted_pkg.sub_mod' has no class 'Outer'"


def test_module_raising_on_import(models_on_path):
    with pytest.raises(StartupError) as info:
        import_user_class("BrokenImportModel")
    message = str(info.value)
    assert "BrokenImportModel" in message
    assert "BrokenImportModel exploded at import time" in message


def test_missing_dependency_of_existing_module_is_named(models_on_path):
    """DepMissingModel.py exists but imports a helper module 'DepMissing' that does not: the
    error must say which module is missing rather than claim the model file is absent."""
    with pytest.raises(StartupError) as info:
        import_user_class("DepMissingModel")
    message = str(info.value)
    assert "'DepMissing'" in message
    assert "no such module (is the file in the current directory?)" not in message


def test_missing_third_party_dependency_is_named(models_on_path, tmp_path, monkeypatch):
    (tmp_path / "UsesMissingLib.py").write_text(
        "import totally_absent_library_xyz  # noqa: F401\n\nclass UsesMissingLib:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(StartupError) as info:
        import_user_class("UsesMissingLib")
    assert "totally_absent_library_xyz" in str(info.value)


def test_empty_interface_name():
    with pytest.raises(StartupError):
        import_user_class("")


# -- load_user_object -------------------------------------------------------------------------------


def test_load_user_object_passes_parameters(models_on_path):
    user = load_user_object(
        "ParamTypesModel", '[{"name":"a","value":"3","type":"INT"},{"name":"b","value":"no","type":"BOOL"}]'
    )
    assert user.kwargs == {"a": 3, "b": False}


def test_constructor_exception_is_startup_error(models_on_path):
    with pytest.raises(StartupError) as info:
        load_user_object("InitFailsModel", "[]")
    message = str(info.value)
    assert "InitFailsModel" in message
    assert "weights file /nowhere/model.bin is missing" in message


def test_unexpected_parameter_names_the_parameter(models_on_path):
    with pytest.raises(StartupError) as info:
        load_user_object("IdentityModel", '[{"name":"unknown_arg","value":"1","type":"INT"}]')
    assert "unknown_arg" in str(info.value)


def test_bad_parameter_checked_before_import(models_on_path):
    with pytest.raises(StartupError, match="Bad model parameter: a with value x can't be parsed as a INT"):
        load_user_object("NoSuchModelAnywhere", '[{"name":"a","value":"x","type":"INT"}]')
