from __future__ import annotations

import sys
import time

import pytest

from python_buildpack import web_process
from python_buildpack.web_process import InferredProcess

UVICORN = "uvicorn {} --host 0.0.0.0 --port $PORT"
FASTAPI = "from fastapi import FastAPI\n\napp = FastAPI()\n"
FLASK = "from flask import Flask\n\napp = Flask(__name__)\n"
FACTORY = "from flask import Flask\n\n\ndef create_app(config=None):\n    app = Flask(__name__)\n    return app\n"
MANAGE_PY = 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\n'


def install(app_dir, *packages, python="3.13", gunicorn_version="23.0.0"):
    """The app's Python at app_dir/.heroku/python, with these packages."""
    site = app_dir / f".heroku/python/lib/python{python}/site-packages"
    site.mkdir(parents=True, exist_ok=True)
    for package in packages:
        (site / package).mkdir(exist_ok=True)
        (site / package / "__init__.py").write_text("")
    if "gunicorn" in packages:
        (site / f"gunicorn-{gunicorn_version}.dist-info").mkdir(exist_ok=True)
    return app_dir / ".heroku/python"


def infer(app_dir, files, *packages, **python):
    for name, content in files.items():
        path = app_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return web_process.infer(app_dir, install(app_dir, *packages, **python))


def command(app_dir, files, *packages, **python):
    inference = infer(app_dir, files, *packages, **python)
    return inference.process.command if inference.process else None


ASGI = ("fastapi", "starlette", "uvicorn")
WSGI = ("flask", "gunicorn")


def test_fastapi_app_in_main_py(tmp_path):
    inference = infer(tmp_path, {"main.py": FASTAPI}, *ASGI)
    assert inference.process == InferredProcess(UVICORN.format("main:app"),
                                                "the FastAPI app 'app' in main.py, with uvicorn installed")


def test_flask_app_in_app_py(tmp_path):
    inference = infer(tmp_path, {"app.py": FLASK}, *WSGI)
    assert inference.process == InferredProcess("gunicorn app:app",
                                                "the Flask app 'app' in app.py, with gunicorn installed")


@pytest.mark.parametrize("source, target", [
    ("from starlette.applications import Starlette\napp = Starlette(routes=[])\n", "main:app"),
    ("import starlette.applications\napp = starlette.applications.Starlette()\n", "main:app"),
    ("from starlette.applications import Starlette as S\nweb = S()\n", "main:web"),
    ("import fastapi\napp = fastapi.FastAPI(title='x')\n", "main:app"),
    ("import fastapi as fa\napi = fa.FastAPI()\n", "main:api"),
    ("from fastapi import FastAPI as F\napplication: F = F()\n", "main:application"),
    ("import fastapi.applications as apps\napp = apps.FastAPI()\n", "main:app"),
    ("from fastapi.applications import FastAPI\napp = FastAPI()\n", "main:app"),
    ("from fastapi import *\napp = FastAPI()\n", "main:app"),
    ("from fastapi import FastAPI\napp = application = FastAPI()\n", "main:app"),
    ("try:\n    from fastapi import FastAPI\nexcept ImportError:\n    raise\nelse:\n    app = FastAPI()\n", "main:app"),
    ("from fastapi import FastAPI\nif __name__ != '__main__':\n    app = FastAPI()\n", "main:app"),
    ("from fastapi import FastAPI\nif __name__ == '__main__':\n    pass\nelse:\n    app = FastAPI()\n", "main:app"),
    # The conventional names first, whatever the order.
    ("from fastapi import FastAPI\nadmin = FastAPI()\napp = FastAPI()\napp.mount('/admin', admin)\n", "main:app"),
    ("from fastapi import FastAPI\nadmin = FastAPI()\napplication = FastAPI()\n", "main:application"),
    ("from fastapi import FastAPI\nfrom flask import Flask\nlegacy = Flask(__name__)\napp = FastAPI()\n",
     "main:app"),
])
def test_asgi_app_objects(tmp_path, source, target):
    assert command(tmp_path, {"main.py": source}, *ASGI, "flask") == UVICORN.format(target)


