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

One :class:`tree_sitter.Parser` serves the whole process, behind a lock (the TUI scans in a
worker thread; the batch scan runs files in processes).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import NamedTuple

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

__all__ = ["AndOr", "Loop", "Part", "Pipeline", "Redirect", "ShellError", "Simple", "Word", "parse_script"]

_PARSER = Parser(Language(tree_sitter_bash.language()))
_PARSER_LOCK = threading.Lock()  # a TSParser must not parse in two threads at once (the TUI scans in a worker thread)

MAX_LOOP_DEPTH = 16
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BRACED_VAR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::?[-=].*)?\Z", re.S)
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
_OPAQUE_KEYWORDS = {"if": "if", "case": "case", "for": "for", "select": "select", "function": "function",
                    "{": "group { … }"}
_MISPLACED_KEYWORDS = frozenset({"then", "elif", "else", "fi", "esac", "do", "done", "}", "in"})
# Nodes that are one word (or one piece of a word) on a command line.
_WORD_NODES = frozenset({"word", "string", "raw_string", "concatenation", "simple_expansion", "expansion",
                         "command_substitution", "number", "ansi_c_string", "arithmetic_expansion",
                         "translated_string", "brace_expression", "extglob_pattern", "test_operator",
                         "variable_name", "special_variable_name", "regex"})


class ShellError(Exception):
    """The script can't be analysed; the message says why."""


def _syntax(detail: str) -> ShellError:
    return ShellError(f"shell syntax not understood: {detail}")


def _control(which: str) -> ShellError:
    return ShellError(f"control flow: {which}")


class Part(NamedTuple):
    kind: str  # "lit" | "var" | "sub"
    text: str  # literal text, or the reference as written ("$X", "${X}", "$(cmd)")
    quoted: bool
    name: str = ""  # for "var": the name to look up ("" when it can't be substituted)


class Word(NamedTuple):
    text: str  # raw text as written
    start: int
    end: int
    parts: tuple[Part, ...]


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
    data = script.encode("utf-8", "surrogatepass")
    with _PARSER_LOCK:
        tree = _PARSER.parse(data)
    reader = _Reader(script, data)
    root = tree.root_node
    if root.has_error:
        raise reader.diagnose(root)
    return reader.statements(root.children, 0)


