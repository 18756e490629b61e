"""Why tree-sitter-bash could not read a script, in the words a person would use: an unterminated
quote or substitution first (wherever it is), then the first error, with the line."""

from __future__ import annotations

from tree_sitter import Node

from migrate_tui.parse.shell.source import (
    MISPLACED_KEYWORDS,
    OPAQUE_KEYWORDS,
    ShellError,
    Source,
    control_error,
    error_nodes,
    first_leaf,
    syntax_error,
)

__all__ = ["Diagnoser"]


class Diagnoser(Source):
    def diagnose(self, root: Node) -> ShellError:
        """The first thing tree-sitter could not read, in the words a person would use: an
        unterminated quote or substitution first (wherever it is), then the first error."""
        errors = error_nodes(root)
        if not errors:  # pragma: no cover - has_error without an error node
            return syntax_error("the script does not parse")
        for node in errors:
            lexical = self._opening(node.parent) if node.is_missing else self._unterminated(node)
            if lexical is not None:
                return lexical
        for node in errors:
            parent = node.parent
            if parent is not None and parent.type == "command" and any(c.type == "subshell" for c in parent.children):
                return syntax_error("unexpected '('")  # `word (…)`: not a function definition, not a word
        node = errors[0]
        if node.is_missing:
            return self._missing(node)
        first = first_leaf(node)
        token = self.text(first).strip() if first is not None else ""
        if token in OPAQUE_KEYWORDS:
            return control_error(OPAQUE_KEYWORDS[token])
        if token == "(" and first is not None and first.next_sibling is not None and first.next_sibling.type == "(":
            return control_error("arithmetic (( … ))")
        if token == "(":
            return control_error("subshell ( … )")
        return self._unexpected(node)

    def _unterminated(self, node: Node) -> ShellError | None:
        text = self.text(node).lstrip()
        line = node.start_point.row + 1
        for prefix, what in (
            ("'", "unterminated single quote"),
            ('"', "unterminated double quote"),
            ("$'", "unterminated $' quote"),
            ("$(", "unterminated $("),
            ("${", "unterminated ${"),
            ("`", "unterminated backtick"),
        ):
            if text.startswith(prefix):
                return syntax_error(f"{what} (line {line})")
        return None

    def _missing(self, node: Node) -> ShellError:
        parent = node.parent
        opener = self._opening(parent) if parent is not None else None
        kind = node.type
        if kind in ("do", "done") and parent is not None:
            keyword = self._loop_keyword(parent)
            if keyword:
                return syntax_error(f"{keyword} loop without do" if kind == "do" else f"unclosed {keyword} loop")
        if opener is not None:
            return opener
        if kind == ";" and node.next_sibling is not None:  # two commands with no separator between them
            following = first_leaf(node.next_sibling)
            if following is not None:
                return syntax_error(f"unexpected '{self.text(following).strip()}'")
        if kind in ("word", "command_name") or parent is not None and parent.type == "command_name":
            return syntax_error("a command is missing after an operator")
        return syntax_error(f"missing '{kind}' (line {node.start_point.row + 1})")

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
            return syntax_error(f"unterminated double quote (line {line})")
        if node.type == "raw_string":
            return syntax_error(f"unterminated single quote (line {line})")
        if node.type == "command_substitution":
            if self.text(node).startswith("`"):
                return syntax_error(f"unterminated backtick (line {line})")
            return syntax_error(f"unterminated $( (line {line})")
        if node.type == "expansion":
            return syntax_error(f"unterminated ${{ (line {line})")
        if node.type == "ansi_c_string":
            return syntax_error(f"unterminated $' quote (line {line})")
        return None

    def _unexpected(self, node: Node) -> ShellError:
        text = self.text(node).lstrip()
        line = node.start_point.row + 1
        loop = self._loop_keyword(node)
        lexical = self._unterminated(node)
        if lexical is not None:
            return lexical
        first = first_leaf(node)
        token = self.text(first).strip() if first is not None else text.split(maxsplit=1)[0] if text else ""
        if loop and node.children and node.children[0].type in ("while", "until"):
            words = [self.text(c) for c in node.children]
            if "do" not in words:
                return syntax_error(f"{loop} loop without do")
            return syntax_error(f"unclosed {loop} loop")
        if token in ("<<", "<<-"):
            return syntax_error("here-document without a delimiter")
        if token in (">", ">>", "<", ">|", "&>", "&>>", "<>", ">&", "<&"):
            return syntax_error(f"{token} without a target")
        if token in ("&&", "||", "|", "|&", ";", ";;", "&", ")", "(") or token in MISPLACED_KEYWORDS or token in ("while", "until"):
            return syntax_error(f"unexpected '{token}'")
        return syntax_error(f"unexpected '{token}' (line {line})")
