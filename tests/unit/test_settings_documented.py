"""README's configuration table and `config.settings.Settings` agree, and the code reads each.

A setting that is documented and declared but never read (as STEPLINE_MAX_DEFINITION_BYTES
once was) fails here: every field must be read somewhere in engine/, tasks/ or config/
through an expression that holds the settings (``config.x``, ``settings.x``,
``self.settings.x``, ``read_settings().x``, or ``self.x`` inside config/settings.py).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("engine", "tasks", "config")
SETTINGS_HOLDERS = {"settings", "config", "read_settings", "load_settings"}
_ROW_NAMES = re.compile(r"`STEPLINE_([A-Z_]+)`")


def documented() -> set[str]:
    """The field names of the rows of README's configuration table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### Configuration", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `STEPLINE_")]
    return {name.lower() for row in rows for name in _ROW_NAMES.findall(row.split("|")[1])}


def read_fields() -> set[str]:
    """The attribute names read off a settings object anywhere in the sources."""
    names: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            in_settings = path == ROOT / "config" / "settings.py"
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and _holds_settings(node.value, in_settings):
                    names.add(node.attr)
    return names


def _holds_settings(node: ast.expr, in_settings_module: bool) -> bool:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id in SETTINGS_HOLDERS or (in_settings_module and node.id == "self")
    return isinstance(node, ast.Attribute) and node.attr in SETTINGS_HOLDERS


def test_every_documented_setting_is_a_field_of_settings() -> None:
    # Given README's configuration table
    names = documented()
    # Then each variable is a Settings field (STEPLINE_<FIELD>)
    assert names, "no configuration table found in README.md"
    assert names - set(Settings.model_fields) == set()


def test_every_field_of_settings_is_documented() -> None:
    # Given the Settings fields
    # Then README's configuration table has a row for each
    assert set(Settings.model_fields) - documented() == set()


def test_every_documented_setting_is_read_by_the_code() -> None:
    # Given the documented settings
    # When the sources are searched for reads off a settings object
    unread = documented() - read_fields()
    # Then none is documented and declared but never read
    assert unread == set(), f"documented but never read: {sorted(unread)}"


def test_the_check_detects_a_setting_that_is_never_read() -> None:
    # Given a field name nothing reads
    # Then the search does not find it (the check above can fail)
    assert "no_such_setting" not in read_fields()
    assert {"max_definition_bytes", "flower_port", "lease_seconds"} <= read_fields()
