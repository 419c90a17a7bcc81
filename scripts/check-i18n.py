#!/usr/bin/env python3
"""The gate for the page's languages (README, "Languages of the page"). Fails when:

1. the languages of web/i18n.js (LOCALES) and of the server (kPageLocales in
   include/crm/core/compose.hpp) differ: the server would refuse a language the page has, or
   accept one it has not;
2. a string the page translates (t('...'), tn(n, '...', '...') in web/**/*.js, data-i18n* in
   web/index.html) has no entry in a language's catalogue (web/locales/<code>.js), an entry's
   {placeholders} differ from its key's, a plural entry (the key of tn's third argument) is not
   an object with every plural category of the language (Intl.PluralRules), or a catalogue keeps
   an entry no code uses;
3. a user-visible string is written without t(): a literal starting with a letter as the text
   child of h(...), as a placeholder/title/aria-label/alt/label attribute, or given to toast() or
   textContent. (A heuristic over the source: it catches the usual ways a string is added.)

Needs node (the catalogues are ES modules; node evaluates them and the plural rules).
Prints what is wrong, file:line where it can; exit 1 on any problem.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEB = os.path.join(ROOT, "web")
problems = []


def js_unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "`": "`"}.get(n, n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


STR = r"""('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
T_CALL = re.compile(r"(?<![\w.$])t\(\s*" + STR)
TN_CALL = re.compile(r"(?<![\w.$])tn\(\s*[^,()]+(?:\([^()]*\))?\s*,\s*" + STR + r"\s*,\s*" + STR)


def js_files():
    for d, _, names in os.walk(WEB):
        if os.path.relpath(d, WEB).startswith("locales"):
            continue
        for n in sorted(names):
            if n.endswith(".js"):
                yield os.path.join(d, n)


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


used = {}  # key -> (plural?, where)
for path in js_files():
    rel = os.path.relpath(path, ROOT)
    text = open(path, encoding="utf-8").read()
    code = re.sub(r"^\s*//.*$", lambda m: " " * len(m.group(0)), text, flags=re.M)
    for m in T_CALL.finditer(code):
        used.setdefault(js_unescape(m.group(1)[1:-1]), (False, f"{rel}:{line_of(code, m.start())}"))
    for m in TN_CALL.finditer(code):
        used[js_unescape(m.group(2)[1:-1])] = (True, f"{rel}:{line_of(code, m.start())}")
    # 3. strings shown without t().
    lines = code.split("\n")
    # Words: a literal that starts with a capital or holds a space after a letter; a lower-case
    # token without spaces ('alice', 'imap.example.com') is an example value, not text.
    words = r"(['\"`])(?:[A-Z]|[a-z][^'\"`\n]*? [^'\"`\n]*?\1)"
    checks = [
        (re.compile(r"\bh\(\s*'[a-z0-9]+'\s*,\s*(?:null|\{[^{}]*\})\s*,\s*" + words), "text of h(...)"),
        (re.compile(r"(?:placeholder|title|'aria-label'|alt|label)\s*:\s*" + words), "attribute"),
        (re.compile(r"\btoast\(\s*" + words), "toast()"),
        (re.compile(r"\.textContent\s*=\s*" + words), "textContent"),
    ]
    for i, line in enumerate(lines, 1):
        for rx, what in checks:
            if rx.search(line):
                problems.append(f"{rel}:{i}: a {what} string without t(): {line.strip()[:120]}")

html = open(os.path.join(WEB, "index.html"), encoding="utf-8").read()
for m in re.finditer(r'data-i18n(?:-placeholder|-label)?="([^"]*)"', html):
    used.setdefault(m.group(1), (False, f"web/index.html:{line_of(html, m.start())}"))

# 1. The languages of the page and of the server.
i18n = open(os.path.join(WEB, "i18n.js"), encoding="utf-8").read()
block = re.search(r"export const LOCALES = \{(.*?)\n\};", i18n, re.S)
page_locales = re.findall(r"^\s*(\w+): \{", block.group(1), re.M) if block else []
hpp = open(os.path.join(ROOT, "include/crm/core/compose.hpp"), encoding="utf-8").read()
server = re.search(r"kPageLocales\[\]\s*=\s*\{([^}]*)\}", hpp)
server_locales = re.findall(r'"([^"]+)"', server.group(1)) if server else []
if sorted(page_locales) != sorted(server_locales):
    problems.append(f"web/i18n.js LOCALES {page_locales} differ from kPageLocales {server_locales} "
                    "(include/crm/core/compose.hpp)")

# 2. Each catalogue, as node reads it.
for code in page_locales:
    if code == "en":
        continue
    script = (f"import c from './web/locales/{code}.js';"
              f"console.log(JSON.stringify({{c, cats: new Intl.PluralRules('{code}').resolvedOptions().pluralCategories}}));")
    try:
        out = subprocess.run(["node", "--input-type=module", "-e", script], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        problems.append(f"web/locales/{code}.js: node could not read it: {getattr(e, 'stderr', e)}")
        continue
    data = json.loads(out)
    cat, cats = data["c"], data["cats"]
    holes = lambda s: sorted(set(re.findall(r"\{(\w+)\}", s)))
    for key, (is_plural, where) in sorted(used.items()):
        if key not in cat:
            problems.append(f"{where}: no {code} translation of {key!r}")
            continue
        v = cat[key]
        if is_plural:
            if not isinstance(v, dict) or sorted(v) != sorted(cats):
                problems.append(f"{where}: the {code} entry of {key!r} must be an object with {cats}")
                continue
            forms = list(v.values())
        else:
            if not isinstance(v, str):
                problems.append(f"{where}: the {code} entry of {key!r} must be a string")
                continue
            forms = [v]
        for f in forms:
            extra = set(holes(f)) - set(holes(key))
            if extra:
                problems.append(f"{where}: the {code} entry of {key!r} has placeholders the key has not: {sorted(extra)}")
    for key in sorted(set(cat) - set(used)):
        problems.append(f"web/locales/{code}/: {key!r} is translated but no code uses it")

for p in problems:
    print(p)
print(f"i18n gate: {len(used)} strings, languages {page_locales}: "
      f"{'ok' if not problems else f'{len(problems)} problems'}")
sys.exit(1 if problems else 0)
