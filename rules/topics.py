"""The topic tree: one tree per support line, addressed by stable paths like `riders/payment/receipt`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from rules.errors import Where

LOCALES = ("ru", "en")


@dataclass
class TopicNode:
    """A node of the tree; the root of a line has the line's id as its path."""

    path: str
    title: dict[str, str]
    actionable: bool = True
    description: str = ""
    children: list[TopicNode] = field(default_factory=list)
    # For non-actionable topics: the guard class such messages carry (gratitude, off_topic, ...).
    guard: str | None = None
    where: Where | None = field(default=None, compare=False, repr=False)

    @property
    def line(self) -> str:
        """Return the support line this node belongs to."""
        return self.path.split("/", 1)[0]

    @property
    def depth(self) -> int:
        """Return the number of path components below the line (the line's root is 0)."""
        return self.path.count("/")

    @property
    def is_leaf(self) -> bool:
        """Whether the node has no subtopics."""
        return not self.children

    def walk(self) -> Iterator[TopicNode]:
        """Yield this node and every node below it, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class TopicTree:
    """All support lines' trees, with a path index."""

    lines: dict[str, TopicNode]
    index: dict[str, TopicNode] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {node.path: node for root in self.lines.values() for node in root.walk()}

    def get(self, path: str) -> TopicNode | None:
        """Return the node at `path`, or None."""
        return self.index.get(path)

    def leaves(self, line: str | None = None) -> list[TopicNode]:
        """Return the leaves of one line, or of every line, in file order."""
        roots = [self.lines[line]] if line is not None else list(self.lines.values())
        return [node for root in roots for node in root.walk() if node.is_leaf]

    def leaf_paths(self, line: str) -> list[str]:
        """Return the leaf paths of one line in file order (the classifier's label order)."""
        return [node.path for node in self.leaves(line)]

    def ancestors(self, path: str) -> list[str]:
        """Return the paths from the line's root down to `path`, inclusive."""
        parts = path.split("/")
        return ["/".join(parts[: i + 1]) for i in range(len(parts))]

    def snapshot(self) -> dict[str, list[dict[str, object]]]:
        """Return a JSON-ready copy of every line's leaves (what a model bundle stores)."""
        return {
            line: [
                {"path": node.path, "actionable": node.actionable, "title": node.title}
                for node in self.leaves(line)
            ]
            for line in self.lines
        }
