"""A parser of Prometheus' text exposition format (version 0.0.4), strict
enough to stand in for `promtool check metrics` where promtool is not
installed: every line is checked against the format's grammar, and the
rules between lines (one HELP and one TYPE per metric, TYPE before the
metric's first sample, a metric's samples in one group, no series twice).

parse(text) returns {name: {"type": ..., "help": ..., "samples": [(labels, value)]}}
and raises FormatError naming the line on the first violation.
"""
import math
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
FLOAT = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|Inf|NaN)"
HELP = re.compile(rf"# HELP ({NAME}) (.*)")
TYPE = re.compile(rf"# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)")
SAMPLE = re.compile(
    rf"({NAME})(?:\{{((?:{LABEL_NAME}={LABEL_VALUE})(?:,{LABEL_NAME}={LABEL_VALUE})*,?)?\}})? ({FLOAT})(?: (-?[0-9]+))?")
HELP_TEXT = re.compile(r"(?:[^\\\n]|\\[\\n])*")
LABEL = re.compile(rf"({LABEL_NAME})=({LABEL_VALUE})")


class FormatError(Exception):
    pass


def parse(text):
    if not text.endswith("\n"):
        raise FormatError("the text does not end with a newline")
    metrics = {}
    done = set()     # metrics whose group of samples has ended
    current = None   # the metric whose samples come now
    series = set()
    for no, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {no}: {line!r}"
        if line == "":
            continue
        if line.startswith("#"):
            m = HELP.fullmatch(line) or TYPE.fullmatch(line)
            if m:
                what = "help" if m.re is HELP else "type"
                name = m.group(1)
                entry = metrics.setdefault(name, {"type": None, "help": None, "samples": []})
                if entry[what] is not None:
                    raise FormatError(f"{where}: second {what.upper()} for {name}")
                if what == "help" and not HELP_TEXT.fullmatch(m.group(2)):
                    raise FormatError(f"{where}: bad escape in HELP")
                if what == "type" and entry["samples"]:
                    raise FormatError(f"{where}: TYPE after samples of {name}")
                entry[what] = m.group(2)
            elif line.startswith("# HELP") or line.startswith("# TYPE"):
                raise FormatError(f"{where}: malformed HELP or TYPE line")
            continue  # a comment otherwise
        m = SAMPLE.fullmatch(line)
        if not m:
            raise FormatError(f"{where}: not a sample")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        pairs = LABEL.findall(labels)
        names = [n for n, _ in pairs]
        if len(set(names)) != len(names):
            raise FormatError(f"{where}: a label given twice")
        key = (name, tuple(sorted(pairs)))
        if key in series:
            raise FormatError(f"{where}: the same series twice")
        series.add(key)
        if name != current:
            if name in done:
                raise FormatError(f"{where}: samples of {name} are not in one group")
            if current is not None:
                done.add(current)
            current = name
        entry = metrics.setdefault(name, {"type": None, "help": None, "samples": []})
        v = float(value.replace("Inf", "inf").replace("NaN", "nan"))
        if entry["type"] == "counter" and (math.isnan(v) or v < 0):
            raise FormatError(f"{where}: a counter below 0")
        entry["samples"].append((dict((n, v[1:-1]) for n, v in pairs), v))
    return metrics
