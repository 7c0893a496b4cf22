"""The metric and label names a PromQL expression uses (for checking them against /metrics).

Not a PromQL evaluator: a tokenizer plus the few rules that tell a metric name from a
function, an aggregation, a keyword or a label (promtool checks the syntax). Grafana's
`$variables` are accepted where PromQL takes a duration or a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
     "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)  # fmt: skip
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<variable>\$__\w+|\$\{[^}]+\}|\$\w+|\[\[\w+\]\])
  | (?P<duration>(?:\d+(?:ms|s|m|h|d|w|y))+)(?![\w.])
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<identifier>[A-Za-z_:][\w:]*)
  | (?P<operator>=~|!~|!=|==|<=|>=|[-+*/%^<>=,(){}\[\]@:])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Selector:
    """One vector selector: its metric name and the label names it matches on."""

    metric: str
    labels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Names:
    """What an expression names: its selectors and the labels it groups or matches by."""

    selectors: tuple[Selector, ...]
    grouping: frozenset[str] = field(default_factory=frozenset)

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset(s.metric for s in self.selectors)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def tokens(expr: str) -> Iterator[_Token]:
    position = 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if match is None:
            raise ValueError(f"cannot read PromQL at {expr[position : position + 20]!r}")
        position = match.end()
        kind = match.lastgroup or ""
        if kind != "space":
            yield _Token(kind, match.group())


def _string_value(text: str) -> str:
    return text[1:-1]


def _matchers(toks: list[_Token], start: int) -> tuple[int, frozenset[str], str | None]:
    """Read `{…}` from `start` (the `{`): the index after `}`, label names, a __name__."""
    labels: set[str] = set()
    name: str | None = None
    i = start + 1
    while toks[i].text != "}":
        token = toks[i]
        if token.kind in ("identifier", "string") and toks[i + 1].text in ("=", "!=", "=~", "!~"):
            label = _string_value(token.text) if token.kind == "string" else token.text
            if label == "__name__" and toks[i + 1].text == "=":
                name = _string_value(toks[i + 2].text)
            elif label != "__name__":
                labels.add(label)
            i += 3
        elif token.kind == "string":  # {"metric.name"} (UTF-8 names)
            name = _string_value(token.text)
            i += 1
        else:
            i += 1
    return i + 1, frozenset(labels), name


def names(expr: str) -> Names:
    """The selectors and grouping labels of `expr`."""
    toks = [*tokens(expr), _Token("end", "")]
    selectors: list[Selector] = []
    grouping: set[str] = set()
    i = 0
    while toks[i].kind != "end":
        token, following = toks[i], toks[i + 1]
        lowered = token.text.lower()
        if token.text == "[":  # ranges and subqueries: durations only
            while toks[i].text != "]":
                i += 1
            i += 1
        elif token.text == "{":  # a selector without a name outside its braces
            i, matched, name = _matchers(toks, i)
            if name is not None:
                selectors.append(Selector(name, matched))
        elif token.kind != "identifier":
            i += 1
        elif lowered in GROUPING:
            i += 1
            if toks[i].text == "(":
                i += 1
                while toks[i].text != ")":
                    if toks[i].kind in ("identifier", "string"):
                        grouping.add(toks[i].text.strip("\"'`"))
                    i += 1
                i += 1
        elif (
            lowered in KEYWORDS
            or following.text == "("  # a function or an aggregation
            or (token.text in AGGREGATIONS and following.text.lower() in ("by", "without"))
        ):
            i += 1
        else:
            i += 1
            labels: frozenset[str] = frozenset()
            if toks[i].text == "{":
                i, labels, _ = _matchers(toks, i)
            selectors.append(Selector(token.text, labels))
    return Names(tuple(selectors), frozenset(grouping))


GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "6h",
    "${__range}": "6h",
}


def grafana_to_promql(expr: str) -> str:
    """A Grafana query as plain PromQL: built-in interval variables become durations."""
    for variable, duration in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, duration)
    return expr


_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?P<selector>.+?)\s*,\s*(?P<label>\w+)\s*\)\s*$")


def grafana_variable_query(query: str) -> Names:
    """The names a Grafana Prometheus variable query uses (`label_values(metric, label)`)."""
    match = _LABEL_VALUES.match(query)
    if match is None:
        return names(query)
    found = names(match["selector"])
    return Names(found.selectors, found.grouping | {match["label"]})


# --- what a /metrics exposition offers ------------------------------------------------

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
}


@dataclass
class Family:
    name: str
    type: str
    labels: set[str] = field(default_factory=set)
    sampled: bool = False


@dataclass
class Exposition:
    """The series names a scrape offers, whether or not a labelled child exists yet."""

    families: dict[str, Family]
    sample_names: dict[str, str]  # series name → family name

    def family_of(self, series: str) -> Family | None:
        name = self.sample_names.get(series)
        return self.families[name] if name is not None else None

    def suggestion(self, series: str) -> str:
        """The series names a misspelt or mis-suffixed name probably meant."""
        stem = re.sub(r"(_total|_bucket|_sum|_count|_created|_info)$", "", series)
        close = sorted(n for n in self.sample_names if n.startswith(stem))
        return ", ".join(close) or "nothing similar"


_TYPE_LINE = re.compile(r"^# TYPE (?P<name>\S+) (?P<type>\S+)$")
_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][\w:]*)(?:\{(?P<labels>.*)\})?\s")
_LABEL = re.compile(r'(?P<name>[A-Za-z_]\w*)="(?:[^"\\]|\\.)*"')


def parse_exposition(text: str) -> Exposition:
    """Families from `# TYPE` lines (text format 0.0.4 or OpenMetrics) and their samples."""
    families: dict[str, Family] = {}
    sample_names: dict[str, str] = {}
    for line in text.splitlines():
        typed = _TYPE_LINE.match(line)
        if typed:
            name, kind = typed["name"], typed["type"]
            family = families.setdefault(name, Family(name, kind))
            suffixes = _SUFFIXES.get(kind, ("",))
            if kind == "counter" and name.endswith("_total"):
                # Text format 0.0.4 names the family with its _total already.
                sample_names[name] = name
                sample_names[name.removesuffix("_total") + "_created"] = name
            else:
                for suffix in suffixes:
                    sample_names[name + suffix] = family.name
            continue
        sample = _SAMPLE.match(line)
        if sample and not line.startswith("#"):
            owner = sample_names.get(sample["name"])
            if owner is None:  # untyped
                owner = sample["name"]
                families.setdefault(owner, Family(owner, "untyped"))
                sample_names[owner] = owner
            family = families[owner]
            family.sampled = True
            family.labels.update(m["name"] for m in _LABEL.finditer(sample["labels"] or ""))
    return Exposition(families, sample_names)
