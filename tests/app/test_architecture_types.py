"""Services take typed inputs: no public service function has a `dict[str, Any]` parameter.

A request body reaches a service as its pydantic model (or a dataclass / TypedDict), so a
misspelt field is a type error, not a KeyError at run time. Read from the source with ast.
"""

import ast
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "api"
# the modules that hold services: every service.py, and the ones split out of them
SERVICE_MODULES = sorted(
    {
        *API.glob("*/service.py"),
        API / "accounts" / "users.py",
        API / "accounts" / "clients.py",
        API / "accounts" / "credentials.py",
        API / "auth" / "throttle.py",
        API / "indicators" / "targets.py",
        API / "registrations" / "imports.py",
    }
)


def untyped_parameters(modules: list[Path], root: Path = API.parent) -> set[str]:
    found = set()
    for path in modules:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if node.name.startswith("_"):
                continue
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                if arg.annotation is not None and "dict[str, Any]" in ast.unparse(arg.annotation):
                    where = path.relative_to(root).as_posix()
                    found.add(f"{where} {node.name}({arg.arg})")
    return found


def test_every_service_module_exists() -> None:
    assert [p for p in SERVICE_MODULES if not p.exists()] == []


def test_no_service_function_takes_a_dict_of_anything() -> None:
    assert untyped_parameters(SERVICE_MODULES) == set()


def test_the_check_finds_a_dict_parameter(tmp_path: Path) -> None:
    module = tmp_path / "service.py"
    module.write_text(
        "from typing import Any\n\n"
        "async def create(conn, data: dict[str, Any]) -> None: ...\n"
        "def _private(data: dict[str, Any]) -> None: ...\n"
        "def typed(body: 'Model', rows: list[dict[str, Any]] | None) -> None: ...\n",
        encoding="utf-8",
    )
    assert untyped_parameters([module], tmp_path) == {
        "service.py create(data)",
        "service.py typed(rows)",
    }
