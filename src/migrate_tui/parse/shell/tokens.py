"""The token view of a script, for ``parse.dockerfile.run``: words (quotes removed, substitutions
kept as written), operators, redirection operators and newlines, in order, with offsets, read
by the same tree-sitter-bash parser as the rest of the shell model."""

from __future__ import annotations

from typing import NamedTuple

from tree_sitter import Node

from migrate_tui.parse.shell.source import ShellError, encode, error_nodes, parse_tree
from migrate_tui.parse.shell.words import WORD_NODES, Word, WordReader

__all__ = ["Token", "tokens"]


class Token(NamedTuple):
    """One token of a script in order, as ``parse.dockerfile.run`` flattens a ``RUN``: a word (quotes
    removed, substitutions kept as written), an operator, a redirection operator, or a newline."""

    kind: str  # "word" | "op" | "redir" | "newline"
    text: str
    start: int
    end: int
    quoted: bool = False
    expands: bool = False
    substitutes: bool = False  # holds a command substitution or ``$((…))``: runs code to get its text


_EXPANSIONS = frozenset(
    {"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion", "ansi_c_string", "translated_string"}
)
_OPERATOR_LEAVES = frozenset({"&&", "||", ";;", "|&", ";", "&", "|", "(", ")"})
_REDIRECT_LEAVES = frozenset({"&>>", "&>", "<<<", "<<-", "<<", ">>", ">|", ">&", "<&", "<>", ">", "<"})
_SKIPPED = frozenset({"comment", "heredoc_body", "heredoc_end", "heredoc_content", "file_descriptor"})


class _TokenReader(WordReader):
    def token(self, nodes: list[Node]) -> Token:
        """Adjacent word nodes as one RUN-script word: quotes removed, ``$…`` kept as written."""
        if nodes[0].type == "heredoc_start":
            raw = self.text(nodes[0])
            unquoted = raw.replace("'", "").replace('"', "").replace("\\", "")
            return Token("word", unquoted, self.at(nodes[0].start_byte), self.at(nodes[0].end_byte), raw != unquoted)
        try:
            word = self.word(nodes)
        except ShellError:
            word = Word(
                self.script[self.at(nodes[0].start_byte) : self.at(nodes[-1].end_byte)],
                self.at(nodes[0].start_byte),
                self.at(nodes[-1].end_byte),
                (),
            )
            substitutes = "$(" in word.text or "`" in word.text
            return Token("word", word.text, word.start, word.end, False, "$" in word.text or "`" in word.text, substitutes)
        text = "".join(p.text for p in word.parts)
        quoted = any(p.quoted for p in word.parts)
        substitutes = any(p.kind == "sub" for p in word.parts)
        return Token("word", text, word.start, word.end, quoted, any(self._expands(n) for n in nodes), substitutes)

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


def tokens(script: str, external_heredocs: bool = False) -> tuple[list[Token], bool]:
    """The tokens of ``script`` read by tree-sitter-bash, and whether it is unfinished (a
    trailing operator, an unclosed quote or construct: tokens stop where tree-sitter's first
    error starts). ``external_heredocs``: here-document bodies are not in ``script`` (a
    Dockerfile heredoc's first line), so their absence is no error."""
    data = encode(script)
    tree = parse_tree(data)
    if external_heredocs:
        delimiters = _heredoc_delimiters(tree.root_node, data)
        if delimiters:
            suffix = ("\n" + "\n".join(delimiters) + "\n").encode("utf-8", "surrogatepass")
            tree = parse_tree(data + suffix)
    reader = _TokenReader(script, data)
    root = tree.root_node
    errors = error_nodes(root) if root.has_error else []
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
        if node.start_byte >= stop or node.end_byte > stop and (node.type in WORD_NODES or node.child_count == 0):
            break
        is_word = node.type in WORD_NODES or node.type in ("variable_assignment", "heredoc_start")
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
            raw = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
            out.append(raw.replace("'", "").replace('"', "").replace("\\", ""))
            continue
        stack.extend(reversed(node.children))
    return out
