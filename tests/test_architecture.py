"""Rules of the code's layout, read from the source with `ast` (nothing is imported):
no app's views import another app's views (what they share lives in `access/`, forms
or services), `access/` sits below views, services and keys, and only the vault
touches `cryptography`."""

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "node_modules", "migrations", "var", "static", "templates", "locale"}
# Tests may import `cryptography` to check the vault's output from outside.
NOT_PROJECT_CODE = {"tests"}

# The vault's primitives (vault.crypto) are the vault's own. The benchmarks time the
# key derivations themselves, so they call them directly; they build no associated data.
TIMES_THE_PRIMITIVES = {"benchmarks/management/commands/benchmark.py", "bench/probe.py"}


def project_files() -> list[Path]:
    files = []
    for directory, subdirs, names in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS and not d.startswith(".")]
        if Path(directory) == ROOT:
            subdirs[:] = [d for d in subdirs if d not in NOT_PROJECT_CODE]
        files += [Path(directory, name) for name in names if name.endswith(".py")]
    return sorted(files)


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module the source may import, anywhere in it (inside functions too). For
    `from a import b`, both `a` and `a.b`: `b` may be a submodule."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def is_views_module(module: str) -> bool:
    return any(part == "views" or part.endswith("_views") for part in module.split(".")[1:])


def apps() -> set[str]:
    return {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in SKIPPED_DIRS | NOT_PROJECT_CODE
    }


def views_importing_other_apps_views() -> list[str]:
    project_apps = apps()
    found = []
    for path in project_files():
        module = module_name(path)
        app = module.split(".")[0]
        if app not in project_apps or not is_views_module(module):
            continue
        source = path.read_text(encoding="utf-8")
        for imported in imported_modules(source, module, is_package=path.name == "__init__.py"):
            other_app = imported.split(".")[0]
            if other_app in project_apps and other_app != app and is_views_module(imported):
                found.append(f"{relative(path)} imports {imported}")
    return sorted(found)


def test_no_views_module_imports_another_apps_views():
    assert views_importing_other_apps_views() == []


def test_access_reads_models_and_selectors_only():
    """access/ is imported by views, services and keys alike: it imports none of them."""
    project_apps, forbidden = apps(), []
    for path in sorted((ROOT / "access").glob("*.py")):
        module = module_name(path)
        for imported in imported_modules(path.read_text(encoding="utf-8"), module):
            if imported.split(".")[0] not in project_apps:
                continue
            if (
                is_views_module(imported)
                or "services" in imported.split(".")
                or imported.split(".")[0] == "vault"
            ):
                forbidden.append(f"{relative(path)} imports {imported}")
    assert forbidden == []


def imports_of(path: Path) -> set[str]:
    return imported_modules(
        path.read_text(encoding="utf-8"), module_name(path), is_package=path.name == "__init__.py"
    )


def outside_the_vault() -> list[Path]:
    return [path for path in project_files() if not relative(path).startswith("vault/")]


def test_only_the_vault_imports_cryptography():
    users = {
        relative(path)
        for path in outside_the_vault()
        if any(name.split(".")[0] == "cryptography" for name in imports_of(path))
    }
    assert users == set()


def test_nothing_outside_the_vault_uses_its_primitives():
    """Associated data, data keys and the key ring are built inside the vault only; the
    rest of the code calls its use cases (vault.cases, vault.keys, vault.server_sealed)."""
    users = {
        relative(path)
        for path in outside_the_vault()
        if "vault.crypto" in imports_of(path) or "vault.crypto" in path.read_text(encoding="utf-8")
    }
    assert users == TIMES_THE_PRIMITIVES


def test_imports_sit_at_the_top_of_each_module():
    """An import inside a function hides a dependency; one that breaks a real cycle says
    so in a comment naming it. (The scripts in bench/ and manage.py import Django only
    once they have set it up: they are not checked.)"""
    hidden = []
    for path in project_files():
        if path.parent == ROOT or relative(path).startswith("bench/"):
            continue
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    said = " ".join(lines[max(inner.lineno - 2, 0) : inner.lineno])
                    if "cycle" not in said:
                        hidden.append(f"{relative(path)}:{inner.lineno}")
    assert hidden == []


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from complaints.views import x", "policies.views", "complaints.views"),
        ("from complaints import views", "policies.views", "complaints.views"),
        ("def f():\n    import complaints.sms_views", "policies.views", "complaints.sms_views"),
        ("from ..complaints import views", "policies.views", "complaints.views"),
    ],
)
def test_the_reader_finds_every_form_of_import(source, module, expected):
    imported = imported_modules(source, module)
    assert expected in imported
    assert is_views_module(expected)
