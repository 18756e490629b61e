"""Shell syntax through tree-sitter-bash: a script -> and-or lists of pipelines of commands.

tree-sitter-bash reads the script (quotes, escapes, comments, continuations, redirections,
here-documents, substitutions); this module turns its tree into the small structure the rest of
the shell model walks: :class:`AndOr` lists of :class:`Pipeline` s of :class:`Simple` commands
and ``while``/``until`` :class:`Loop` s, whose :class:`Word` s keep their :class:`Part` s
(literal text, ``$VAR``, substitutions) with their quoting, and every offset as an index into
the script (characters, not bytes).

Nothing is guessed. A script tree-sitter can't read (an ``ERROR`` or ``MISSING`` node) raises
:class:`ShellError` ``shell syntax not understood: …``; control flow outside the subset the model
follows (``if``, ``case``, ``for``, functions, subshells, groups, arithmetic) raises
``control flow: …``. The caller turns either into an opaque result.

The parser and offsets live in :mod:`.source`, the reading of words in :mod:`.words`, the
explanation of an unreadable script in :mod:`.diagnose`; ``parse.dockerfile.run`` reads ``RUN``
scripts through the token view of :mod:`.tokens`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from tree_sitter import Node

from migrate_tui.parse.shell.diagnose import Diagnoser
from migrate_tui.parse.shell.source import MISPLACED_KEYWORDS, OPAQUE_KEYWORDS, ShellError, control_error, encode, parse_tree, syntax_error
from migrate_tui.parse.shell.words import WORD_NODES, Part, Word, WordReader

__all__ = ["AndOr", "Loop", "Part", "Pipeline", "Redirect", "ShellError", "Simple", "Word", "parse_script"]

MAX_LOOP_DEPTH = 16
_OPAQUE = {
    "if_statement": "if",
    "case_statement": "case",
    "for_statement": "for",
    "c_style_for_statement": "for",
    "select_statement": "select",
    "function_definition": "function",
    "compound_statement": "group { … }",
    "subshell": "subshell ( … )",
    "arithmetic_expansion": "arithmetic (( … ))",
    "negated_command": "",
}


class Redirect(NamedTuple):
    op: str  # ">", ">>", "<<", "&>", ">&" … (without the descriptor)
    target: Word
    fd: str = ""


class Simple(NamedTuple):
    words: tuple[Word, ...]  # NAME=value prefixes included, as written
    redirects: tuple[Redirect, ...]
    start: int
    end: int


class Loop(NamedTuple):
    keyword: str  # "while" | "until"
    condition: tuple[AndOr, ...]
    body: tuple[AndOr, ...]
    redirects: tuple[Redirect, ...]
    start: int
    end: int


class Pipeline(NamedTuple):
    commands: tuple[Simple | Loop, ...]
    connector: str  # the operator before it: "", "&&" or "||"
    start: int
    end: int


class AndOr(NamedTuple):
    pipelines: tuple[Pipeline, ...]
    background: bool


@lru_cache(maxsize=4096)
def parse_script(script: str) -> tuple[AndOr, ...]:
    """The and-or lists of ``script``; raises :class:`ShellError` when it can't be read whole.

    Cached: a repository repeats the same init-container scripts across its manifests, and the
    result is immutable (tuples of named tuples)."""
    data = encode(script)
    tree = parse_tree(data)
    reader = _Reader(script, data)
    root = tree.root_node
    if root.has_error:
        raise reader.diagnose(root)
    return reader.statements(root.children, 0)


class _Reader(Diagnoser, WordReader):
    def statements(self, nodes: list[Node], depth: int) -> tuple[AndOr, ...]:
        """The and-or lists among ``nodes`` (a program's or a do-group's children)."""
        items: list[AndOr] = []
        for node in nodes:
            kind = node.type
            if kind == "&":
                if items:
                    items[-1] = items[-1]._replace(background=True)
                continue
            if kind in (";", "\n", "comment", "do", "done", "heredoc_body"):
                continue
            items.append(AndOr(tuple(self.and_or(node, depth)), False))
        return tuple(items)

    def and_or(self, node: Node, depth: int) -> list[Pipeline]:
        """A ``list`` (``a && b || c``, left-nested in the tree) as its pipelines, in order."""
        chain: list[tuple[Node, str]] = []
        redirects: list[Node] = []
        while True:
            if node.type == "redirected_statement" and _body(node) is not None and _body(node).type == "list":  # type: ignore[union-attr]
                # tree-sitter-bash hangs `a && b > f`'s redirection on the whole list: it is b's
                redirects = _redirects(node) + redirects
                node = _body(node)  # type: ignore[assignment]
                continue
            if node.type != "list":
                chain.append((node, ""))
                break
            children = [c for c in node.children if c.type != "comment"]
            if len(children) != 3 or children[1].type not in ("&&", "||"):
                raise self._unexpected(node)
            chain.append((children[2], children[1].type))
            node = children[0]
        chain.reverse()
        pipelines: list[Pipeline] = []
        for index, (member, connector) in enumerate(chain):
            extra = redirects if index == len(chain) - 1 else []
            pipelines.append(self.pipeline(member, connector, extra, depth))
        return pipelines

    def pipeline(self, node: Node, connector: str, extra: list[Node], depth: int) -> Pipeline:
        if node.type == "negated_command" and node.child_count == 2:
            node = node.children[1]
        if node.type == "redirected_statement" and _body(node) is not None and _body(node).type == "pipeline":  # type: ignore[union-attr]
            extra = _redirects(node) + extra
            node = _body(node)  # type: ignore[assignment]
        members = [c for c in node.children if c.type not in ("|", "|&", "comment")] if node.type == "pipeline" else [node]
        commands: list[Simple | Loop] = []
        for index, member in enumerate(members):
            if member.type == "negated_command" and index == 0 and member.child_count == 2:
                member = member.children[1]
            commands.append(self.command(member, extra if index == len(members) - 1 else [], depth))
        return Pipeline(tuple(commands), connector, commands[0].start, commands[-1].end)

    def command(self, node: Node, extra: list[Node], depth: int) -> Simple | Loop:
        redirect_nodes: list[Node] = []
        if node.type == "redirected_statement":
            body = _body(node)
            redirect_nodes = _redirects(node)
            if body is None:
                return self.simple_parts([], redirect_nodes + extra, node)
            node = body
        redirect_nodes += extra
        kind = node.type
        if kind == "while_statement":
            return self.loop(node, redirect_nodes, depth)
        if kind in _OPAQUE:
            if kind == "negated_command":
                raise syntax_error("unexpected '!'")
            raise control_error(_OPAQUE[kind])
        if kind == "command":
            return self.simple(node, redirect_nodes)
        if kind in ("variable_assignment", "variable_assignments", "declaration_command", "unset_command", "test_command"):
            return self.simple_parts(self.flat_words(node), redirect_nodes, node)
        if kind in ("list", "pipeline", "redirected_statement"):
            raise syntax_error(f"unexpected '{self.text(node).split(maxsplit=1)[0]}'")
        raise syntax_error(f"unexpected '{self.text(node).split(maxsplit=1)[0] if self.text(node).split() else kind}'")

    def simple(self, node: Node, redirect_nodes: list[Node]) -> Simple:
        word_nodes: list[Node] = []
        redirects = list(redirect_nodes)
        for child in node.children:
            kind = child.type
            if kind in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                redirects.append(child)
            elif kind == "command_name":
                name = child.children[0] if child.child_count == 1 else child
                raw = self.text(name)
                if name.type == "word":
                    if raw in OPAQUE_KEYWORDS:
                        raise control_error(OPAQUE_KEYWORDS[raw])
                    if raw in MISPLACED_KEYWORDS or raw in ("while", "until", "!"):
                        raise syntax_error(f"unexpected '{raw}'")
                word_nodes.append(name)
            elif kind == "variable_assignment" or kind in WORD_NODES:
                word_nodes.append(child)
            elif kind == "comment":
                continue
            elif kind == "subshell" or kind == "(":
                raise syntax_error("unexpected '('")
            else:
                raise syntax_error(f"unexpected '{self.text(child)}'")
        return self.simple_parts(word_nodes, redirects, node)

    def flat_words(self, node: Node) -> list[Node]:
        """The word-like nodes of a declaration or a ``[ … ]`` test, in order (grouped into
        words by adjacency later)."""
        out: list[Node] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if current is not node and (current.type in WORD_NODES or current.type == "variable_assignment" or current.child_count == 0):
                if current.type not in ("comment",):
                    out.append(current)
                continue
            if current.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                raise syntax_error("a redirection inside a test")
            stack.extend(reversed(current.children))
        return out

    def simple_parts(self, word_nodes: list[Node], redirect_nodes: list[Node], node: Node) -> Simple:
        # tree-sitter-bash reads `cp /a 2>/dev/null /b` as a redirection with two destinations;
        # the shell reads /b as cp's argument.
        spilled = [d for r in redirect_nodes for d in _destinations(r)[1:]]
        if spilled:
            word_nodes = sorted(word_nodes + spilled, key=lambda n: n.start_byte)
        words = self.group(word_nodes)
        redirects: list[Redirect] = []
        ends = [w.end for w in words]
        for redirect in redirect_nodes:
            for item in self.redirect(redirect):
                redirects.append(item)
                ends.append(item.target.end)
        start = min([w.start for w in words] + [self.at(r.start_byte) for r in redirect_nodes] or [self.at(node.start_byte)])
        end = max(ends) if ends else self.at(node.end_byte)
        return Simple(tuple(words), tuple(redirects), start, end)

    def group(self, nodes: list[Node]) -> list[Word]:
        """Adjacent nodes (no blank between them) are one word; so are pieces joined by a
        line continuation, which tree-sitter-bash splits."""
        words: list[Word] = []
        pending: list[Node] = []
        for node in nodes:
            if pending:
                gap = self.data[pending[-1].end_byte : node.start_byte]
                if gap and gap.replace(b"\\\n", b"") != b"":
                    words.append(self.word(pending))
                    pending = []
            pending.append(node)
        if pending:
            words.append(self.word(pending))
        return words

    def redirect(self, node: Node) -> list[Redirect]:
        kind = node.type
        fd = ""
        op = ""
        target: Node | None = None
        nested: list[Redirect] = []
        for child in node.children:
            if child.type == "file_descriptor":
                fd = self.text(child)
            elif child.type in ("heredoc_body", "heredoc_end", "comment", "heredoc_content"):
                continue
            elif child.type in ("file_redirect", "herestring_redirect"):
                nested += self.redirect(child)
            elif child.type == "heredoc_redirect":
                nested += self.redirect(child)
            elif not op and (child.child_count == 0 and not child.is_named):
                op = self.text(child)
            elif target is None:
                target = child
            elif node.field_name_for_child(node.children.index(child)) != "destination":
                raise syntax_error(f"unexpected '{self.text(child)}'")
        if kind == "heredoc_redirect" and target is not None and target.type == "heredoc_start":
            word = self.heredoc_delimiter(target)
        elif op in (">&-", "<&-"):
            start = self.at(node.end_byte) - 1
            word = Word("-", start, start + 1, (Part("lit", "-", False),))
            op = op[:-1]
        elif target is None:
            raise syntax_error(f"{op or kind} without a target")
        else:
            word = self.word([target])
        return [Redirect(op, word, fd)] + nested

    def heredoc_delimiter(self, node: Node) -> Word:
        raw = self.text(node)
        unquoted = raw.replace("'", "").replace('"', "").replace("\\", "")
        return Word(raw, self.at(node.start_byte), self.at(node.end_byte), (Part("lit", unquoted, raw != unquoted),))

    def loop(self, node: Node, redirect_nodes: list[Node], depth: int) -> Loop:
        if depth >= MAX_LOOP_DEPTH:
            raise syntax_error("loops nested too deeply")
        keyword = node.children[0].type
        conditions = [c for c in node.children if node.field_name_for_child(node.children.index(c)) == "condition"]
        body = node.child_by_field_name("body")
        if body is None or body.type != "do_group":
            raise syntax_error(f"{keyword} loop without do")
        condition = self.statements(conditions, depth + 1)
        if not condition:
            raise syntax_error(f"{keyword} loop without do")
        items = self.statements(body.children, depth + 1)
        redirects: list[Redirect] = []
        end = self.at(body.end_byte)
        for redirect in redirect_nodes:
            for item in self.redirect(redirect):
                redirects.append(item)
                end = max(end, item.target.end)
        return Loop(keyword, condition, items, tuple(redirects), self.at(node.start_byte), end)


def _destinations(node: Node) -> list[Node]:
    return [c for i, c in enumerate(node.children) if node.field_name_for_child(i) == "destination"]


def _body(node: Node) -> Node | None:
    return node.child_by_field_name("body")


def _redirects(node: Node) -> list[Node]:
    return [c for c in node.children if c.type in ("file_redirect", "heredoc_redirect", "herestring_redirect")]
