"""The import graph of api/, read from the source with ast (nothing is imported or run).

(a) Only the web layer imports FastAPI or Starlette, directly or through another module:
    services, models, schemas, figures and the caller run without a web framework.
(b) No import loop between the folders of api/: each folder (its router, service, schemas,
    figures and tables) is one node, an import from a module of one folder into another
    folder is an edge. The modules at the top of api/ (caller, calendar, deps, scoping...)
    are the shared kernel: they are nodes of a second graph, beside each folder's code and
    each folder's tables (which import nothing but `api.base`), so no loop runs through
    them either (a service importing deps, deps importing the service).

A failure prints the offending chain or edge.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "api"
WEB_FRAMEWORKS = ("fastapi", "starlette")

# The web layer: these may import FastAPI or Starlette. Every `router.py` belongs to it too.
WEB_MODULES = frozenset(
    {
        "api.main",  # the app
        "api.deps",  # the request's connection, the caller, the role aliases
        "api.middleware",
        "api.openapi",
        "api.docs",
        "api.problems",  # the exception handlers: errors as application/problem+json
        "api.params",  # query and path parameters
        "api.responses",  # fast JSON, CSV negotiation
        "api.health",  # the health routes
        "api.metrics",  # the scrape route and the request-counting middleware
        "api.idempotency.deps",  # the Idempotency-Key dependency
        "api.cli",  # `bwk serve` starts the app
    }
)


def _is_web(module: str) -> bool:
    return module in WEB_MODULES or module.endswith(".router")


def _modules() -> dict[str, Path]:
    found = {}
    for path in API.rglob("*.py"):
        parts = list(path.relative_to(API.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and (
        (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that runs, at the top or inside a function; not those under
    `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if _type_checking_only(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        else:
            yield from _import_nodes(node)


def _owner(name: str) -> str | None:
    """The api module `name` is, or lies in (`api.x.y.Thing` -> `api.x.y`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


@cache
def imports(module: str) -> frozenset[str]:
    """The api modules and web frameworks `module` imports."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from api import errors` imports the module api.errors
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            top = name.partition(".")[0]
            if top in WEB_FRAMEWORKS:
                found.add(top)
            elif top == "api" and (owner := _owner(name)) is not None and owner != module:
                found.add(owner)
    return frozenset(found)


@cache
def chain_to_web(module: str) -> tuple[str, ...] | None:
    """The shortest chain of imports from `module` to FastAPI or Starlette, if any."""
    queue: list[tuple[str, ...]] = [(module,)]
    seen = {module}
    while queue:
        chain = queue.pop(0)
        for target in sorted(imports(chain[-1])):
            if target in WEB_FRAMEWORKS:
                return (*chain, target)
            if target not in seen:
                seen.add(target)
                queue.append((*chain, target))
    return None


def test_only_the_web_layer_imports_the_web_framework() -> None:
    offending = []
    for module in sorted(MODULES):
        if _is_web(module):
            continue
        chain = chain_to_web(module)
        if chain is not None:
            offending.append(" -> ".join(chain))
    assert not offending, (
        "these modules import a web framework (add the module to WEB_MODULES only if it is "
        "web layer):\n  " + "\n  ".join(offending)
    )


def test_the_web_layer_list_names_modules_that_exist() -> None:
    assert MODULES.keys() >= WEB_MODULES, sorted(WEB_MODULES - MODULES.keys())


def test_the_check_sees_a_web_import() -> None:
    # the graph is read correctly: deps imports fastapi, a router reaches it through deps
    assert "fastapi" in imports("api.deps")
    assert chain_to_web("api.rooms.router") is not None
    assert "api.accounts.models" in imports("api.caller")
    assert "api.problems" in imports("api.main")  # `from api import problems`


def folder(module: str) -> str | None:
    """A module's folder below api/ (`api.rooms`); None for a module at the top of api/."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and MODULES[module].name == "__init__.py"):
        return ".".join(parts[:2])
    return None


def node(module: str) -> str:
    """A module's node in the graph with the kernel: its folder's code, its folder's tables
    (`api.rooms.models`), or the top-level module itself (`api.caller`)."""
    if module.endswith(".models"):
        return module
    return folder(module) or module


Edges = dict[str, dict[str, tuple[str, str]]]


def edges_between(node_of: Callable[[str], str | None]) -> Edges:
    """node -> node it imports -> one import that makes the edge (module, imported module)."""
    edges: Edges = {}
    for module in sorted(MODULES):
        for target in sorted(imports(module)):
            if target in WEB_FRAMEWORKS or target == "api":
                continue
            source, dest = node_of(module), node_of(target)
            if source is not None and dest is not None and source != dest:
                edges.setdefault(source, {}).setdefault(dest, (module, target))
    return edges


def folder_cycles(edges: Edges) -> list[list[str]]:
    """The strongly connected groups of more than one folder (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, {})):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def _loops(edges: Edges) -> list[str]:
    found = []
    for group in folder_cycles(edges):
        members = set(group)
        lines = [
            f"{source} -> {dest}  ({module} imports {target})"
            for source in group
            for dest, (module, target) in sorted(edges.get(source, {}).items())
            if dest in members
        ]
        found.append("loop between " + ", ".join(group) + ":\n    " + "\n    ".join(lines))
    return found


def test_no_import_loop_between_folders() -> None:
    loops = _loops(edges_between(folder))
    assert not loops, "\n  ".join(loops)


def test_no_import_loop_through_the_kernel() -> None:
    loops = _loops(edges_between(node))
    assert not loops, "\n  ".join(loops)


def test_the_loop_check_finds_a_loop() -> None:
    edges = {"a": {"b": ("a.x", "b.y")}, "b": {"c": ("b.y", "c.z")}, "c": {"a": ("c.z", "a.x")}}
    assert folder_cycles(edges) == [["a", "b", "c"]]
    assert folder_cycles({"a": {"b": ("a.x", "b.y")}}) == []


def test_tables_import_only_tables() -> None:
    offending = [
        f"{module} imports {target}"
        for module in sorted(MODULES)
        if module.endswith(".models") and module != "api.models"
        for target in sorted(imports(module))
        if target != "api.base" and not target.endswith(".models")
    ]
    assert not offending, "\n".join(offending)


def test_no_router_imports_another_router() -> None:
    offending = [
        f"{module} imports {target}"
        for module in sorted(MODULES)
        if module.endswith(".router")
        for target in sorted(imports(module))
        if target.endswith(".router")
    ]
    assert not offending, "\n".join(offending)
