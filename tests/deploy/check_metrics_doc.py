#!/usr/bin/env python3
"""docs/METRICS.md names exactly the metrics fscanary defines.

Every `fscanary_*` name the document mentions must be defined in the source
(a string literal in agent/, collector/, metrics/, checkers/ or common/), and
every name the source defines must be in the document: a rule or a dashboard
written from the document must find what it names, and nothing exported goes
undocumented. Standard library only; exit 0 clean, 1 with the differences.
"""

import argparse
import os
import re
import sys

SOURCE_DIRS = ("agent", "collector", "metrics", "checkers", "common")
NAME = r"fscanary_[a-z0-9_]+"


def names_in_source(root):
    names = set()
    for top in SOURCE_DIRS:
        for directory, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".cc", ".h")):
                    continue
                with open(os.path.join(directory, name), encoding="utf-8") as source:
                    names.update(re.findall(r'"(' + NAME + r')', source.read()))
    return names


def names_in_doc(root):
    with open(os.path.join(root, "docs", "METRICS.md"), encoding="utf-8") as doc:
        return set(re.findall(r"`(" + NAME + r")", doc.read()))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    root = os.path.abspath(parser.parse_args().root)
    defined, documented = names_in_source(root), names_in_doc(root)
    problems = [f"docs/METRICS.md names {name}, which nothing defines"
                for name in sorted(documented - defined)]
    problems += [f"{name} is defined but docs/METRICS.md does not name it"
                 for name in sorted(defined - documented)]
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"OK: docs/METRICS.md names the {len(defined)} metrics the source defines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
