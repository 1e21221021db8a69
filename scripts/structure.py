#!/usr/bin/env python3
"""The house's shape, as issue 25 measured it: the longest non-test functions, and the imports
between dw's modules (how many, any loop, any command file importing another).

    python3 scripts/structure.py [REPO] [--top N]

A rough reader, not a parser: a function is counted from its `fn` line to its closing brace
(braces in strings and comments are counted too), code after `#[cfg(test)]` and files under
tests/, examples/ and benches/ are left out; an import is a `crate::` or `super::` path (a
child's use of its own parent is not counted). clippy's too_many_lines (clippy.toml) is the
check CI runs; this script is for looking.
"""

import os
import re
import sys

FN = re.compile(r"\s*(pub(\([a-z]+\))?\s+)?(async\s+)?(const\s+)?fn\s+(\w+)")


def non_test(text):
    cut = text.find("#[cfg(test)]")
    return text if cut < 0 else text[:cut]


def function_lengths(root):
    out = []
    for d, _, files in os.walk(root):
        if "/target" in d or "/.git" in d:
            continue
        for f in files:
            path = os.path.join(d, f)
            if not f.endswith(".rs") or any(
                s in path for s in ("/tests/", "/examples/", "/benches/")
            ):
                continue
            lines = non_test(open(path, encoding="utf-8", errors="replace").read()).split("\n")
            i = 0
            while i < len(lines):
                m = FN.match(lines[i])
                if not m:
                    i += 1
                    continue
                depth, started, j = 0, False, i
                while j < len(lines):
                    for ch in lines[j]:
                        if ch == "{":
                            depth, started = depth + 1, True
                        elif ch == "}":
                            depth -= 1
                    if started and depth == 0:
                        break
                    if not started and lines[j].rstrip().endswith(";"):
                        break
                    j += 1
                if started:
                    name = f"{os.path.relpath(path, root)}:{i + 1} {m.group(5)}"
                    out.append((j - i + 1, name))
                i = j + 1 if started else i + 1
    return sorted(out, reverse=True)


def modules(src):
    mods = {}
    for d, _, files in os.walk(src):
        for f in files:
            if f.endswith(".rs"):
                path = os.path.join(d, f)
                parts = os.path.relpath(path, src)[:-3].split("/")
                if parts[-1] == "mod":
                    parts = parts[:-1]
                if parts not in (["lib"], ["main"]):
                    mods["::".join(parts)] = path
    return mods


def imports(src):
    mods = modules(src)

    def resolve(path):
        parts = path.split("::")
        while parts:
            if "::".join(parts) in mods:
                return "::".join(parts)
            parts = parts[:-1]
        return None

    edges = {m: set() for m in mods}
    for m, path in mods.items():
        text = re.sub(r"//[^\n]*", "", non_test(open(path).read()))
        base = m.split("::")
        for x in re.findall(r"crate::([\w:]+)", text):
            r = resolve(x)
            if r and r != m:
                edges[m].add(r)
        for x in re.findall(r"super::([\w:]+)", text):
            r = resolve("::".join(base[:-1] + [x]))
            if r and r != m and not m.startswith(r + "::"):
                edges[m].add(r)
        for prefix, group in re.findall(r"(?:crate|super)::([\w:]*)::\{([^}]*)\}", text):
            for y in group.split(","):
                y = y.strip().split(" ")[0]
                if y and y != "self":
                    r = resolve(prefix + "::" + y)
                    if r and r != m:
                        edges[m].add(r)
    return mods, edges


def loops(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def main():
    args = sys.argv[1:]
    top = 8
    if "--top" in args:
        at = args.index("--top")
        top = int(args[at + 1])
        del args[at : at + 2]
    root = args[0] if args else os.path.join(os.path.dirname(__file__), "..")
    print("longest non-test functions (lines):")
    for n, name in function_lengths(root)[:top]:
        print(f"  {n:>4} {name}")
    mods, edges = imports(os.path.join(root, "src"))
    print(f"dw's modules: {len(mods)}, imports between them: {sum(map(len, edges.values()))}")
    for component in loops(edges):
        print("  import loop:", ", ".join(component))
    helpers = {"commands::page"}  # shared by handlers; not a command
    for m in sorted(mods):
        if m.startswith("commands::"):
            for w in sorted(edges[m]):
                if w.startswith("commands::") and w not in helpers:
                    print("  a command imports another:", m, "->", w)


if __name__ == "__main__":
    main()
