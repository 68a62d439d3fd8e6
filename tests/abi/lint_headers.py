#!/usr/bin/python3
"""abi.lint_headers — the conventions of the C ABI (docs/c-api.md,
"Conventions"), checked on the public headers.

    lint_headers.py INCLUDE_DIR        lints INCLUDE_DIR/braid/*.h and
                                       INCLUDE_DIR/braid/unstable/*.h
    lint_headers.py HEADER.h ...       lints the headers given

Exit status 0 when every rule holds, 1 (with one line per violation) when
one does not.  The rules:

  - every function declared is exported: `BRAID_API` in front of it;
  - every function and type name starts with `braid_`, every macro with
    `BRAID_` (the include guard's `BRAID_..._H` included);
  - a poll function (one that takes a `braid_wake_fn`, or whose name says
    `poll`) is named `braid_<noun>_poll_<verb>`, and takes `wake, wake_data`
    as a pair;
  - a constructor (`_new`, `_new_<variant>`, `_build`, `_clone`,
    `_subscribe`, `_from_fd`) returns its handle through its first parameter,
    named `out` (`out_<what>` for a pair), as every callback operation does
    with its `braid_task **`;
  - the doc comment of a function with a `timeout_ms` parameter names
    BRAID_WAIT_FOREVER;
  - the doc of a function that takes a `braid_wake_fn` does not describe a
    NULL waker of its own ("`wake` NULL", "NULL waker" other than the
    pointer, "exception", "a try"): one rule, written once, no exceptions;
  - a header with a function that takes a `braid_wake_fn` says
    "NULL waker: see docs/c-api.md" (where the one rule for a NULL waker is
    written), itself or, for an I/O object, through the io.h it includes
    (io.h describes the poll functions of every I/O object).
"""
import glob
import os
import re
import sys

NULL_WAKER_NOTE = "NULL waker: see docs/c-api.md"
CONSTRUCTOR = re.compile(r"_(new|new_[a-z0-9_]+|build|clone|subscribe|from_fd)$")
POLL_NAME = re.compile(r"^braid_[a-z0-9]+(_[a-z0-9]+)*_poll_[a-z0-9]+(_[a-z0-9]+)*$")
SAYS_POLL = re.compile(r"_poll(_|$)")
# What a poll function's doc may not say: its own NULL-waker behaviour.
OWN_NULL_WAKER = re.compile(r"`wake`\s+NULL|\bwake\s+NULL|NULL\s+waker(?!:\s+see\s+docs/c-api\.md)|\bexception\b|a\s+\"?try\"?\b",
                            re.I)
OUT_PARAM = re.compile(r"\*\s*\*\s*(out|out_[a-z0-9_]+)$")

# A C header, split into top-level statements: comments (kept as the doc of
# what follows them), preprocessor lines, and declarations ending in ';'.
TOKENS = re.compile(r"(/\*.*?\*/|//[^\n]*|^[ \t]*#[^\n]*(?:\\\n[^\n]*)*|;)", re.S | re.M)
FUNCTION = re.compile(r"^(BRAID_API\s+)?([A-Za-z_][\w\s\*]*?)\b([A-Za-z_]\w*)\s*\((.*)\)$", re.S)
TYPEDEF_NAME = re.compile(r"\b([A-Za-z_]\w*)\s*(\)\s*\(.*\))?\s*$", re.S)
FN_POINTER_TYPEDEF = re.compile(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)")


def split_params(text):
    """Top-level commas only (a function-pointer parameter has its own)."""
    params, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            params.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip() and cur.strip() != "void":
        params.append(cur.strip())
    return params


def io_h_says_it(path, text):
    io_h = os.path.join(os.path.dirname(path), "io.h")
    if not re.search(r'#include\s+"io\.h"', text) or not os.path.exists(io_h):
        return False
    with open(io_h, encoding="utf-8") as f:
        return NULL_WAKER_NOTE in f.read()


