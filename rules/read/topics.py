"""Reading topics/*.yaml: one topic tree per support line."""

from __future__ import annotations

from rules.errors import Problems
from rules.read.checks import ID, check_keys
from rules.read.source import LocDict, LocList, YamlFile
from rules.topics import LOCALES, TopicNode, TopicTree

LINE_KEYS = {"line": str, "title": dict, "topics": list}
TOPIC_KEYS = {
    "id": str,
    "title": dict,
    "actionable": bool,
    "description": str,
    "topics": list,
    "guard": str,
}


def read_topics(files: list[YamlFile], problems: Problems) -> TopicTree:
    """Return the tree of every line the files declare; a malformed topic is a problem, left out."""
    lines: dict[str, TopicNode] = {}
    for file in files:
        data = file.data
        # A broken file was reported by read_yaml; a non-mapping one adds nothing here.
        if not isinstance(data, LocDict) or not check_keys(
            data, LINE_KEYS, set(LINE_KEYS), "a topic file", problems
        ):
            continue
        line = data["line"]
        if line in lines or not ID.match(line):
            problems.add(data.at("line"), f"line id '{line}' is duplicate or not lower_snake_case")
            continue
        root = TopicNode(line, _titles(data, "line", problems), True)
        root.children = _topic_nodes(data["topics"], line, True, None, problems)
        lines[line] = root
    return TopicTree(lines)


def _titles(data: LocDict, what: str, problems: Problems) -> dict[str, str]:
    title = data.get("title")
    missing = [loc for loc in LOCALES if not isinstance(title, dict) or not title.get(loc)]
    if missing:
        problems.add(data.at("title"), f"{what} lacks a title in {', '.join(missing)}")
    return {loc: str(title.get(loc, "")) for loc in LOCALES} if isinstance(title, dict) else {}


def _topic_nodes(
    items: LocList, parent: str, actionable: bool, guard: str | None, problems: Problems
) -> list[TopicNode]:
    nodes: list[TopicNode] = []
    for item, where in zip(items, items.item_where, strict=True):
        if not isinstance(item, LocDict):
            problems.add(where, "a topic must be a mapping")
            continue
        if not check_keys(item, TOPIC_KEYS, {"id", "title"}, "a topic", problems):
            continue
        if not ID.match(item["id"]):
            problems.add(item.at("id"), f"topic id '{item['id']}' must be lower_snake_case")
            continue
        path = f"{parent}/{item['id']}"
        if any(n.path == path for n in nodes):
            problems.add(item.at("id"), f"duplicate topic '{path}'")
            continue
        node = TopicNode(
            path,
            _titles(item, f"topic '{path}'", problems),
            actionable and item.get("actionable", True),
            item.get("description", ""),
            guard=item.get("guard", guard),
            where=where,
        )
        if node.guard is not None and (node.actionable or not ID.match(node.guard)):
            problems.add(
                item.at("guard") if "guard" in item else where,
                f"'guard' names the guard class of a non-actionable topic; '{path}' is actionable or '{node.guard}' is malformed",
            )
        if "topics" in item:
            node.children = _topic_nodes(
                item["topics"], path, node.actionable, node.guard, problems
            )
        nodes.append(node)
    return nodes
