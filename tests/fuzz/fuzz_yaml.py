"""atheris target: the YAML front ends (``load_documents`` for detection, ``rewrite_chunk`` for
fixes) give a document, a YamlError or a RewriteRefused, never another exception, and a rewrite
that succeeds loads back.

    python tests/fuzz/fuzz_yaml.py -max_total_time=30 CORPUS_DIR tests/bad_inputs
"""

import sys

import atheris

with atheris.instrument_imports():
    from migrate_tui.repo.sources import decode
    from migrate_tui.parse.yamldoc import YamlDocument, YamlError, load_documents, split_documents
    from migrate_tui.fixes.yaml_edit import RewriteRefused, rewrite_chunk


def _mutate(document) -> None:
    if hasattr(document, "insert") and hasattr(document, "keys"):
        document["fuzzed"] = "yes"
    elif isinstance(document, list):
        document.append("fuzzed")


def test_one_input(data: bytes) -> None:
    decoded = decode("f.yaml", data)
    if not isinstance(decoded, tuple):
        return
    text = decoded[0]
    loaded = list(load_documents(text))
    for item in loaded:
        assert isinstance(item, (YamlDocument, YamlError))
        if isinstance(item, YamlError):
            assert item.line >= 1 and "\n" not in item.message, (item.line, item.message)
    for chunk, item in zip(split_documents(text), loaded):
        if not isinstance(item, YamlDocument) or not isinstance(item.data, (dict, list)):
            continue
        try:
            new = rewrite_chunk(text, chunk, _mutate)
        except RewriteRefused:
            continue
        probe = list(load_documents(new))
        assert all(isinstance(p, YamlDocument) for p in probe), probe


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