class _Reader:
    def __init__(self, script: str, data: bytes) -> None:
        self.script = script
        self.data = data
        self.chars: list[int] | None = None
        if len(data) != len(script):  # byte offset -> character index
            chars = [0] * (len(data) + 1)
            position = 0
            for index, char in enumerate(script):
                width = len(char.encode("utf-8", "surrogatepass"))
                for k in range(width):
                    chars[position + k] = index
                position += width
            chars[len(data)] = len(script)
            self.chars = chars

    # ----------------------------------------------------------------- offsets and text

    def at(self, byte: int) -> int:
        return byte if self.chars is None else self.chars[byte]

    def text(self, node: Node) -> str:
        return self.script[self.at(node.start_byte) : self.at(node.end_byte)]

    def line(self, node: Node) -> int:
        return node.start_point.row + 1

    # ----------------------------------------------------------------- errors

    def diagnose(self, root: Node) -> ShellError:
        """The first thing tree-sitter could not read, in the words a person would use: an
        unterminated quote or substitution first (wherever it is), then the first error."""
        errors = _errors(root)
        if not errors:  # pragma: no cover - has_error without an error node
            return _syntax("the script does not parse")
        for node in errors:
            lexical = self._opening(node.parent) if node.is_missing else self._unterminated(node)
            if lexical is not None:
                return lexical
        for node in errors:
            parent = node.parent
            if parent is not None and parent.type == "command" and any(c.type == "subshell" for c in parent.children):
                return _syntax("unexpected '('")  # `word (…)`: not a function definition, not a word
        node = errors[0]
        if node.is_missing:
            return self._missing(node)
        first = _first_leaf(node)
        token = self.text(first).strip() if first is not None else ""
        if token in _OPAQUE_KEYWORDS:
            return _control(_OPAQUE_KEYWORDS[token])
        if token == "(" and first is not None and first.next_sibling is not None and first.next_sibling.type == "(":
            return _control("arithmetic (( … ))")
        if token == "(":
            return _control("subshell ( … )")
        return self._unexpected(node)

    def _unterminated(self, node: Node) -> ShellError | None:
        text = self.text(node).lstrip()
        line = node.start_point.row + 1
        for prefix, what in (("'", "unterminated single quote"), ('"', "unterminated double quote"),
                             ("$'", "unterminated $' quote"), ("$(", "unterminated $("), ("${", "unterminated ${"),
                             ("`", "unterminated backtick")):
            if text.startswith(prefix):
                return _syntax(f"{what} (line {line})")
        return None

    def _missing(self, node: Node) -> ShellError:
        parent = node.parent
        opener = self._opening(parent) if parent is not None else None
        kind = node.type
        if kind in ("do", "done") and parent is not None:
            keyword = self._loop_keyword(parent)
            if keyword:
                return _syntax(f"{keyword} loop without do" if kind == "do" else f"unclosed {keyword} loop")
        if opener is not None:
            return opener
        if kind == ";" and node.next_sibling is not None:  # two commands with no separator between them
            following = _first_leaf(node.next_sibling)
            if following is not None:
                return _syntax(f"unexpected '{self.text(following).strip()}'")
        if kind in ("word", "command_name") or parent is not None and parent.type == "command_name":
            return _syntax("a command is missing after an operator")
        return _syntax(f"missing '{kind}' (line {node.start_point.row + 1})")

    def _loop_keyword(self, node: Node | None) -> str:
        while node is not None:
            if node.type in ("while_statement", "ERROR") and node.child_count:
                first = node.children[0].type
                if first in ("while", "until"):
                    return first
            node = node.parent
        return ""

    def _opening(self, node: Node | None) -> ShellError | None:
        """An unterminated quote or substitution that starts at ``node``."""
        if node is None:
            return None
        line = node.start_point.row + 1
        if node.type == "string":
            return _syntax(f"unterminated double quote (line {line})")
        if node.type == "raw_string":
            return _syntax(f"unterminated single quote (line {line})")
        if node.type == "command_substitution":
            if self.text(node).startswith("`"):
                return _syntax(f"unterminated backtick (line {line})")
            return _syntax(f"unterminated $( (line {line})")
        if node.type == "expansion":
            return _syntax(f"unterminated ${{ (line {line})")
        if node.type == "ansi_c_string":
            return _syntax(f"unterminated $' quote (line {line})")
        return None

    def _unexpected(self, node: Node) -> ShellError:
        text = self.text(node).lstrip()
        line = node.start_point.row + 1
        loop = self._loop_keyword(node)
        lexical = self._unterminated(node)
        if lexical is not None:
            return lexical
        first = _first_leaf(node)
        token = self.text(first).strip() if first is not None else text.split(maxsplit=1)[0] if text else ""
        if loop and node.children and node.children[0].type in ("while", "until"):
            words = [self.text(c) for c in node.children]
            if "do" not in words:
                return _syntax(f"{loop} loop without do")
            return _syntax(f"unclosed {loop} loop")
        if token in ("<<", "<<-"):
            return _syntax("here-document without a delimiter")
        if token in (">", ">>", "<", ">|", "&>", "&>>", "<>", ">&", "<&"):
            return _syntax(f"{token} without a target")
        if token in ("&&", "||", "|", "|&", ";", ";;", "&", ")", "(") or token in _MISPLACED_KEYWORDS or token in (
                "while", "until"):
            return _syntax(f"unexpected '{token}'")
        return _syntax(f"unexpected '{token}' (line {line})")

    # ----------------------------------------------------------------- statements

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
                raise _syntax("unexpected '!'")
            raise _control(_OPAQUE[kind])
        if kind == "command":
            return self.simple(node, redirect_nodes)
        if kind in ("variable_assignment", "variable_assignments", "declaration_command", "unset_command", "test_command"):
            return self.simple_parts(self.flat_words(node), redirect_nodes, node)
        if kind in ("list", "pipeline", "redirected_statement"):
            raise _syntax(f"unexpected '{self.text(node).split(maxsplit=1)[0]}'")
        raise _syntax(f"unexpected '{self.text(node).split(maxsplit=1)[0] if self.text(node).split() else kind}'")

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
                    if raw in _OPAQUE_KEYWORDS:
                        raise _control(_OPAQUE_KEYWORDS[raw])
                    if raw in _MISPLACED_KEYWORDS or raw in ("while", "until", "!"):
                        raise _syntax(f"unexpected '{raw}'")
                word_nodes.append(name)
            elif kind == "variable_assignment" or kind in _WORD_NODES:
                word_nodes.append(child)
            elif kind == "comment":
                continue
            elif kind == "subshell" or kind == "(":
                raise _syntax("unexpected '('")
            else:
                raise _syntax(f"unexpected '{self.text(child)}'")
        return self.simple_parts(word_nodes, redirects, node)

    def flat_words(self, node: Node) -> list[Node]:
        """The word-like nodes of a declaration or a ``[ … ]`` test, in order (grouped into
        words by adjacency later)."""
        out: list[Node] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if current is not node and (current.type in _WORD_NODES or current.type == "variable_assignment"
                                        or current.child_count == 0):
                if current.type not in ("comment",):
                    out.append(current)
                continue
            if current.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                raise _syntax("a redirection inside a test")
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
                raise _syntax(f"unexpected '{self.text(child)}'")
        if kind == "heredoc_redirect" and target is not None and target.type == "heredoc_start":
            word = self.heredoc_delimiter(target)
        elif op in (">&-", "<&-"):
            start = self.at(node.end_byte) - 1
            word = Word("-", start, start + 1, (Part("lit", "-", False),))
            op = op[:-1]
        elif target is None:
            raise _syntax(f"{op or kind} without a target")
        else:
            word = self.word([target])
        return [Redirect(op, word, fd)] + nested

    def heredoc_delimiter(self, node: Node) -> Word:
        raw = self.text(node)
        unquoted = raw.replace("'", "").replace('"', "").replace("\\", "")
        return Word(raw, self.at(node.start_byte), self.at(node.end_byte), (Part("lit", unquoted, raw != unquoted),))

    def loop(self, node: Node, redirect_nodes: list[Node], depth: int) -> Loop:
        if depth >= MAX_LOOP_DEPTH:
            raise _syntax("loops nested too deeply")
        keyword = node.children[0].type
        conditions = [c for c in node.children if node.field_name_for_child(node.children.index(c)) == "condition"]
        body = node.child_by_field_name("body")
        if body is None or body.type != "do_group":
            raise _syntax(f"{keyword} loop without do")
        condition = self.statements(conditions, depth + 1)
        if not condition:
            raise _syntax(f"{keyword} loop without do")
        items = self.statements(body.children, depth + 1)
        redirects: list[Redirect] = []
        end = self.at(body.end_byte)
        for redirect in redirect_nodes:
            for item in self.redirect(redirect):
                redirects.append(item)
                end = max(end, item.target.end)
        return Loop(keyword, condition, items, tuple(redirects), self.at(node.start_byte), end)

    # ----------------------------------------------------------------- words

    def token(self, nodes: list[Node]) -> Token:
        """Adjacent word nodes as one RUN-script word: quotes removed, ``$…`` kept as written."""
        if nodes[0].type == "heredoc_start":
            raw = self.text(nodes[0])
            unquoted = raw.replace("'", "").replace('"', "").replace("\\", "")
            return Token("word", unquoted, self.at(nodes[0].start_byte), self.at(nodes[0].end_byte), raw != unquoted)
        try:
            word = self.word(nodes)
        except ShellError:
            word = Word(self.script[self.at(nodes[0].start_byte) : self.at(nodes[-1].end_byte)],
                        self.at(nodes[0].start_byte), self.at(nodes[-1].end_byte), ())
            return Token("word", word.text, word.start, word.end, False, "$" in word.text or "`" in word.text)
        text = "".join(p.text for p in word.parts)
        quoted = any(p.quoted for p in word.parts)
        return Token("word", text, word.start, word.end, quoted, any(self._expands(n) for n in nodes))

    def _expands(self, node: Node) -> bool:
        """Does the word hold a ``$…`` or backtick the shell expands (not inside single quotes)?"""
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type in _EXPANSIONS:
                return True
            if current.type in ("word", "string_content") and _has_unescaped_expansion(self.text(current)):
                return True
            if current.type != "raw_string":
                stack.extend(current.children)
        return False

    def word(self, nodes: list[Node]) -> Word:
        if len(nodes) == 1 and nodes[0].type in ("word", "number"):  # most words: plain text, no escape
            node = nodes[0]
            start, end = self.at(node.start_byte), self.at(node.end_byte)
            raw = self.script[start:end]
            if "\\" not in raw:
                return Word(raw, start, end, (Part("lit", raw, False),))
        parts: list[Part] = []
        for node in nodes:
            self.parts(node, False, parts)
        start, end = self.at(nodes[0].start_byte), self.at(nodes[-1].end_byte)
        return Word(self.script[start:end], start, end, tuple(_merge(parts)))

    def parts(self, node: Node, quoted: bool, out: list[Part]) -> None:
        kind = node.type
        raw = self.text(node)
        if kind == "string":
            self.string(node, out)
        elif kind == "raw_string":
            out.append(Part("lit", raw[1:-1], True))
        elif kind == "ansi_c_string":
            out.append(Part("lit", raw[2:-1], True))
        elif kind == "simple_expansion":
            name = raw[1:]
            if _NAME.match(name):
                out.append(Part("var", raw, quoted, name))
            else:
                out.append(Part("lit", raw, quoted))
        elif kind == "expansion":
            match = _BRACED_VAR.match(raw[2:-1])
            out.append(Part("var", raw, quoted, match.group(1) if match else ""))
        elif kind in ("command_substitution", "arithmetic_expansion"):
            out.append(Part("sub", raw, quoted))
        elif kind == "concatenation" or kind == "variable_assignment" and node.child_count:
            self.children_parts(node, quoted, out)
        elif kind == "translated_string":
            out.append(Part("lit", "$", quoted))
            for child in node.children:
                self.parts(child, quoted, out)
        elif node.child_count == 0 or kind in ("word", "number", "extglob_pattern", "test_operator", "variable_name",
                                               "special_variable_name", "regex", "brace_expression"):
            self.unquoted(raw, quoted, out)
        else:
            raise _syntax(f"unexpected '{raw}'")

    def children_parts(self, node: Node, quoted: bool, out: list[Part]) -> None:
        """A node's children, and the text between them (tree-sitter leaves ``=`` and the like
        as anonymous children, but not always every byte)."""
        position = node.start_byte
        for child in node.children:
            if child.start_byte > position:
                self.unquoted(self.data[position : child.start_byte].decode("utf-8", "surrogatepass"), quoted, out)
            self.parts(child, quoted, out)
            position = child.end_byte
        if node.end_byte > position:
            self.unquoted(self.data[position : node.end_byte].decode("utf-8", "surrogatepass"), quoted, out)

    def unquoted(self, raw: str, quoted: bool, out: list[Part]) -> None:
        """Unquoted text: a backslash quotes the next character; a backslash-newline vanishes."""
        if quoted or "\\" not in raw:
            out.append(Part("lit", raw, quoted))
            return
        i, n = 0, len(raw)
        while i < n:
            c = raw[i]
            if c == "\\" and i + 1 < n:
                if raw[i + 1] != "\n":
                    out.append(Part("lit", raw[i + 1], True))
                i += 2
            else:
                out.append(Part("lit", c, False))
                i += 1

    def string(self, node: Node, out: list[Part]) -> None:
        """``"…"``: expansions and substitutions inside stay parts; ``\\$ \\` \\" \\\\`` and a
        backslash-newline are the only escapes."""
        out.append(Part("lit", "", True))
        position = node.start_byte + 1
        end = node.end_byte - 1
        for child in node.children:
            if child.type in ('"', "string_content"):
                continue
            if child.start_byte > position:
                out.append(Part("lit", _unescape_double(self._slice(position, child.start_byte)), True))
            self.parts(child, True, out)
            position = child.end_byte
        if end > position:
            out.append(Part("lit", _unescape_double(self._slice(position, end)), True))

    def _slice(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "surrogatepass")


