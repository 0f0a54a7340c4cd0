"""docs/BENCHMARKS.md's generated sections, for the Python benchmark scripts: each table
sits between `<!-- NAME:begin -->` and `<!-- NAME:end -->` and is replaced whole."""
import os
import re
import sys

PATH = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "BENCHMARKS.md"))


def write_section(name, table):
    """Replace section `name` with `table`; exit with a message when its markers are missing."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    doc = open(PATH, encoding="utf-8").read()
    if begin not in doc or end not in doc:
        sys.exit(f"docs/BENCHMARKS.md has no {begin} … {end} markers")
    doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: begin + "\n" + table + "\n" + end, doc, flags=re.S)
    open(PATH, "w", encoding="utf-8").write(doc)
