"""Reading templates/*.yaml: reply texts per locale, their slots and the action they may run."""

from __future__ import annotations

from typing import Any

from rules.errors import Problems
from rules.facts import FactSchema, suggest
from rules.read.checks import DOTTED_ID, check_keys, mapping_items
from rules.read.source import LocDict, YamlFile, where_of
from rules.templates import ACTIONS, ActionCall, FactRef, Template, variables_used
from rules.topics import LOCALES

TEMPLATE_KEYS = {
    "id": str,
    "title": str,
    "autoreply": bool,
    "slots": list,
    "action": dict,
    "text": dict,
}


def read_templates(
    files: list[YamlFile], facts: FactSchema, problems: Problems
) -> dict[str, Template]:
    """Return the templates by id, compiled, each slot and action parameter checked against `facts`."""
    templates: dict[str, Template] = {}
    for file in files:
        for item, _ in mapping_items(file, "templates", problems):
            if not check_keys(
                item, TEMPLATE_KEYS, {"id", "title", "autoreply", "text"}, "a template", problems
            ):
                continue
            tid = item["id"]
            if tid in templates or not DOTTED_ID.match(tid):
                problems.add(item.at("id"), f"template id '{tid}' is duplicate or malformed")
                continue
            action = _action(item, facts, problems) if "action" in item else None
            template = Template(
                tid, item["title"], {}, tuple(item.get("slots", [])), item["autoreply"], action
            )
            _check_slots(item, template, facts, problems)
            _add_texts(item, template, problems)
            templates[tid] = template
    return templates


def _action(item: LocDict, facts: FactSchema, problems: Problems) -> ActionCall | None:
    spec: LocDict = item["action"]
    if len(spec) != 1:
        problems.add(item.at("action"), "an action is one mapping 'kind: {params}'")
        return None
    ((name, params),) = spec.items()
    kind = ACTIONS.get(name)
    if kind is None:
        problems.add(spec.at(name), f"unknown action '{name}'{suggest(name, ACTIONS)}")
        return None
    if not isinstance(params, LocDict):
        problems.add(spec.at(name), f"action '{name}' takes a mapping of parameters")
        return None
    resolved: dict[str, Any] = {}
    for pname in sorted(set(kind.params) - set(params)):
        problems.add(spec.at(name), f"action '{name}' lacks parameter '{pname}'")
    for pname, value in params.items():
        param = kind.params.get(pname)
        if param is None:
            problems.add(
                params.at(pname),
                f"unknown parameter '{pname}' of '{name}'{suggest(pname, kind.params)}",
            )
        elif isinstance(value, LocDict) and set(value) == {"fact"} and param.from_fact:
            ref = facts.get(str(value["fact"]))
            if ref is None or (ref.type.numeric != (param.type in (int, float))):
                problems.add(
                    params.at(pname),
                    f"parameter '{pname}' needs a {param.type.__name__} fact; '{value['fact']}' is not one{suggest(str(value['fact']), facts.specs)}",
                )
            resolved[pname] = FactRef(str(value["fact"]))
        elif not isinstance(value, param.type) or isinstance(value, bool):
            problems.add(
                params.at(pname),
                f"parameter '{pname}' of '{name}' must be a {param.type.__name__}"
                + (" or {fact: NAME}" if param.from_fact else ""),
            )
        else:
            resolved[pname] = value
    return ActionCall(kind, resolved)


def _check_slots(item: LocDict, template: Template, facts: FactSchema, problems: Problems) -> None:
    # A slot is filled from a fact or from an output of the template's action.
    outputs = set(template.action.kind.outputs) if template.action else set()
    for slot in template.slots:
        if slot not in facts and slot not in outputs:
            problems.add(
                where_of(slot, item.at("slots")),
                f"slot '{slot}' of template '{template.id}' is neither a fact nor an output of its action{suggest(slot, [*facts.specs, *outputs])}",
            )


def _add_texts(item: LocDict, template: Template, problems: Problems) -> None:
    # Every locale has a text, and a text uses only the template's declared slots.
    texts: LocDict = item["text"]
    for locale in LOCALES:
        if not isinstance(texts.get(locale), str) or not texts[locale].strip():
            problems.add(item.at("text"), f"template '{template.id}' lacks its '{locale}' text")
    for locale, text in texts.items():
        if locale not in LOCALES:
            problems.add(
                texts.at(locale), f"unknown locale '{locale}' (known: {', '.join(LOCALES)})"
            )
            continue
        where = where_of(text, texts.at(locale))
        try:
            used = variables_used(str(text))
        except Exception as exc:  # jinja2.TemplateSyntaxError and the sandbox's own errors
            problems.add(where, f"template syntax: {exc}")
            continue
        for name in sorted(used - set(template.slots)):
            problems.add(
                where,
                f"'{locale}' text of '{template.id}' uses undeclared slot '{name}'{suggest(name, template.slots)}",
            )
        template.texts[locale] = str(text)
    template.compile()
