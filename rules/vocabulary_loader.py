"""Loading the vocabulary a rulebook declares: facts, topic trees and reply templates."""

from __future__ import annotations

from typing import Any

from rules.facts import FactSchema, FactSpec, FactType, suggest
from rules.sources import DOTTED_ID, ID, SourceReader, check_keys, mapping_items
from rules.templates import ACTIONS, ActionCall, FactRef, Template, variables_used
from rules.topics import LOCALES, TopicNode, TopicTree
from rules.yamlsrc import LocDict, LocList, where_of


class VocabularyLoader(SourceReader):
    """Loads facts.yaml, topics/*.yaml and templates/*.yaml, checking each against the others."""

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
            if not ID.match(name):
                self.problems.add(where, f"fact name '{name}' must be lower_snake_case")
                continue
            if not isinstance(spec, LocDict) or not check_keys(
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
            if not isinstance(data, LocDict) or not check_keys(
                data,
                {"line": str, "title": dict, "topics": list},
                {"line", "title", "topics"},
                "a topic file",
                self.problems,
            ):
                continue
            line = data["line"]
            if line in lines or not ID.match(line):
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
            if not check_keys(item, allowed, {"id", "title"}, "a topic", self.problems):
                continue
            if not ID.match(item["id"]):
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
            if node.guard is not None and (node.actionable or not ID.match(node.guard)):
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
            for item, _ in mapping_items(
                self.read(path), "templates", self.problems, self.top(path)
            ):
                if not check_keys(
                    item, allowed, {"id", "title", "autoreply", "text"}, "a template", self.problems
                ):
                    continue
                tid = item["id"]
                if tid in templates or not DOTTED_ID.match(tid):
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
