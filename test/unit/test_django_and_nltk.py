from __future__ import annotations

from python_buildpack import django, nltk


def test_find_manage_py_prefers_the_shallowest(tmp_path):
    assert django.find_manage_py(tmp_path) is None
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c" / "manage.py").write_text("")  # three levels down: too deep
    assert django.find_manage_py(tmp_path) is None
    (tmp_path / "a" / "b" / "manage.py").write_text("")
    assert django.find_manage_py(tmp_path) == tmp_path / "a" / "b" / "manage.py"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "manage.py").write_text("")
    assert django.find_manage_py(tmp_path) == tmp_path / "src" / "manage.py"
    (tmp_path / "manage.py").write_text("")
    assert django.find_manage_py(tmp_path) == tmp_path / "manage.py"


def test_nltk_txt(tmp_path):
    path = tmp_path / "nltk.txt"
    path.write_text("# corpora\npunkt  stopwords\r\n\nwordnet # for lemmas\n")
    assert nltk.read_nltk_txt(path) == ["punkt", "stopwords", "wordnet"]
