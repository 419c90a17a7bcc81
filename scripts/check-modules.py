#!/usr/bin/env python3
"""The module gate: checks includes and CMake links against the module table.

Reads scripts/modules.toml (the one module table) and checks, under the source root:

* every #include in src/<m>/ and include/crm/<m>/: "crm/<x>/..." and "../<x>/..." only for x = m
  or an allowed dependency of m; "../<x>/..." (another module's private header) never; a
  third-party header only in src/<its owner>/, never under include/; no I/O headers in the pure
  core;
* every crm_module(... DEPS ... PRIVATE_DEPS ...), target_link_libraries, source list and
  target_include_directories in src/<m>/CMakeLists.txt: linked crm::<x> and third-party items
  allowed for m, no other module's .cpp compiled in, no other module's src/ dir on the path;
* tests/unit/<m>/ and tests/fuzz/<m>.cmake: private headers and sources of module m only;
* "no SQL, no SQLite:: type and no Database::impl() outside store" (issue 16 item 2) in src/ and
  include/.

Known violations are listed in scripts/modules-baseline.txt, one per line:
    <rule> <file> <thing>
The gate fails on any violation not in the baseline and on any baseline line that no longer
occurs (the baseline only shrinks). Exit 0 = pass, 1 = violations, 2 = usage/config error.

Usage: check-modules.py [--root DIR] [--table FILE] [--baseline FILE] [--write-baseline]
Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

CXX_SUFFIXES = {".cpp", ".hpp", ".h", ".cc", ".hh", ".ipp", ".in"}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
# SQL in a string literal. Upper-case keywords in statement shape, so that IMAP's "SELECT INBOX"
# or prose does not count.
SQL_RE = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT\s+(?:OR\s+[A-Z]+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
    r"|CREATE\s+(?:TABLE|INDEX|VIEW|TRIGGER)|DROP\s+(?:TABLE|INDEX)|ALTER\s+TABLE"
    r"|PRAGMA\s+\w+|BEGIN\s+(?:IMMEDIATE|EXCLUSIVE|TRANSACTION)|WITH\s+\w+\s+AS\s*\()"
)
SQLITE_TYPE_RE = re.compile(r"\bSQLite::\w+|\bsqlite3_\w+")
IMPL_RE = re.compile(r"(?:\.|->)impl\(\)")


@dataclass(frozen=True)
class Violation:
    rule: str  # short id, the first field of a baseline line
    file: str  # path relative to the root
    line: int
    thing: str  # the included header, linked item, source, ... (no spaces)
    message: str  # the sentence printed after "file:line: "

    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.file, self.thing)


class Table:
    def __init__(self, data: dict):
        self.modules: dict[str, dict] = data["modules"]
        self.third_party: dict[str, dict] = data["third_party"]
        rules = data.get("rules", {})
        self.free_links: set[str] = set(rules.get("free_links", []))
        self.pure_forbidden: list[str] = list(rules.get("pure_forbidden_includes", []))
        self.sql_modules: set[str] = set(rules.get("sql_modules", []))
        for name, m in self.modules.items():
            for d in m.get("deps", []):
                if d not in self.modules:
                    raise ValueError(f"module {name}: unknown dependency {d}")
            for t in m.get("third_party", []):
                if t not in self.third_party:
                    raise ValueError(f"module {name}: unknown third-party library {t}")
        self.link_owner: dict[str, str] = {}
        for lib, spec in self.third_party.items():
            for item in spec.get("links", []):
                self.link_owner[item] = lib

    def deps(self, module: str) -> list[str]:
        return list(self.modules[module].get("deps", []))

    def allowed(self, module: str, other: str) -> bool:
        return other == module or other in self.modules[module].get("deps", [])

    def allowed_text(self, module: str) -> str:
        d = self.deps(module)
        return ", ".join(d) if d else "nothing (only itself)"

    def third_party_of_include(self, header: str) -> str | None:
        for lib, spec in self.third_party.items():
            for prefix in spec.get("includes", []):
                if header == prefix or header.startswith(prefix):
                    return lib
        return None

    def tp_allowed(self, module: str, lib: str) -> bool:
        return lib in self.modules[module].get("third_party", [])

    def tp_owners(self, lib: str) -> str:
        owners = [m for m, spec in self.modules.items() if lib in spec.get("third_party", [])]
        return ", ".join(owners) if owners else "no module"


def strip_comments(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Returns the text with comments blanked (newlines kept) and the string literals as
    (line, content). Handles //, /* */, "..." with escapes, R"d(...)d" and '...' (not after a
    digit, where ' is a separator)."""
    out: list[str] = []
    strings: list[tuple[int, str]] = []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            chunk = text[i:j]
            out.append("".join("\n" if ch == "\n" else " " for ch in chunk))
            line += chunk.count("\n")
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]{0,16})\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i + m.end())
            end = n if end < 0 else end + len(m.group(1)) + 2
            chunk = text[i:end]
            strings.append((line, chunk))
            out.append(chunk)
            line += chunk.count("\n")
            i = end
        elif c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            chunk = text[i:j]
            if c == '"':
                strings.append((line, chunk[1:-1]))
            out.append(chunk)
            line += chunk.count("\n")
            i = j
        else:
            if c == "\n":
                line += 1
            out.append(c)
            i += 1
    return "".join(out), strings


