"""The layout of dissuasion/ (docs/ARCHITECTURE.md) as a newcomer relies on it. The arrows between the parts are
checked by import-linter (`make lint`); these check what it cannot: where modules live and who leans on them."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dissuasion"
#: What may stay at the top of dissuasion/: the factory and the process-wide pieces.
TOP_LEVEL = {"__init__.py", "config.py", "extensions.py", "cli", "scheduler.py"}
NOT_DOMAINS = {"core", "cli", "static", "translations", "deploy"}


def _domains() -> list[str]:
    return sorted(p.name for p in PACKAGE.iterdir()
                  if p.is_dir() and (p / "__init__.py").exists() and p.name not in NOT_DOMAINS)


def _runtime_imports(path: Path) -> set[str]:
    """The dissuasion modules a file imports when it runs (imports under `if TYPE_CHECKING:` are type hints)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hinted = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
              for n in ast.walk(node)}
    package = list(path.relative_to(PACKAGE.parent).parts[:-1])  # the package a relative import starts from
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and id(node) not in hinted:
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif (node.module or "").startswith("dissuasion"):
                found.add(node.module)
    return found


def test_only_the_factory_and_process_wide_pieces_sit_at_the_top():
    loose = {p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert {p for p in loose if p.endswith(".py")} <= TOP_LEVEL
    assert not any((PACKAGE / old / "__init__.py").exists() for old in ("admin", "main"))  # pages live in their part


def test_no_module_outside_core_is_leant_on_by_more_than_half_the_domains():
    domains = _domains()
    users: dict[str, set[str]] = {}
    for domain in domains:
        for path in (PACKAGE / domain).rglob("*.py"):
            for module in _runtime_imports(path):
                parts = module.split(".")
                if len(parts) > 2 and parts[1] in domains and parts[1] != domain:
                    users.setdefault(module, set()).add(domain)
    crowded = {m: sorted(d) for m, d in users.items() if len(d) > len(domains) / 2}
    assert not crowded, f"used by more than half of {len(domains)} domains; it belongs in core/: {crowded}"


def test_the_architecture_page_names_every_part():
    page = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for part in [*_domains(), "core", "cli"]:
        assert f"`{part}/`" in page, f"docs/ARCHITECTURE.md does not describe {part}/"
