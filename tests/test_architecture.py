"""The package's layering: data flows one way, and the adapters use public names only."""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "semitensor"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """``(module, names)`` of every ``from … import …`` in ``path``, resolved to absolute."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def _graph():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for module, names in _imports(path):
            for target in [module] + [f"{module}.{n}" for n in names]:
                if target in modules and target != name:
                    deps.add(target)
        graph[name] = deps
    return graph


def test_no_import_cycles():
    graph = _graph()
    # A package's __init__ re-exports its children; that edge is not a layering edge.
    for name in graph:
        graph[name] = {d for d in graph[name] if not name.startswith(d + ".") or d == name}
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for dep in graph[node]:
            if state.get(dep) == "open":
                pytest.fail("import cycle: " + " -> ".join(stack + [node, dep]))
            if dep not in state:
                visit(dep, stack + [node])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [])


def test_torch_adapter_imports_public_names_only():
    for path in (PACKAGE / "torch").glob("*.py"):
        for module, names in _imports(path):
            if not module.startswith("semitensor") or module.startswith("semitensor.torch"):
                continue
            private = [m for m in module.split(".") if m.startswith("_")] + [n for n in names if n.startswith("_")]
            assert not private, f"{path.name} imports private {private} from {module}"


def test_format_layer_is_below_the_fits_and_results():
    graph = _graph()
    for name, deps in graph.items():
        if name.startswith("semitensor.formats"):
            assert not {d for d in deps if d.startswith(("semitensor.results", "semitensor.decomposition",
                                                         "semitensor.io", "semitensor.torch"))}, name