def cmake_commands(text: str):
    """Yields (command, [(arg, line)], line) for each command call in a CMake file."""
    # Blank comments (# to end of line, outside quotes and ${...}).
    clean = []
    for raw in text.split("\n"):
        in_q = False
        cut = len(raw)
        for k, ch in enumerate(raw):
            if ch == '"':
                in_q = not in_q
            elif ch == "#" and not in_q:
                cut = k
                break
        clean.append(raw[:cut])
    text = "\n".join(clean)
    for m in re.finditer(r"(?m)^[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(", text):
        name = m.group(1)
        start_line = text.count("\n", 0, m.start()) + 1
        depth, j = 1, m.end()
        while j < len(text) and depth:
            if text[j] == "(":
                depth += 1
            elif text[j] == ")":
                depth -= 1
            j += 1
        body = text[m.end() : j - 1]
        args = []
        for a in re.finditer(r'"[^"]*"|[^\s()]+', body):
            args.append((a.group(0).strip('"'), start_line + body.count("\n", 0, a.start())))
        yield name, args, start_line


class Gate:
    def __init__(self, root: Path, table: Table):
        self.root = root
        self.t = table
        self.violations: list[Violation] = []
        self.includes_checked = 0
        self.links_checked = 0
        self.cmake_files = 0

    def add(self, rule, path, line, thing, message):
        rel = path.relative_to(self.root).as_posix()
        self.violations.append(Violation(rule, rel, line, thing, message))

    # ---- C++ sources -------------------------------------------------------------------------

    def check_cxx(self, path: Path, module: str, public: bool, test: bool):
        text = path.read_text(encoding="utf-8", errors="replace")
        code, strings = strip_comments(text)
        for lineno, raw in enumerate(code.split("\n"), 1):
            m = INCLUDE_RE.match(raw)
            if not m:
                continue
            self.includes_checked += 1
            kind, header = m.group(1), m.group(2)
            if kind == '"':
                self.check_quoted_include(path, lineno, module, header, test)
            elif not test:
                self.check_angle_include(path, lineno, module, header, public)
        if test or module in self.t.sql_modules:
            return
        for lineno, raw in enumerate(code.split("\n"), 1):
            for m in SQLITE_TYPE_RE.finditer(raw):
                self.add("store-only", path, lineno, m.group(0),
                         f"{module} uses {m.group(0)}: no SQLite type outside "
                         f"{', '.join(sorted(self.t.sql_modules))} (issue 16 item 2)")
            if IMPL_RE.search(raw):
                self.add("store-only", path, lineno, "Database::impl()",
                         f"{module} calls Database::impl(): no Database::impl() outside "
                         f"{', '.join(sorted(self.t.sql_modules))} (issue 16 item 2)")
        for lineno, s in strings:
            m = SQL_RE.search(s)
            if m:
                kw = m.group(1).split()[0]
                self.add("store-only", path, lineno, f"SQL:{kw}",
                         f'{module} has SQL ("{s[:50]}"): no SQL outside '
                         f"{', '.join(sorted(self.t.sql_modules))} (issue 16 item 2)")

    def check_dep(self, path, line, module, other, thing, verb):
        """module's include or link of module other (thing: the header or crm::other)."""
        if other not in self.t.modules:
            self.add("module-dep", path, line, thing,
                     f"{module} {verb}s {thing}: no module {other} in scripts/modules.toml")
        elif not self.t.allowed(module, other):
            self.add("module-dep", path, line, thing,
                     f"{module} may not {verb} {other} ({thing}): allowed: "
                     f"{self.t.allowed_text(module)}")

    def check_quoted_include(self, path, lineno, module, header, test):
        m = re.match(r"crm/([A-Za-z0-9_]+)/", header)
        if m:
            other = m.group(1)
            if test:
                return  # tests wire modules together; public headers of any module are fine
            self.check_dep(path, lineno, module, other, header, "include")
            return
        m = re.match(r"(?:\.\./)+(?:src/)?([A-Za-z0-9_]+)/", header)
        if not m:
            return  # a header of the including file's own directory (or a test's include dir)
        other = m.group(1)
        if other == module:
            return
        if test:
            self.add("private-header", path, lineno, header,
                     f"a {module} test includes {header}, a private header of {other}: tests of "
                     f"{module} see src/{module}/ only")
        elif other in self.t.modules and not self.t.allowed(module, other):
            self.check_dep(path, lineno, module, other, header, "include")
        else:
            self.add("private-header", path, lineno, header,
                     f"{module} includes {header}, a private header of {other}: src/{other}/ "
                     f"headers are for {other} alone (use include/crm/{other}/)")

    def check_angle_include(self, path, lineno, module, header, public):
        lib = self.t.third_party_of_include(header)
        if lib and public:
            self.add("third-party", path, lineno, header,
                     f"public header of {module} includes <{header}> ({lib}): no third-party "
                     f"headers under include/ (pimpl or forward declarations)")
        elif lib and not self.t.tp_allowed(module, lib):
            self.add("third-party", path, lineno, header,
                     f"{module} may not include <{header}> ({lib}): only {self.t.tp_owners(lib)} "
                     f"may use {lib}")
        if self.t.modules[module].get("pure"):
            for p in self.t.pure_forbidden:
                if header == p or (p.endswith("/") and header.startswith(p)):
                    self.add("pure-io", path, lineno, header,
                             f"{module} is pure core and may not include <{header}> (no I/O)")

    # ---- CMake -------------------------------------------------------------------------------

    def src_dir_of(self, arg: str) -> str | None:
        m = re.search(r"(?:\$\{(?:PROJECT|CMAKE)_SOURCE_DIR\}|\.\.)/src/([A-Za-z0-9_]+)", arg)
        return m.group(1) if m else None

    def check_cmake(self, path: Path, module: str, test: bool):
        self.cmake_files += 1
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, args, _ in cmake_commands(text):
            lname = name.lower()
            if lname in ("crm_module", "target_link_libraries") and not test:
                self.check_links(path, module, lname, args)
            if lname in ("crm_module", "add_executable", "add_library", "target_sources",
                         "target_include_directories"):
                for arg, line in args[1:]:
                    other = self.src_dir_of(arg)
                    if other is None or other == module:
                        continue
                    what = "includes the private headers of" if lname == "target_include_directories" \
                        else "compiles a source of"
                    rule = "private-header" if lname == "target_include_directories" else "foreign-source"
                    thing = re.sub(r"^\$\{(?:PROJECT|CMAKE)_SOURCE_DIR\}/", "", arg)
                    owner = f"a {module} test" if test else module
                    allowed = "" if test else f" (allowed modules: {self.t.allowed_text(module)})"
                    self.add(rule, path, line, thing,
                             f"{owner} {what} {other} ({thing}): each module builds from "
                             f"src/{module}/ only; link crm::{other} instead{allowed}")

    def check_links(self, path, module, cmd, args):
        if cmd == "crm_module":
            items, mode = [], None
            for arg, line in args[1:]:
                if arg in ("SOURCES", "DEPS", "PRIVATE_DEPS"):
                    mode = arg
                elif mode in ("DEPS", "PRIVATE_DEPS"):
                    items.append((arg, line))
        else:
            items = [(a, l) for a, l in args[1:] if a not in ("PUBLIC", "PRIVATE", "INTERFACE")]
        for item, line in items:
            self.links_checked += 1
            m = re.fullmatch(r"crm::([A-Za-z0-9_]+)", item)
            if item in self.t.free_links:
                continue
            if m:
                other = m.group(1)
                self.check_dep(path, line, module, other, item, "link")
                continue
            lib = self.t.link_owner.get(item)
            if lib is None:
                self.add("unknown-link", path, line, item,
                         f"{module} links {item}, which scripts/modules.toml does not know: add it "
                         f"to a [third_party] entry (or free_links)")
            elif not self.t.tp_allowed(module, lib):
                self.add("third-party", path, line, item,
                         f"{module} may not link {item} ({lib}): only {self.t.tp_owners(lib)} may "
                         f"use {lib}")

    # ---- walk --------------------------------------------------------------------------------

    def module_dirs(self, base: Path):
        """Yields (module, dir) for each folder of base; a folder that is no module is an error."""
        for d in sorted(base.iterdir()) if base.is_dir() else []:
            if not d.is_dir():
                continue
            if d.name not in self.t.modules:
                rel = d.relative_to(self.root).as_posix()
                self.add("module-dep", d, 0, d.name,
                         f"{rel}/ is not a module of scripts/modules.toml")
                continue
            yield d.name, d

    def run(self):
        r = self.root
        for module, d in self.module_dirs(r / "src"):
            for f in sorted(d.rglob("*")):
                if f.suffix in CXX_SUFFIXES and f.is_file():
                    self.check_cxx(f, module, public=False, test=False)
                elif f.name == "CMakeLists.txt" or f.suffix == ".cmake":
                    self.check_cmake(f, module, test=False)
        for module, d in self.module_dirs(r / "include" / "crm"):
            for f in sorted(d.rglob("*")):
                if f.suffix in CXX_SUFFIXES and f.is_file():
                    self.check_cxx(f, module, public=True, test=False)
        unit = r / "tests" / "unit"
        for d in sorted(unit.iterdir()) if unit.is_dir() else []:
            if not d.is_dir() or d.name not in self.t.modules:
                continue
            for f in sorted(d.rglob("*")):
                if f.suffix in CXX_SUFFIXES and f.is_file():
                    self.check_cxx(f, d.name, public=False, test=True)
                elif f.name == "CMakeLists.txt":
                    self.check_cmake(f, d.name, test=True)
        fuzz = r / "tests" / "fuzz"
        for f in sorted(fuzz.glob("*.cmake")) if fuzz.is_dir() else []:
            if f.stem in self.t.modules:
                self.check_cmake(f, f.stem, test=True)
        for f in sorted(fuzz.glob("*")) if fuzz.is_dir() else []:
            if f.suffix in CXX_SUFFIXES and f.is_file():
                # A fuzzer is named after its module's parser (smtp_reply_fuzz.cpp, ...).
                module = f.name.split("_")[0]
                self.check_cxx(f, module if module in self.t.modules else "core", False, True)


