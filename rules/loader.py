"""Load a rulebook directory, check everything against everything, and list all problems at once."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rules.conditions import ConditionTypeError, compile_condition
from rules.engine import AllNode, AnyNode, Condition, LeafNode, NotNode, Rule
from rules.errors import ConditionSyntaxError, Problem, RulebookError
from rules.facts import FactSchema, FactSpec, FactType, FactValueError, suggest
from rules.rulebook import DEFAULT_ROOT, Rulebook, RuleTest, content_version
from rules.templates import ACTIONS, ActionCall, FactRef, Template, variables_used
from rules.topics import LOCALES, TopicNode, TopicTree
from rules.yamlsrc import LocDict, LocList, Where, load_located, where_of

_ID = re.compile(r"^[a-z0-9_]+$")
_DOTTED_ID = re.compile(r"^[a-z0-9_.-]+$")


@dataclass
class Problems:
    """Collects every problem found while loading, so all of them are reported together."""

    items: list[Problem] = field(default_factory=list)

    def add(self, where: Where, message: str) -> None:
        """Record one problem at `where`."""
        self.items.append(Problem(where.file, where.line, where.column, message))


def _keys(
    data: LocDict,
    allowed: Mapping[str, type | tuple[type, ...]],
    required: set[str],
    what: str,
    problems: Problems,
) -> bool:
    """Check a mapping's keys and value types; return whether it is usable."""
    ok = True
    for key in data:
        if key not in allowed:
            problems.add(data.at(key), f"unknown key '{key}' in {what}{suggest(key, allowed)}")
            ok = False
        elif not isinstance(data[key], allowed[key]) or (
            isinstance(data[key], bool) and allowed[key] is int
        ):
            expected = allowed[key]
            names = (
                [t.__name__ for t in expected]
                if isinstance(expected, tuple)
                else [expected.__name__]
            )
            problems.add(data.at(key), f"'{key}' in {what} must be {' or '.join(names)}")
            ok = False
    for key in sorted(required - set(data)):
        problems.add(data.where, f"{what} lacks '{key}'")
        ok = False
    return ok


