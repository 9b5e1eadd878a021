"""House rules that keep the layers honest (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from metrics.schema import COLUMNS, DIMENSIONS, MEASURES
from tests.conftest import REPO


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_metrics_and_models_never_import_streamlit():
    offenders = [
        str(path.relative_to(REPO))
        for package in ("metrics", "models", "reports")
        for path in (REPO / package).rglob("*.py")
        if "streamlit" in _imports(path)
    ]
    assert offenders == []


def test_imports_flow_down_from_reports_never_up_into_it():
    """reports/ reads metrics/ and models/, never ui/; metrics/ and models/ never import reports/."""
    offenders = [str(path.relative_to(REPO)) for path in (REPO / "reports").rglob("*.py") if "ui" in _imports(path)]
    offenders += [
        str(path.relative_to(REPO))
        for package in ("metrics", "models")
        for path in (REPO / package).rglob("*.py")
        if "reports" in _imports(path)
    ]
    assert offenders == []


def test_runtime_requirements_are_pinned():
    lines = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    unpinned = [line for line in lines if line and "==" not in line]
    assert unpinned == []
    streamlit = next(line for line in lines if line.startswith("streamlit=="))
    major, minor = map(int, streamlit.split("==")[1].split(".")[:2])
    assert (major, minor) >= (1, 54)


def test_every_schema_column_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", readme, flags=re.M))
    assert {c.name for c in COLUMNS} <= documented


def test_schema_declares_dimensions_and_measures_once():
    names = [c.name for c in COLUMNS]
    assert len(names) == len(set(names))
    assert set(DIMENSIONS) | set(MEASURES) == set(names)
    for column in COLUMNS:
        assert column.description and column.aliases, column.name


def test_server_upload_cap_matches_the_loader():
    import tomllib

    from metrics.ingest import MAX_UPLOAD_BYTES

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["address"] == "127.0.0.1"


def test_every_page_runs_the_router_guard_before_anything_else():
    """A fresh server may run a page file without dashboard.py: after its imports, the first thing a page
    does is the guard, and no import needs an order exception (imports flow one way)."""
    offenders = []
    for path in sorted((REPO / "pages").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        body = [node for node in ast.parse(source).body
                if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]  # the docstring
        first = next(node for node in body if not isinstance(node, (ast.Import, ast.ImportFrom)))
        if ast.unparse(first) != "require_router(__file__)" or "noqa: E402" in source:
            offenders.append(path.name)
        imported = {alias.name for node in body if isinstance(node, ast.ImportFrom) and node.module == "ui.router"
                    for alias in node.names}
        if "require_router" not in imported:
            offenders.append(path.name)
    assert offenders == []


def test_ui_modules_import_one_way():
    """No module of ui/ imports the router (it sits on top), and access/session never import each other."""
    for path in (REPO / "ui").glob("*.py"):
        if path.name == "router.py":
            continue
        imports = _module_imports(path)
        assert "ui.router" not in imports, f"{path.name} imports ui.router"
    assert "ui.session" not in _module_imports(REPO / "ui" / "access.py")
    assert "ui.access" not in _module_imports(REPO / "ui" / "session.py")


def _module_imports(path: Path) -> set[str]:
    """Full dotted names imported anywhere in a module (`from ui import x` counts as `ui.x`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _literal_session_keys(path: Path) -> list[str]:
    """`st.session_state[...]`, `.get(...)`, `.pop(...)`, `.setdefault(...)` and `in st.session_state`
    with a written-out key (a string or an f-string) instead of a name from ui/state.py."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        key = None
        if isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("session_state"):
            key = node.slice
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("get", "pop", "setdefault")
              and ast.unparse(node.func.value).endswith("session_state") and node.args):
            key = node.args[0]
        elif (isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
              and ast.unparse(node.comparators[0]).endswith("session_state")):
            key = node.left
        if isinstance(key, (ast.Constant, ast.JoinedStr)):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(key)}")
    return found


def test_session_keys_come_from_ui_state():
    """Pages and ui/ read and write session state only through the named keys of ui/state.py."""
    files = [*sorted((REPO / "pages").glob("*.py")), *sorted((REPO / "ui").glob("*.py"))]
    offenders = [hit for path in files if path.name != "state.py" for hit in _literal_session_keys(path)]
    assert offenders == []


def test_the_code_passes_the_linter():
    """Unused imports, undefined names, unsorted imports and import-order exceptions fail the build (ruff.toml)."""
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "check", "--quiet", "."], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_python_callbacks_inside_polars_queries():
    """map_elements / map_batches / map_groups run Python on polars' worker threads; mixed with a thread that
    waits on those workers while holding the GIL (to_pandas, unpickling a cached frame) the server deadlocks.
    Display text is made with `metrics.display.text_column` instead."""
    callback = re.compile(r"\.(map_elements|map_batches|map_groups|map_rows)\(")
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for package in ("metrics", "models", "reports", "ui", "pages")
        for path in sorted((REPO / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if callback.search(line)
    ]
    offenders += [f"dashboard.py:{n}" for n, line in enumerate((REPO / "dashboard.py").read_text().splitlines(), 1)
                  if callback.search(line)]
    assert offenders == []