def lint(path, text):
    errors = []

    def bad(what):
        errors.append(f"{path}: {what}")

    takes_waker = False
    doc = ""
    buf = ""
    for tok in TOKENS.split(text):
        if not tok:
            continue
        if tok.startswith("/*") or tok.startswith("//"):
            doc = tok
            continue
        if tok.lstrip().startswith("#"):
            m = re.match(r"\s*#\s*define\s+([A-Za-z_]\w*)", tok)
            if m and not m.group(1).startswith("BRAID_"):
                bad(f"macro {m.group(1)} does not start with BRAID_")
            buf = ""
            continue
        if tok != ";" or buf.count("{") > buf.count("}"):
            # A struct's body (braid_io_slice) ends its members with ';':
            # the statement goes on to the closing brace.
            buf += tok
            continue
        stmt = " ".join(buf.replace("BRAID_EXTERN_C_BEGIN", "").replace("BRAID_EXTERN_C_END", "").split())
        buf = ""
        if not stmt:
            continue
        if stmt.startswith("typedef"):
            stmt = re.sub(r"\{.*\}", "", stmt)  # the members of a struct body
            m = FN_POINTER_TYPEDEF.search(stmt) or TYPEDEF_NAME.search(stmt)
            if m and not m.group(1).startswith("braid_"):
                bad(f"type {m.group(1)} does not start with braid_")
            continue
        if re.match(r"^(struct|enum|union)\b", stmt):
            continue
        m = FUNCTION.match(stmt)
        if not m:
            continue
        exported, name, params = bool(m.group(1)), m.group(3), split_params(m.group(4))
        if not exported:
            bad(f"{name} is declared without BRAID_API")
        if not name.startswith("braid_"):
            bad(f"{name} does not start with braid_")
        names = [re.sub(r"\[.*\]$", "", p).split()[-1].lstrip("*") if p.split() else "" for p in params]
        wakes = [i for i, p in enumerate(params) if re.match(r"^braid_wake_fn\b", p)]
        if wakes:
            takes_waker = True
        if wakes or SAYS_POLL.search(name):
            if not POLL_NAME.match(name) and (wakes or name.endswith("_poll") or "_poll_" in name):
                bad(f"{name}: a poll function is named braid_<noun>_poll_<verb>")
            m = OWN_NULL_WAKER.search(re.sub(r"\s*\n\s*\*?", " ", doc)) if wakes else None
            if m:
                bad(f"{name}: its doc describes a NULL waker of its own ({m.group(0)!r}); the rule is docs/c-api.md's")
            for i in wakes:
                if i + 1 >= len(names) or names[i + 1] != "wake_data":
                    bad(f"{name}: the braid_wake_fn parameter is not followed by its wake_data")
        if CONSTRUCTOR.search(name):
            outs = [i for i, p in enumerate(params) if OUT_PARAM.search(p)]
            if not outs or outs[0] != 0:
                bad(f"{name}: a constructor returns its handle through its first parameter, named out")
        if "timeout_ms" in names and "BRAID_WAIT_FOREVER" not in doc:
            bad(f"{name}: the doc of a timeout_ms parameter does not name BRAID_WAIT_FOREVER")
    if takes_waker and NULL_WAKER_NOTE not in text and not io_h_says_it(path, text):
        bad(f'takes a braid_wake_fn but does not say "{NULL_WAKER_NOTE}"')
    guard = re.search(r"#ifndef\s+(\w+_H)\s*\n\s*#define\s+\1", text)
    if guard and not guard.group(1).startswith("BRAID_"):
        bad(f"include guard {guard.group(1)} does not start with BRAID_")
    return errors


def headers(args):
    if len(args) == 1 and os.path.isdir(args[0]):
        root = os.path.join(args[0], "braid")
        return sorted(glob.glob(os.path.join(root, "*.h")) + glob.glob(os.path.join(root, "unstable", "*.h")))
    return args


def main(argv):
    paths = headers(argv[1:])
    if not paths:
        print("usage: lint_headers.py INCLUDE_DIR | HEADER.h ...", file=sys.stderr)
        return 2
    errors = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            errors += lint(path, f.read())
    for e in errors:
        print(e)
    print(f"{len(paths)} headers, {len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
