"""No function in api/ runs over 60 lines unless its docstring says why.

A long function is usually several steps in one; one that must stay long (a linear page of
wiring, a per-request path where a call costs) says so in a docstring line that starts with
"Long because".
"""

import ast
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "api"
MOST_LINES = 60


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _says_why(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    docstring = ast.get_docstring(function) or ""
    return any(line.strip().startswith("Long because") for line in docstring.splitlines())


def long_functions_without_reason(root: Path = API) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for function in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            lines = (function.end_lineno or function.lineno) - function.lineno + 1
            if lines > MOST_LINES and not _says_why(function):
                where = path.relative_to(root.parent)
                found.append(f"{where}:{function.lineno} {function.name} ({lines} lines)")
    return found


def test_no_function_over_60_lines_without_a_reason() -> None:
    assert (API / "main.py").is_file()
    assert long_functions_without_reason() == []


def test_the_check_finds_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MOST_LINES))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n", encoding="utf-8")
    explained = f'def explained():\n    """Long because a test says so."""\n{body}\n'
    (tmp_path / "explained.py").write_text(explained, encoding="utf-8")
    (tmp_path / "short.py").write_text("def short():\n    return 1\n", encoding="utf-8")
    assert long_functions_without_reason(tmp_path) == [
        f"{tmp_path.name}/long.py:1 long ({MOST_LINES + 1} lines)"
    ]