@pytest.mark.parametrize("source", [
    "app = FastAPI()\n",  # not imported
    "from fastapi import FastAPI\n",  # no app
    "from mylib import FastAPI\napp = FastAPI()\n",  # another FastAPI
    "from .fastapi import FastAPI\napp = FastAPI()\n",  # a relative import
    "import fastapi\napp = fastapi.applications.Starlette()\n",  # no such class
    "from fastapi import FastAPI\nFastAPI = dict\napp = FastAPI()\n",  # rebound before use
    "from fastapi import FastAPI\nif __name__ == '__main__':\n    app = FastAPI()\n",
    "from fastapi import FastAPI\ndef build():\n    app = FastAPI()\n    return app\n",  # a function's local
    "from fastapi import FastAPI\nclass Web:\n    app = FastAPI()\n",
    "from fastapi import FastAPI\napp = FastAPI()\napp = wrap(app)\n",  # the last binding counts
    "from fastapi import FastAPI\napp = FastAPI()\ndel app\n",
    "from fastapi import FastAPI\napp = FastAPI()\nfor app in range(3):\n    pass\n",
    "from fastapi import FastAPI\napp: FastAPI\n",
    "from fastapi import FastAPI\napp, other = FastAPI(), 1\n",
    "from fastapi import FastAPI\napp = FastAPI\n",  # the class, not an app
    "from fastapi import FastAPI\napp = FastAPI(\n",  # a syntax error
    "import fastapi\n\x00app = fastapi.FastAPI()\n",  # null bytes
    "# -*- coding: klingon -*-\nimport fastapi\napp = fastapi.FastAPI()\n",
    "from fastapi import FastAPI\napp = " + "(" * 300 + "FastAPI()" + ")" * 300 + "\n",
])
def test_no_app_object(tmp_path, source):
    assert infer(tmp_path, {"main.py": source}, *ASGI) == web_process.Inference()


def test_binary_files_and_directories(tmp_path):
    assert command(tmp_path, {"main.py": b"\x89PNG\r\n\x1a\n\xff\xfe\x00app = FastAPI()"}, *ASGI) is None
    (tmp_path / "main.py").unlink()
    (tmp_path / "main.py").mkdir()
    assert command(tmp_path, {"app.py": FLASK}, *WSGI) == "gunicorn app:app"  # main.py isn't a file


def test_unreadable_files(tmp_path, monkeypatch):
    from python_buildpack import app_files

    def refuse(path, limit=None):
        raise PermissionError(13, "Permission denied")

    (tmp_path / "app.py").write_text(FLASK)
    monkeypatch.setattr(app_files, "read_bytes", refuse)
    assert web_process.find_app_objects(tmp_path / "app.py") == []


def test_a_fifo_doesnt_block(tmp_path):
    import os

    os.mkfifo(tmp_path / "main.py")
    started = time.monotonic()
    assert command(tmp_path, {"app.py": FLASK}, *WSGI) == "gunicorn app:app"
    assert time.monotonic() - started < 5


def test_huge_files_are_not_read(tmp_path):
    huge = FASTAPI + "#" * web_process.MAX_SOURCE_BYTES
    assert command(tmp_path, {"main.py": huge}, *ASGI) is None


@pytest.mark.parametrize("expression", ["f" + "()" * 120_000, "a" + ".x()" * 60_000, "1" + "+1" * 120_000,
                                        "a" + ".x" * 120_000 + "()"],
                         ids=["calls", "method-calls", "sums", "attributes"])
def test_deeply_nested_expressions(tmp_path, expression):
    """Python 3.10's ast module crashes the process on these, in the main
    thread; 3.11 and later raise RecursionError."""
    source = f"{FASTAPI}x = {expression}\n"
    assert len(source) < web_process.MAX_SOURCE_BYTES
    started = time.monotonic()
    assert command(tmp_path, {"main.py": source}, *ASGI) in (UVICORN.format("main:app"), None)
    assert command(tmp_path, {"main.py": f"import fastapi\napp = {expression}\n"}, *ASGI) is None
    assert time.monotonic() - started < 10


def test_non_utf8_source_with_a_coding_line(tmp_path):
    source = "# -*- coding: latin-1 -*-\nfrom flask import Flask\napp = Flask('caf\xe9')\n".encode("latin-1")
    assert command(tmp_path, {"app.py": source}, *WSGI) == "gunicorn app:app"
    assert command(tmp_path, {"app.py": b"\xef\xbb\xbf" + FLASK.encode()}, *WSGI) == "gunicorn app:app"  # BOM


