#!/usr/bin/env python3
"""The README's layout table matches the folders.

Every folder the table names exists, and every library folder (a folder with
a CMakeLists.txt) under common/, io/ and checkers/ is named in it, either in
its own row or, for common/, as `name/` in the common row; agent/, collector/,
proto/ and metrics/ are described whole. A newcomer reading the table must
find every checker piece where the table says. Standard library only; exit 0
when they match, 1 naming each difference.
"""

import argparse
import os
import re
import sys

DESCRIBED_BY_PARTS = ("io", "checkers")


def table_rows(readme):
    section = readme.split("## Layout", 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("## "):
            break
        if line.startswith("| `"):
            first, rest = line.split("|")[1], "|".join(line.split("|")[2:])
            rows.append((re.findall(r"`([^`]+)`", first), rest))
    return rows


def library_folders(root, top):
    found = []
    for directory, _, files in os.walk(os.path.join(root, top)):
        if "CMakeLists.txt" in files:
            found.append(os.path.relpath(directory, root))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    root = parser.parse_args().root
    with open(os.path.join(root, "README.md"), encoding="utf-8") as readme:
        rows = table_rows(readme.read())
    problems = []
    named = set()
    common_parts = set()
    for folders, description in rows:
        for folder in folders:
            path = folder.rstrip("/")
            named.add(path)
            if not os.path.isdir(os.path.join(root, path)):
                problems.append(f"README names `{folder}`, which is not a folder")
            if path == "common":
                common_parts = set(re.findall(r"`([a-z_]+)/`", description))
    for part in common_parts:
        if not os.path.isdir(os.path.join(root, "common", part)):
            problems.append(f"README's common row names `{part}/`, which is not in common/")
    for folder in library_folders(root, "common"):
        if folder != "common" and folder.split(os.sep)[1] not in common_parts:
            problems.append(f"{folder} is not named in the README's common row")
    for top in DESCRIBED_BY_PARTS:
        for folder in library_folders(root, top):
            if folder not in named and folder != top:
                problems.append(f"{folder} has no row in the README's layout table")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
