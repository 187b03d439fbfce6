"""Built-in texts for the tokenizer tab: a multilingual sample set and training corpora.

The samples are short texts written for this project (no licence encumbrance), one per kind of
text where tokenizers differ most: prose, code, other scripts, emoji, numbers. The training
corpus is Python's own documentation (`pydoc_data.topics`, PSF licence), which every Python
installation carries, so "train your own" works offline with no data package.
"""

from __future__ import annotations

SAMPLES: dict[str, str] = {
    "English prose": (
        "Tokenizers cut text into pieces a model can count. A frequent word such as 'the' is one "
        "token, while a rare word like 'antidisestablishmentarianism' is split into several "
        "familiar fragments. Whitespace, capitals and punctuation all change the split."
    ),
    "Python code": (
        "def fibonacci(n: int) -> list[int]:\n"
        '    """Return the first n Fibonacci numbers."""\n'
        "    numbers = [0, 1]\n"
        "    while len(numbers) < n:\n"
        "        numbers.append(numbers[-1] + numbers[-2])\n"
        "    return numbers[:n]\n"
    ),
    "German": (
        "Die Donaudampfschifffahrtsgesellschaft veröffentlichte gestern ihren Jahresbericht. "
        "Überraschenderweise stiegen die Fahrgastzahlen trotz schlechten Wetters um zwölf Prozent."
    ),
    "Chinese": "分词器把文本切成模型可以处理的小块。常见的词通常是一个词元，而少见的字可能被拆成几个字节。",
    "Japanese": "トークナイザーは文章を小さな単位に分けます。ひらがな、カタカナ、漢字が混ざると、分け方が大きく変わります。",
    "Arabic": "تقسم أداة الترميز النص إلى أجزاء صغيرة يستطيع النموذج معالجتها، وتختلف طريقة التقسيم من لغة إلى أخرى.",
    "Emoji": "Launch day 🚀🎉! The team 👩‍💻👨‍🔬 shipped it 💯 — thanks ❤️ 🇩🇪 🇯🇵 👍🏽",
    "Numbers": "In 2024 the price rose from 1,234.56 to 98765.4321 (+7.89%); call 555-0142 or pay 3.14159e-10 BTC.",
}

DEFAULT_SAMPLE = "English prose"


def python_docs_corpus() -> str:
    """About 460 kB of English technical prose: the topics of Python's built-in help()."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[name] for name in sorted(topics))


CORPORA = {
    "Python documentation (built-in help topics, ~460 kB)": python_docs_corpus,
    "The multilingual samples above": lambda: "\n\n".join(SAMPLES.values()),
}
