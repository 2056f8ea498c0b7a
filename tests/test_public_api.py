"""The public surface of the package is small and pinned."""

import contraxis


def test_all_lists_exactly_the_public_names():
    """Check that __all__ is sorted and lists exactly the names the package exports."""
    assert contraxis.__all__ == sorted(contraxis.__all__)
    assert set(contraxis.__all__) == {
        "Assessment", "Case", "CaseError", "ContradictionError", "ContraxisError", "KnowledgeBase",
        "KnowledgeBaseError", "assess", "load_case", "load_knowledge_base", "read_case",
    }


def test_core_imports_no_edge():
    """Check that importing the engine loads no command-line or web framework."""
    import subprocess
    import sys

    code = (
        "import sys, contraxis, contraxis.engine; "
        "print(sorted(m for m in ('typer','rich','fastapi','uvicorn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_readme_example_runs(kb):
    """Check that the Python example of the package docstring works as written."""
    from pathlib import Path

    from contraxis import assess, load_case

    root = Path(__file__).resolve().parent.parent
    assessment = assess(load_case(root / "examples/cervical-dystonia.yaml"), kb=kb)
    assert assessment.summary.phenomenology == "dystonia"
