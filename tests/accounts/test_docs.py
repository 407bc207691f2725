"""The permission matrix in the docs is the one in the data."""

from pathlib import Path

from kesu.accounts.commands import permission_matrix_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def test_docs_permission_matrix_matches_roles_yaml():
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- generated: kesu user roles --markdown -->\n", 1)[1]
    block = block.split("<!-- end generated -->", 1)[0]
    assert block == permission_matrix_markdown()
