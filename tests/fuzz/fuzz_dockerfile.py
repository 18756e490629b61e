"""atheris target: the Dockerfile front end never raises, whatever the bytes.

python tests/fuzz/fuzz_dockerfile.py -max_total_time=30 CORPUS_DIR tests/bad_inputs
"""

import sys

import atheris

with atheris.instrument_imports():
    from migrate_tui.repo.sources import decode
    from migrate_tui.parse.dockerfile.parser import parse_dockerfile


def test_one_input(data: bytes) -> None:
    decoded = decode("Dockerfile", data)
    if isinstance(decoded, tuple):
        parsed = parse_dockerfile(decoded[0])
        for line, message in parsed.errors:
            assert isinstance(line, int) and line >= 1 and "\n" not in message, (line, message)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
