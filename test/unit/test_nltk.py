from __future__ import annotations

from python_buildpack import nltk


def test_nltk_txt(tmp_path):
    path = tmp_path / "nltk.txt"
    path.write_text("# corpora\npunkt  stopwords\r\n\nwordnet # for lemmas\n")
    assert nltk.read_nltk_txt(path) == ["punkt", "stopwords", "wordnet"]