def test_invalid_utf8(tmp_path):
    assert command(tmp_path, {"app.py": FLASK.encode() + b"name = '\xff\xfe'\n"}, *WSGI) is None
    # As Python itself, which reads comments as bytes.
    assert command(tmp_path, {"app.py": FLASK.encode() + b"# \xff\xfe\n"}, *WSGI) == "gunicorn app:app"


def test_main_py_comes_before_app_py(tmp_path):
    assert command(tmp_path, {"main.py": FASTAPI, "app.py": FLASK}, *ASGI, *WSGI) == UVICORN.format("main:app")


def test_app_py_when_main_py_has_no_app(tmp_path):
    files = {"main.py": "import sys\nprint(sys.argv)\n", "app.py": FLASK}
    assert command(tmp_path, files, *WSGI) == "gunicorn app:app"


def test_a_package_of_the_same_name_shadows_the_file(tmp_path):
    files = {"app.py": FLASK, "app/__init__.py": ""}
    assert command(tmp_path, files, *WSGI) is None
    (tmp_path / "app/__init__.py").unlink()  # a namespace package doesn't shadow app.py
    assert command(tmp_path, {}, *WSGI) == "gunicorn app:app"


@pytest.mark.parametrize("installed, missing", [
    (("fastapi", "starlette"), "uvicorn is not installed"),
    (("uvicorn",), "fastapi is not installed"),
    ((), "fastapi and uvicorn are not installed"),
])
def test_framework_or_server_missing(tmp_path, installed, missing):
    inference = infer(tmp_path, {"main.py": FASTAPI, "app.py": FLASK}, *installed, "flask", "gunicorn")
    assert inference.process is None  # main.py decides, though app.py could be served
    assert inference.hints == (f"main.py has the FastAPI app 'app', but {missing}:\n"
                               f"add {'it' if ' is ' in missing else 'them'} to the app's dependencies "
                               "to have it served.",)


def test_flask_needs_gunicorn(tmp_path):
    inference = infer(tmp_path, {"app.py": FLASK}, "flask", "uvicorn")
    assert inference.process is None and "gunicorn is not installed" in inference.hints[0]


def test_several_unconventional_app_objects(tmp_path):
    source = "from fastapi import FastAPI\nimport flask\napi = FastAPI()\nadmin = flask.Flask(__name__)\n"
    inference = infer(tmp_path, {"main.py": source, "app.py": FLASK}, *ASGI, *WSGI)
    assert inference.process is None
    assert inference.hints == ("main.py has several app objects ('admin', 'api'), none named 'app':\n"
                               "name the one to serve 'app', or say which in the Procfile.",)


def test_flask_factory(tmp_path):
    inference = infer(tmp_path, {"app.py": FACTORY}, *WSGI)
    assert inference.process == InferredProcess(
        "gunicorn 'app:create_app()'", "the Flask app factory create_app() in app.py, with gunicorn installed")


@pytest.mark.parametrize("source, expected", [
    ("import flask\ndef make_app():\n    return flask.Flask(__name__)\n", "gunicorn 'app:make_app()'"),
    ("def create_app():\n    from flask import Flask\n    return Flask(__name__)\n", "gunicorn 'app:create_app()'"),
    ("from flask import Flask\ndef create_app(*, debug=False, **settings):\n    return Flask(__name__)\n",
     "gunicorn 'app:create_app()'"),
    (FACTORY + "app = Flask(__name__)\n", "gunicorn app:app"),  # an app object wins
    (FACTORY + "def make_app():\n    return Flask(__name__)\n", "gunicorn 'app:create_app()'"),
    (FACTORY.replace("config=None", "config"), None),  # a required argument
    (FACTORY.replace("(config=None)", "(*, config)"), None),
    ("from fastapi import FastAPI\ndef create_app():\n    return FastAPI()\n", None),  # Flask's only
    ("from flask import Flask\nasync def create_app():\n    return Flask(__name__)\n", None),
    ("from flask import Flask\ndef create_app():\n    return make()\n", None),  # no Flask app made there
    ("def create_app():\n    return Flask(__name__)\n", None),  # Flask isn't imported
    (FACTORY + "create_app = None\n", None),
    (FACTORY.replace("def create_app", "def build_app"), None),
])
def test_flask_factories(tmp_path, source, expected):
    assert command(tmp_path, {"app.py": source}, *WSGI) == expected


