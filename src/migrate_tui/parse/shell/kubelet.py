"""The kubelet's ``$(VAR)`` expansion of a container's ``command`` and ``args``."""

from __future__ import annotations

from collections.abc import Iterable


def as_words(words: object, variables: dict[str, str]) -> list[str]:
    """Coerce YAML values to strings and apply the kubelet's ``$(VAR)`` expansion."""
    if words is None:
        return []
    if isinstance(words, (str, bytes, int, float)) or not isinstance(words, Iterable):
        words = [words]
    return [expand_kubernetes("" if w is None else str(w), variables) for w in words]


def expand_kubernetes(word: str, env: dict[str, str]) -> str:
    """``$(NAME)`` -> env value when defined, ``$$`` -> ``$``; anything else is kept."""
    if "$" not in word:
        return word
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        if word[i] == "$" and i + 1 < n:
            if word[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            close = word.find(")", i + 2) if word[i + 1] == "(" else -1
            if close > 0:
                name = word[i + 2 : close]
                out.append(env[name] if name in env else word[i : close + 1])
                i = close + 1
                continue
        out.append(word[i])
        i += 1
    return "".join(out)
