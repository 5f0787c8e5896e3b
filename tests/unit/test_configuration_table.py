"""The README's configuration table lists exactly the environment variables the code reads.

The scan is a plain regex over the Python source (the packages, the benchmarks and the tests), so a
new ``os.environ.get("WATCHLIST_X")`` anywhere fails this test until the README documents it, and a
table row whose variable nothing reads fails it too. A variable counts as read when it appears:

- as a quoted ``WATCHLIST_*`` string, however it reaches ``os.environ`` (``passphrase_from(...)``,
  a constant, a ``typer`` ``envvar=``, a conditional);
- or, whatever its name, as the quoted first argument of ``os.environ.get`` / ``os.getenv`` /
  ``os.environ[...]`` / ``env.get`` / ``envvar=``.

Prose mentions (docstrings write ````WATCHLIST_HOME````, messages write ``set WATCHLIST_HOME``) are
not quoted on both sides, so they do not count.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("governance", "commands", "projections", "bench", "tests")

# A quoted project variable, e.g. "WATCHLIST_HOME" or 'WATCHLIST_HOME'.
PROJECT_VARIABLE = re.compile(r"""["'](WATCHLIST_[A-Z0-9_]+)["']""")
# Any quoted variable name handed straight to an environment read.
ENVIRONMENT_READ = re.compile(
    r"""(?:environ\.get\(|getenv\(|environ\[|env\.get\(|envvar=)\s*["']([A-Z][A-Z0-9_]*)["']"""
)
# A row of the README's table: | `NAME` | meaning | default |
TABLE_ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", re.MULTILINE)


def variables_read_in(source: str) -> set[str]:
    """The environment variables one source text reads."""
    return set(PROJECT_VARIABLE.findall(source)) | set(ENVIRONMENT_READ.findall(source))


def variables_read_by_the_code() -> dict[str, list[str]]:
    """Each variable the code reads, with the files that read it."""
    found: dict[str, list[str]] = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == Path(__file__).resolve():
                continue
            for name in variables_read_in(path.read_text(encoding="utf-8")):
                found.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    return found


def documented_variables() -> set[str]:
    """The variables in the README's "Configuration" table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return set(TABLE_ROW.findall(section))


def test_every_variable_the_code_reads_is_in_the_readme_table() -> None:
    read = variables_read_by_the_code()
    missing = {name: files for name, files in read.items() if name not in documented_variables()}
    assert not missing, f"add these to the README's configuration table: {missing}"


def test_every_variable_in_the_readme_table_is_read_by_the_code() -> None:
    stale = documented_variables() - set(variables_read_by_the_code())
    assert not stale, f"the README documents variables nothing reads: {sorted(stale)}"


def test_the_scan_finds_the_variables_the_cli_is_known_to_read() -> None:
    # A scan that found nothing would make the two tests above pass vacuously.
    read = variables_read_by_the_code()
    assert {"WATCHLIST_HOME", "WATCHLIST_PASSPHRASE", "WATCHLIST_LOG_PASSPHRASE"} <= set(read)
    assert "commands/session.py" in read["WATCHLIST_OFFICER"]


def test_the_scan_sees_each_way_of_reading_a_variable_and_skips_prose() -> None:
    planted = '''
        a = os.environ.get("WATCHLIST_ONE")
        b = os.getenv('PGSERVICE')
        c = os.environ["HTTP_PROXY"]
        d = env.get(
            "WATCHLIST_TWO"
        )
        e = passphrase_from("WATCHLIST_THREE", "prompt")
        f: str = typer.Option(None, envvar="NO_COLOR")
        """Reads ``WATCHLIST_PROSE`` (a docstring)."""
        raise InvalidInput("set WATCHLIST_MESSAGE or run in a terminal")
    '''
    assert variables_read_in(planted) == {
        "WATCHLIST_ONE",
        "PGSERVICE",
        "HTTP_PROXY",
        "WATCHLIST_TWO",
        "WATCHLIST_THREE",
        "NO_COLOR",
    }


def test_the_table_parser_reads_the_rows_and_nothing_else() -> None:
    documented = documented_variables()
    assert "WATCHLIST_HOME" in documented
    assert "variable" not in documented  # the header row