def read_baseline(path: Path) -> tuple[collections.Counter, dict]:
    counts: collections.Counter = collections.Counter()
    where: dict = {}
    if not path.exists():
        return counts, where
    for n, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        s = raw.split("#", 1)[0].strip()
        if not s:
            continue
        parts = s.split()
        if len(parts) != 3:
            raise ValueError(f"{path}:{n}: expected '<rule> <file> <thing>', got: {raw}")
        key = tuple(parts)
        counts[key] += 1
        where.setdefault(key, n)
    return counts, where


def main(argv=None) -> int:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=here.parent)
    ap.add_argument("--table", type=Path, help="default: ROOT/scripts/modules.toml")
    ap.add_argument("--baseline", type=Path, help="default: ROOT/scripts/modules-baseline.txt")
    ap.add_argument("--write-baseline", action="store_true",
                    help="print today's violations in baseline form (to review, not to paper over)")
    a = ap.parse_args(argv)
    root = a.root.resolve()
    table_path = a.table or root / "scripts" / "modules.toml"
    baseline_path = a.baseline or root / "scripts" / "modules-baseline.txt"
    started = time.monotonic()
    try:
        table = Table(tomllib.loads(table_path.read_text(encoding="utf-8")))
        baseline, baseline_line = read_baseline(baseline_path)
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError) as e:
        print(f"module gate: {e}", file=sys.stderr)
        return 2
    gate = Gate(root, table)
    gate.run()
    vs = sorted(gate.violations, key=lambda v: (v.rule, v.file, v.line, v.thing))
    if a.write_baseline:
        for v in vs:
            print(f"{v.rule} {v.file} {v.thing}")
        return 0

    remaining = collections.Counter(baseline)
    new: list[Violation] = []
    for v in vs:
        if remaining[v.key()] > 0:
            remaining[v.key()] -= 1
        else:
            new.append(v)
    stale = [(k, c) for k, c in remaining.items() if c > 0]
    for v in new:
        print(f"{v.file}:{v.line}: {v.message} [{v.rule}]")
    rel_baseline = baseline_path.relative_to(root) if baseline_path.is_relative_to(root) \
        else baseline_path
    for (rule, file, thing), c in sorted(stale):
        times = f" ({c} of its occurrences)" if c > 1 else ""
        print(f"{rel_baseline}:{baseline_line[(rule, file, thing)]}: '{rule} {file} {thing}' no "
              f"longer occurs{times}: it is fixed, delete the line (the baseline only shrinks)")
    known = len(vs) - len(new)
    took = time.monotonic() - started
    print(f"module gate: {gate.includes_checked} includes and {gate.links_checked} link items "
          f"({gate.cmake_files} CMake files) checked, {known} known violations (baseline), "
          f"{len(new)} new, {sum(c for _, c in stale)} fixed but still in the baseline "
          f"[{took:.2f} s]")
    if new:
        print("module gate: the rules are in scripts/modules.toml (README, Layout); fix the "
              "dependency, or change the table there if the design changed.")
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(main())