def _unescape_double(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _merge(parts: list[Part]) -> list[Part]:
    """Adjacent literal parts with the same quoting are one part (as a lexer would give them)."""
    out: list[Part] = []
    for part in parts:
        if out and part.kind == "lit" and out[-1].kind == "lit" and out[-1].quoted == part.quoted:
            out[-1] = Part("lit", out[-1].text + part.text, part.quoted)
        else:
            out.append(part)
    return out


def _destinations(node: Node) -> list[Node]:
    return [c for i, c in enumerate(node.children) if node.field_name_for_child(i) == "destination"]


def _body(node: Node) -> Node | None:
    return node.child_by_field_name("body")


def _redirects(node: Node) -> list[Node]:
    return [c for c in node.children if c.type in ("file_redirect", "heredoc_redirect", "herestring_redirect")]


def _first_leaf(node: Node) -> Node | None:
    while node.child_count:
        node = node.children[0]
    return node


def _errors(root: Node) -> list[Node]:
    """ERROR and MISSING nodes, in document order (outermost first)."""
    out: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            out.append(node)
        if node.has_error:
            stack.extend(reversed(node.children))
    return out


# --------------------------------------------------------------------------- the token view (RUN scripts)


class Token(NamedTuple):
    """One token of a script in order, as ``dockerfile.run`` flattens a ``RUN``: a word (quotes
    removed, substitutions kept as written), an operator, a redirection operator, or a newline."""

    kind: str  # "word" | "op" | "redir" | "newline"
    text: str
    start: int
    end: int
    quoted: bool = False
    expands: bool = False


_EXPANSIONS = frozenset({"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion",
                         "ansi_c_string", "translated_string"})
_OPERATOR_LEAVES = frozenset({"&&", "||", ";;", "|&", ";", "&", "|", "(", ")"})
_REDIRECT_LEAVES = frozenset({"&>>", "&>", "<<<", "<<-", "<<", ">>", ">|", ">&", "<&", "<>", ">", "<"})
_SKIPPED = frozenset({"comment", "heredoc_body", "heredoc_end", "heredoc_content", "file_descriptor"})


def tokens(script: str, external_heredocs: bool = False) -> tuple[list[Token], bool]:
    """The tokens of ``script`` read by tree-sitter-bash, and whether it is unfinished (a
    trailing operator, an unclosed quote or construct: tokens stop where tree-sitter's first
    error starts). ``external_heredocs``: here-document bodies are not in ``script`` (a
    Dockerfile heredoc's first line), so their absence is no error."""
    data = script.encode("utf-8", "surrogatepass")
    with _PARSER_LOCK:
        tree = _PARSER.parse(data)
    if external_heredocs:
        delimiters = _heredoc_delimiters(tree.root_node, data)
        if delimiters:
            suffix = ("\n" + "\n".join(delimiters) + "\n").encode("utf-8", "surrogatepass")
            with _PARSER_LOCK:
                tree = _PARSER.parse(data + suffix)
    reader = _Reader(script, data)
    root = tree.root_node
    errors = _errors(root) if root.has_error else []
    stop = min((e.start_byte for e in errors), default=len(data))
    out: list[Token] = []
    pending: list[Node] = []

    def flush() -> None:
        if pending:
            out.append(reader.token(pending))
            pending.clear()

    def newline_before(start: int) -> None:
        begin = reader.at(pending[-1].end_byte) if pending else out[-1].end if out else 0
        gap = script[begin : reader.at(start)].replace("\\\n", "")
        if "\n" in gap:
            flush()
            out.append(Token("newline", "\n", begin + gap.index("\n"), begin + gap.index("\n") + 1))

    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in _SKIPPED or node.type == "ERROR" and node.start_byte >= stop:
            continue
        if node.start_byte >= stop or node.end_byte > stop and (node.type in _WORD_NODES or node.child_count == 0):
            break
        is_word = node.type in _WORD_NODES or node.type in ("variable_assignment", "heredoc_start")
        if node is not root and (is_word or node.child_count == 0):
            newline_before(node.start_byte)
            if is_word:
                if pending and data[pending[-1].end_byte : node.start_byte].replace(b"\\\n", b"") != b"":
                    flush()
                pending.append(node)
                continue
            flush()
            text = reader.text(node)
            start, end = reader.at(node.start_byte), reader.at(node.end_byte)
            if text in (">&-", "<&-"):
                out.append(Token("redir", text[:2], start, end - 1))
                out.append(Token("word", "-", end - 1, end))
            elif text in _REDIRECT_LEAVES:
                out.append(Token("redir", text, start, end))
            elif text in _OPERATOR_LEAVES:
                out.append(Token("op", text, start, end))
            elif text:
                out.append(Token("word", text, start, end))
            continue
        stack.extend(reversed(node.children))
    flush()
    if not errors:
        tail = script[out[-1].end :] if out else script
        if "\n" in tail.replace("\\\n", ""):
            index = out[-1].end + tail.replace("\\\n", "  ").index("\n") if out else tail.index("\n")
            out.append(Token("newline", "\n", index, index + 1))
    return out, bool(errors)


def _has_unescaped_expansion(text: str) -> bool:
    i, n = 0, len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in "$`":
            return True
        i += 1
    return False


def _heredoc_delimiters(root: Node, data: bytes) -> list[str]:
    out: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "heredoc_start":
            raw = data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")
            out.append(raw.replace("'", "").replace('"', "").replace("\\", ""))
            continue
        stack.extend(reversed(node.children))
    return out