def test_factory_needs_a_gunicorn_that_calls_it(tmp_path):
    assert command(tmp_path, {"app.py": FACTORY}, *WSGI, gunicorn_version="20.0.0") is None
    assert command(tmp_path / "x", {"app.py": FACTORY}, *WSGI, gunicorn_version="20.0.4") == \
        "gunicorn 'app:create_app()'"


# Python 3.12's f-strings (PEP 701) and 3.12's type statement: heroku-22's
# Python 3.10 and 3.11 can't parse them.
NEWER_SYNTAX = 'from fastapi import FastAPI\n\ntitle = f"{ {"a": 1}["a"] }"\ntype Ids = list[int]\n\n' \
               'app = FastAPI(\n    title="x",\n)\n\n\n@app.get("/")\ndef index():\n    return f"{"hi"}"\n'


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python parses 3.12's syntax")
def test_syntax_newer_than_the_buildpacks_python(tmp_path):
    assert command(tmp_path, {"main.py": NEWER_SYNTAX}, *ASGI, python="3.12") == UVICORN.format("main:app")
    # The app's own Python couldn't parse it either: a real syntax error.
    assert command(tmp_path / "old", {"main.py": NEWER_SYNTAX}, *ASGI, python="3.10") is None


def test_statements_parsed_one_by_one():
    source = ("# comment\nimport fastapi\nif True:\n    x = (1,\n  2)\n    def f():\n        pass\n"
              "app = fastapi.FastAPI(\n    title='''a\nb''')\n@decorator\ndef g(): pass\nthis isn't python\n"
              "y = 1; z = 2\n")
    parsed = web_process._parse_each_statement(source.encode())
    assert [type(s).__name__ for s in parsed] == ["Import", "If", "Assign", "FunctionDef", "Assign", "Assign"]
    assert web_process._parse_each_statement(b"x = '''unterminated\n") == []
    source = "try:\n    import a\nexcept ImportError:\n    pass\nelse:\n    pass\nif a:\n    pass\nelif b:\n    pass\n"
    assert [type(s).__name__ for s in web_process._parse_each_statement(source.encode())] == ["Try", "If"]


@pytest.mark.parametrize("module, wsgi_dir, expected", [
    ("mysite.settings", "mysite", "gunicorn mysite.wsgi"),
    ("config.settings.production", "config", "gunicorn config.wsgi"),
    ("mysite.settings", "other", None),
])
def test_django(tmp_path, module, wsgi_dir, expected):
    files = {"manage.py": MANAGE_PY.replace("mysite.settings", module), f"{wsgi_dir}/wsgi.py": "application = 1\n"}
    inference = infer(tmp_path, files, "gunicorn", "django")
    assert (inference.process.command if inference.process else None) == expected


def test_django_comes_first(tmp_path):
    files = {"manage.py": MANAGE_PY, "mysite/wsgi.py": "application = 1\n", "app.py": FLASK}
    inference = infer(tmp_path, files, *WSGI, "django")
    assert inference.process == InferredProcess("gunicorn mysite.wsgi",
                                                "the Django project's mysite/wsgi.py, with gunicorn installed")


def test_django_needs_gunicorn(tmp_path):
    files = {"manage.py": MANAGE_PY, "mysite/wsgi.py": "application = 1\n"}
    assert infer(tmp_path, files, "django") == web_process.Inference()


def test_the_directories_are_parameters(tmp_path):
    """The app may run from a directory other than where its Python is."""
    app_dir = tmp_path / "web"
    app_dir.mkdir()
    (app_dir / "main.py").write_text(FASTAPI)
    python = install(tmp_path / "elsewhere", *ASGI)
    assert web_process.infer(app_dir, python).process.command == UVICORN.format("main:app")


def test_commands():
    assert web_process.server_command("uvicorn", "main:app") == UVICORN.format("main:app")
    assert web_process.server_command("gunicorn", "mysite.wsgi") == "gunicorn mysite.wsgi"