def _items(data: Any, key: str, problems: Problems, file: Where) -> Iterator[tuple[LocDict, Where]]:
    """Yield the mappings listed under `key` of a file's top-level mapping."""
    if not isinstance(data, LocDict) or not isinstance(data.get(key), LocList):
        problems.add(where_of(data, file), f"expected a mapping with a list under '{key}'")
        return
    items: LocList = data[key]
    for item, where in zip(items, items.item_where, strict=True):
        if isinstance(item, LocDict):
            yield item, where
        else:
            problems.add(where, f"each entry under '{key}' must be a mapping")


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems = Problems()
        self.files: list[Path] = []

    def display(self, path: Path) -> str:
        absolute = path.resolve()
        cwd = Path.cwd()
        return str(absolute.relative_to(cwd)) if absolute.is_relative_to(cwd) else str(absolute)

    def read(self, path: Path) -> Any:
        display = self.display(path)
        self.files.append(path)
        try:
            return load_located(path, display)
        except yaml.YAMLError as exc:
            # Point at the construct that is broken (the context), and say where it was noticed.
            problem_mark = getattr(exc, "problem_mark", None)
            mark = getattr(exc, "context_mark", None) or problem_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            message = f"YAML syntax: {getattr(exc, 'problem', None) or exc}"
            if getattr(exc, "context", None) and problem_mark is not None:
                message += f" ({exc.context}, noticed at line {problem_mark.line + 1})"  # type: ignore[attr-defined]
            self.problems.add(Where(display, line, col), message)
            return None

    def glob(self, sub: str, tests: bool = False) -> list[Path]:
        paths = sorted((self.root / sub).rglob("*.yaml"))
        return [p for p in paths if p.name.endswith(".test.yaml") == tests]

    def top(self, path: Path) -> Where:
        return Where(self.display(path), 1, 1)

    # -- facts --------------------------------------------------------------------------------
    def facts(self) -> FactSchema:
        path = self.root / "facts.yaml"
        data = self.read(path)
        specs: dict[str, FactSpec] = {}
        if not isinstance(data, LocDict) or not isinstance(data.get("facts"), LocDict):
            self.problems.add(
                where_of(data, self.top(path)), "expected a mapping 'facts: {name: {...}}'"
            )
            return FactSchema(specs)
        facts: LocDict = data["facts"]
        allowed = {"type": str, "description": str, "nullable": bool, "values": list}
        for name, spec in facts.items():
            where = facts.at(name)
            if not _ID.match(name):
                self.problems.add(where, f"fact name '{name}' must be lower_snake_case")
                continue
            if not isinstance(spec, LocDict) or not _keys(
                spec, allowed, {"type", "description"}, f"fact '{name}'", self.problems
            ):
                if not isinstance(spec, LocDict):
                    self.problems.add(where, f"fact '{name}' must be a mapping")
                continue
            if spec["type"] not in {t.value for t in FactType}:
                self.problems.add(
                    spec.at("type"),
                    f"unknown type '{spec['type']}'{suggest(spec['type'], [t.value for t in FactType])}",
                )
                continue
            kind = FactType(spec["type"])
            values = tuple(str(v) for v in spec.get("values", []))
            if (kind is FactType.ENUM) != bool(values):
                self.problems.add(
                    spec.at("values"), "an enum lists its 'values', and only an enum does"
                )
            specs[name] = FactSpec(
                name, kind, spec["description"], spec.get("nullable", True), values
            )
        return FactSchema(specs)

    # -- topics -------------------------------------------------------------------------------
    def topics(self) -> TopicTree:
        lines: dict[str, TopicNode] = {}
        for path in self.glob("topics"):
            data = self.read(path)
            if data is None:
                continue
            if not isinstance(data, LocDict) or not _keys(
                data,
                {"line": str, "title": dict, "topics": list},
                {"line", "title", "topics"},
                "a topic file",
                self.problems,
            ):
                continue
            line = data["line"]
            if line in lines or not _ID.match(line):
                self.problems.add(
                    data.at("line"), f"line id '{line}' is duplicate or not lower_snake_case"
                )
                continue
            root = TopicNode(line, self.titles(data, "line"), True)
            root.children = self.topic_nodes(data["topics"], line, True)
            lines[line] = root
        return TopicTree(lines)

    def titles(self, data: LocDict, what: str) -> dict[str, str]:
        title = data.get("title")
        missing = [loc for loc in LOCALES if not isinstance(title, dict) or not title.get(loc)]
        if missing:
            self.problems.add(data.at("title"), f"{what} lacks a title in {', '.join(missing)}")
        return {loc: str(title.get(loc, "")) for loc in LOCALES} if isinstance(title, dict) else {}

    def topic_nodes(
        self, items: LocList, parent: str, actionable: bool, guard: str | None = None
    ) -> list[TopicNode]:
        nodes: list[TopicNode] = []
        allowed = {
            "id": str,
            "title": dict,
            "actionable": bool,
            "description": str,
            "topics": list,
            "guard": str,
        }
        for item, where in zip(items, items.item_where, strict=True):
            if not isinstance(item, LocDict):
                self.problems.add(where, "a topic must be a mapping")
                continue
            if not _keys(item, allowed, {"id", "title"}, "a topic", self.problems):
                continue
            if not _ID.match(item["id"]):
                self.problems.add(
                    item.at("id"), f"topic id '{item['id']}' must be lower_snake_case"
                )
                continue
            path = f"{parent}/{item['id']}"
            if any(n.path == path for n in nodes):
                self.problems.add(item.at("id"), f"duplicate topic '{path}'")
                continue
            node = TopicNode(
                path,
                self.titles(item, f"topic '{path}'"),
                actionable and item.get("actionable", True),
                item.get("description", ""),
                guard=item.get("guard", guard),
                where=where,
            )
            if node.guard is not None and (node.actionable or not _ID.match(node.guard)):
                self.problems.add(
                    item.at("guard") if "guard" in item else where,
                    f"'guard' names the guard class of a non-actionable topic; '{path}' is actionable or '{node.guard}' is malformed",
                )
            if "topics" in item:
                node.children = self.topic_nodes(item["topics"], path, node.actionable, node.guard)
            nodes.append(node)
        return nodes

    # -- templates ----------------------------------------------------------------------------
    def templates(self, facts: FactSchema) -> dict[str, Template]:
        templates: dict[str, Template] = {}
        allowed = {
            "id": str,
            "title": str,
            "autoreply": bool,
            "slots": list,
            "action": dict,
            "text": dict,
        }
        for path in self.glob("templates"):
            for item, _ in _items(self.read(path), "templates", self.problems, self.top(path)):
                if not _keys(
                    item, allowed, {"id", "title", "autoreply", "text"}, "a template", self.problems
                ):
                    continue
                tid = item["id"]
                if tid in templates or not _DOTTED_ID.match(tid):
                    self.problems.add(
                        item.at("id"), f"template id '{tid}' is duplicate or malformed"
                    )
                    continue
                action = self.action(item, facts) if "action" in item else None
                template = Template(
                    tid,
                    item["title"],
                    {},
                    tuple(item.get("slots", [])),
                    item["autoreply"],
                    action,
                )
                self.template_texts(item, template, facts)
                templates[tid] = template
        return templates

    def action(self, item: LocDict, facts: FactSchema) -> ActionCall | None:
        spec: LocDict = item["action"]
        if len(spec) != 1:
            self.problems.add(item.at("action"), "an action is one mapping 'kind: {params}'")
            return None
        ((name, params),) = spec.items()
        kind = ACTIONS.get(name)
        if kind is None:
            self.problems.add(spec.at(name), f"unknown action '{name}'{suggest(name, ACTIONS)}")
            return None
        if not isinstance(params, LocDict):
            self.problems.add(spec.at(name), f"action '{name}' takes a mapping of parameters")
            return None
        resolved: dict[str, Any] = {}
        for pname in sorted(set(kind.params) - set(params)):
            self.problems.add(spec.at(name), f"action '{name}' lacks parameter '{pname}'")
        for pname, value in params.items():
            param = kind.params.get(pname)
            if param is None:
                self.problems.add(
                    params.at(pname),
                    f"unknown parameter '{pname}' of '{name}'{suggest(pname, kind.params)}",
                )
            elif isinstance(value, LocDict) and set(value) == {"fact"} and param.from_fact:
                ref = facts.get(str(value["fact"]))
                if ref is None or (ref.type.numeric != (param.type in (int, float))):
                    self.problems.add(
                        params.at(pname),
                        f"parameter '{pname}' needs a {param.type.__name__} fact; '{value['fact']}' is not one{suggest(str(value['fact']), facts.specs)}",
                    )
                resolved[pname] = FactRef(str(value["fact"]))
            elif not isinstance(value, param.type) or isinstance(value, bool):
                self.problems.add(
                    params.at(pname),
                    f"parameter '{pname}' of '{name}' must be a {param.type.__name__}"
                    + (" or {fact: NAME}" if param.from_fact else ""),
                )
            else:
                resolved[pname] = value
        return ActionCall(kind, resolved)

    def template_texts(self, item: LocDict, template: Template, facts: FactSchema) -> None:
        outputs = set(template.action.kind.outputs) if template.action else set()
        slots_where = item.at("slots")
        for slot in template.slots:
            if slot not in facts and slot not in outputs:
                self.problems.add(
                    where_of(slot, slots_where),
                    f"slot '{slot}' of template '{template.id}' is neither a fact nor an output of its action{suggest(slot, [*facts.specs, *outputs])}",
                )
        texts: LocDict = item["text"]
        for locale in LOCALES:
            if not isinstance(texts.get(locale), str) or not texts[locale].strip():
                self.problems.add(
                    item.at("text"), f"template '{template.id}' lacks its '{locale}' text"
                )
        for locale, text in texts.items():
            if locale not in LOCALES:
                self.problems.add(
                    texts.at(locale), f"unknown locale '{locale}' (known: {', '.join(LOCALES)})"
                )
                continue
            try:
                used = variables_used(str(text))
            except Exception as exc:  # jinja2.TemplateSyntaxError and the sandbox's own errors
                self.problems.add(where_of(text, texts.at(locale)), f"template syntax: {exc}")
                continue
            for name in sorted(used - set(template.slots)):
                self.problems.add(
                    where_of(text, texts.at(locale)),
                    f"'{locale}' text of '{template.id}' uses undeclared slot '{name}'{suggest(name, template.slots)}",
                )
            template.texts[locale] = str(text)
        template.compile()

    # -- rules --------------------------------------------------------------------------------
    def rules(
        self, facts: FactSchema, topics: TopicTree, templates: dict[str, Template]
    ) -> list[Rule]:
        rules: list[Rule] = []
        seen: dict[str, Where] = {}
        allowed: dict[str, type | tuple[type, ...]] = {
            "id": str,
            "topic": str,
            "description": str,
            "owner": str,
            "priority": int,
            "autoreply": bool,
            "template": str,
            "when": (str, list, dict),
        }
        for path in self.glob("rules"):
            data = self.read(path)
            default_topic = data.get("topic") if isinstance(data, LocDict) else None
            default_owner = data.get("owner") if isinstance(data, LocDict) else None
            for item, where in _items(data, "rules", self.problems, self.top(path)):
                required = {"id", "description", "template"} | (
                    {"topic"} if default_topic is None else set()
                )
                if not _keys(
                    item,
                    allowed,
                    required | ({"owner"} if default_owner is None else set()),
                    "a rule",
                    self.problems,
                ):
                    continue
                rid, topic, tid = item["id"], item.get("topic", default_topic), item["template"]
                if rid in seen:
                    prior = seen[rid]
                    self.problems.add(
                        item.at("id"),
                        f"duplicate rule id '{rid}' (first at {prior.file}:{prior.line})",
                    )
                    continue
                seen[rid] = item.at("id")
                self.check_ref(topic, topics.index, "topic", where_of(topic, item.at("topic")))
                self.check_ref(tid, templates, "template", item.at("template"))
                autoreply = item.get("autoreply", False)
                if autoreply and tid in templates and not templates[tid].autoreply:
                    self.problems.add(
                        item.at("autoreply"),
                        f"rule '{rid}' allows autoreply but template '{tid}' may never be sent without a human",
                    )
                when = (
                    self.condition(item["when"], facts, item.at("when")) if "when" in item else None
                )
                rules.append(
                    Rule(
                        rid,
                        str(topic),
                        item["description"],
                        str(item.get("owner", default_owner)),
                        item.get("priority", 0),
                        autoreply,
                        tid,
                        when,
                        where,
                        len(rules),
                    )
                )
        return rules

    def check_ref(self, name: Any, known: Any, what: str, where: Where) -> None:
        if name not in known:
            self.problems.add(where, f"unknown {what} '{name}'{suggest(str(name), known)}")

    def condition(self, node: Any, facts: FactSchema, where: Where) -> Condition:
        where = where_of(node, where)
        if isinstance(node, str):
            return self.leaf(node, facts, where)
        if isinstance(node, LocList):
            return AllNode(
                tuple(
                    self.condition(n, facts, w) for n, w in zip(node, node.item_where, strict=True)
                )
            )
        if isinstance(node, LocDict) and len(node) == 1:
            ((key, value),) = node.items()
            if key == "not":
                return NotNode(self.condition(value, facts, node.at(key)))
            if key in ("all", "any") and isinstance(value, LocList) and value:
                children = tuple(
                    self.condition(n, facts, w)
                    for n, w in zip(value, value.item_where, strict=True)
                )
                return AllNode(children) if key == "all" else AnyNode(children)
            self.problems.add(
                node.at(key),
                f"'{key}' must be all: [..], any: [..] or not: ..{suggest(key, ['all', 'any', 'not'])}",
            )
        else:
            self.problems.add(where, "a condition is a line, a list, or one of all / any / not")
        return AllNode(())

    def leaf(self, text: str, facts: FactSchema, where: Where) -> Condition:
        try:
            return LeafNode(compile_condition(text, facts))
        except (ConditionSyntaxError, ConditionTypeError) as exc:
            column = where.column + exc.offset if "\n" not in text else where.column
            self.problems.add(
                Where(where.file, where.line, column), f"{exc} in condition '{text.strip()}'"
            )
            return AllNode(())

    # -- rule tests and coverage --------------------------------------------------------------
    def tests(
        self,
        facts: FactSchema,
        topics: TopicTree,
        rules: list[Rule],
        templates: dict[str, Template],
    ) -> list[RuleTest]:
        tests: list[RuleTest] = []
        rule_ids = {r.id for r in rules}
        allowed = {"name": str, "topic": str, "facts": dict, "expect": dict}
        for path in self.glob("rules", tests=True):
            for item, where in _items(self.read(path), "tests", self.problems, self.top(path)):
                if not _keys(
                    item, allowed, {"name", "topic", "expect"}, "a rule test", self.problems
                ):
                    continue
                self.check_ref(
                    item["topic"], topics.index, "topic", where_of(item["topic"], item.at("topic"))
                )
                try:
                    checked = facts.validate(item.get("facts", {}))
                except FactValueError as exc:
                    self.problems.add(item.at("facts"), f"test '{item['name']}': {exc}")
                    continue
                expect: LocDict = item["expect"]
                if not _keys(
                    expect,
                    {"rule": (str, type(None)), "template": (str, type(None))},
                    set(),
                    "'expect'",
                    self.problems,
                ):
                    continue
                if expect.get("rule") is not None:
                    self.check_ref(expect["rule"], rule_ids, "rule", expect.at("rule"))
                if expect.get("template") is not None:
                    self.check_ref(expect["template"], templates, "template", expect.at("template"))
                tests.append(
                    RuleTest(
                        item["name"],
                        item["topic"],
                        checked,
                        expect.get("rule"),
                        expect.get("template"),
                        where,
                    )
                )
        return tests

    def coverage(self, topics: TopicTree, rulebook: Rulebook) -> None:
        reachable: set[str] = set()
        shadowed_by: dict[str, str] = {}
        for leaf in topics.leaves():
            ordered = rulebook.rules_for(leaf.path)
            cut = next((i for i, rule in enumerate(ordered) if rule.is_fallback), len(ordered))
            if cut == len(ordered) and leaf.actionable:
                self.problems.add(
                    leaf.where or Where("topics", 1, 1),
                    f"actionable topic '{leaf.path}' has no fallback rule (a rule without 'when')",
                )
            reachable.update(rule.id for rule in ordered[: cut + 1])
            for rule in ordered[cut + 1 :]:
                shadowed_by.setdefault(rule.id, ordered[cut].id)
        for rule in rulebook.rules:
            if rule.id not in reachable and rule.id in shadowed_by:
                self.problems.add(
                    rule.where,
                    f"rule '{rule.id}' can never fire: fallback '{shadowed_by[rule.id]}' is tried before it",
                )


def load_rulebook(root: Path = DEFAULT_ROOT) -> Rulebook:
    """Load, cross-check and compile the rulebook at `root`; raise RulebookError listing every problem."""
    if not (root / "facts.yaml").is_file():
        raise RulebookError(
            [Problem(str(root), 1, 1, "not a rulebook directory: it has no facts.yaml")]
        )
    loader = _Loader(root)
    facts = loader.facts()
    topics = loader.topics()
    templates = loader.templates(facts)
    rules = loader.rules(facts, topics, templates)
    tests = loader.tests(facts, topics, rules, templates)
    version = content_version(root, loader.files)
    rulebook = Rulebook(root, version, facts, topics, templates, tuple(rules), tuple(tests))
    loader.coverage(topics, rulebook)
    if loader.problems.items:
        raise RulebookError(_unique(loader.problems.items))
    return rulebook


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
