"""The English corpora the tiny GPT (core/gpt.py) trains on, extracted reproducibly.

    python -m scripts.build_gpt_corpus kjv      # print size and a sample of the cleaned text

- "kjv" (`--source full`): the King James Version of the Bible (1611, public domain; in the
  United Kingdom the Crown's letters patent apply), from Debian's `bible-kjv-text` package
  (4.38 on Debian 12/13). Its data file is in a compressed format of its own, so the text is
  read through the package's `bible` program (`bible-kjv`, installed by `make data`):
  `bible -l 100000 -m 8192 Gen1:1-Rev22:21` prints every chapter as a heading line
  ("Genesis 1") and one numbered line per verse. We keep the headings, drop the verse numbers
  and write one verse per line: about 4.2 MB, 1,189 chapters, 31,102 verses.
- "python-docs" (`--source subset`, CI smoke tests): the topics of Python's built-in help()
  (`pydoc_data.topics`, PSF licence, about 460 kB), which every Python installation carries.

Each corpus is a list of documents (chapters, help topics). The split is fixed and interleaved:
every 20th document (index % 20 == 19) is validation, the rest training (95/5), so both halves
cover every part of the text.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from dataclasses import dataclass

VALIDATION_EVERY = 20  # document i is validation when i % 20 == 19
BIBLE_RANGE = "Gen1:1-Rev22:21"
KJV_PACKAGES = "bible-kjv (program) + bible-kjv-text (data)"
_VERSE = re.compile(r"^\s+\d+\s+(.*)$")


@dataclass(frozen=True)
class Corpus:
    key: str
    title: str
    source: str  # where the text comes from, with version and licence: goes into the card
    train: str
    validation: str
    n_documents: int

    @property
    def n_bytes(self) -> int:
        return len(self.train.encode("utf-8")) + len(self.validation.encode("utf-8"))


def _debian_version(package: str) -> str:
    if not shutil.which("dpkg-query"):
        return "unknown version"
    done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return done.stdout.strip() or "unknown version"


def parse_bible_output(raw: str) -> list[str]:
    """Chapters from `bible` output: 'Genesis 1' + one verse per line, verse numbers dropped.

    Lines that are neither a heading nor a numbered verse continue the previous verse (the
    program wraps long verses when it is given a narrow line width).
    """
    chapters: list[list[str]] = []
    previous_blank = True
    for line in raw.splitlines():
        if not line.strip():
            previous_blank = True
            continue
        verse = _VERSE.match(line)
        if verse:
            chapters[-1].append(verse.group(1).strip())
        elif previous_blank and not line.startswith(" "):
            chapters.append([line.strip()])  # a chapter heading such as "Song of Solomon 2"
        else:
            chapters[-1][-1] += " " + line.strip()
        previous_blank = False
    return [chapter[0] + "\n\n" + "\n".join(chapter[1:]) for chapter in chapters]


def kjv_chapters() -> list[str]:
    """The 1,189 chapters of the King James Version, read through Debian's `bible` program."""
    program = shutil.which("bible")
    if program is None:
        raise FileNotFoundError(
            "The KJV corpus needs Debian's bible-kjv package: run `make data` "
            "(or `apt-get install bible-kjv`), or train with --source subset."
        )
    done = subprocess.run(
        [program, "-l", "100000", "-m", "8192", BIBLE_RANGE], capture_output=True, text=True, check=True
    )
    chapters = parse_bible_output(done.stdout)
    if len(chapters) != 1189:
        raise RuntimeError(f"expected 1,189 chapters from `bible`, got {len(chapters)}")
    return chapters


def python_docs_documents() -> list[str]:
    from pydoc_data.topics import topics

    return [topics[name].strip() for name in sorted(topics)]


def split(documents: list[str]) -> tuple[str, str]:
    """The fixed interleaved 95/5 split: (training text, validation text)."""
    train = [d for i, d in enumerate(documents) if i % VALIDATION_EVERY != VALIDATION_EVERY - 1]
    validation = [d for i, d in enumerate(documents) if i % VALIDATION_EVERY == VALIDATION_EVERY - 1]
    return "\n\n".join(train) + "\n", "\n\n".join(validation) + "\n"


def load_corpus(key: str) -> Corpus:
    if key == "kjv":
        documents = kjv_chapters()
        source = (
            f"King James Version of the Bible (1611, public domain; Crown patent in the UK), Debian "
            f"bible-kjv-text {_debian_version('bible-kjv-text')} read with `bible {BIBLE_RANGE}` "
            f"(bible-kjv {_debian_version('bible-kjv')}, GPL-2+), verse numbers dropped"
        )
        title = "King James Bible"
    elif key == "python-docs":
        documents = python_docs_documents()
        source = "Python's built-in help topics (pydoc_data.topics, PSF licence)"
        title = "Python help topics"
    else:
        raise KeyError(f"unknown corpus {key!r}: use 'kjv' or 'python-docs'")
    train, validation = split(documents)
    return Corpus(key, title, source, train, validation, len(documents))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", choices=["kjv", "python-docs"])
    args = parser.parse_args(argv)
    corpus = load_corpus(args.corpus)
    print(corpus.source)
    print(
        f"{corpus.n_documents:,} documents, {corpus.n_bytes / 1e6:.2f} MB "
        f"(train {len(corpus.train):,} chars, validation {len(corpus.validation):,} chars)"
    )
    print(corpus.train[:400])


if __name__ == "__main__":
    main()
