"""The web process of an app without a Procfile, inferred from its source.

bin/release offers it as the default `web` process type (Heroku uses it,
herokuish and dokku write it into a Procfile) and the build log says what it
was inferred from. A rule applies only when its command can be shown to
work: the framework and its server are installed in the app's Python, and
the app object is found by reading the source with `ast`. The app's code is
never imported at build time: it could do anything there, and fail.

The rules, the first that applies wins:

1. Django: the settings module manage.py names belongs to a project with a
   wsgi.py, and gunicorn is installed: `gunicorn <project>.wsgi`.
2. The first of main.py and app.py that holds an app object decides: a
   FastAPI or Starlette app with uvicorn installed, `uvicorn main:app --host
   0.0.0.0 --port $PORT`; a Flask app with gunicorn installed, `gunicorn
   main:app`, or Flask's `create_app()`/`make_app()` factory, `gunicorn
   'main:create_app()'`.

Each rule takes the directory the app runs from (its module names are
relative to it) and the Python install, and every command is made by
server_command.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import threading
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

from . import app_files, errors
from .site_packages import has_module, installed_version, python_version

# A hand-written main.py or app.py is tens of kilobytes: anything larger
# is generated, and isn't parsed (bin/release must stay fast).
MAX_SOURCE_BYTES = 256 * 1024
# Python 3.10 (heroku-22's) turns a parse tree into `ast` objects by C
# recursion without a limit: a deeply nested expression (`f()()()...`,
# 100,000 deep, 200 KB) overflows the main thread's 8 MB stack and kills the
# process. There, parsing runs on a thread with a stack deep enough for any
# file of MAX_SOURCE_BYTES; Python 3.11 and later raise RecursionError.
_PARSE_STACK_BYTES = 64 * 1024 * 1024
# Where the app object is looked for, in this order.
APP_FILES = ("main.py", "app.py")
# The names servers and Flask's own `flask run` look for first.
CONVENTIONAL_NAMES = ("app", "application")
# Flask's factory names (flask.cli.find_best_app), called without arguments.
FACTORY_NAMES = ("create_app", "make_app")
# The one gunicorn release that couldn't call an app factory (gunicorn#2159).
GUNICORN_WITHOUT_FACTORIES = "20.0.0"

_SETTINGS_MODULE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([A-Za-z_][\w.]*)["']""")


@dataclass(frozen=True)
class InferredProcess:
    command: str
    reason: str  # what it was inferred from, for the build log


@dataclass(frozen=True)
class Inference:
    process: Optional[InferredProcess] = None
    # Why a rule that nearly applied didn't (for the log's Procfile notice).
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Framework:
    name: str
    package: str  # the top-level package that must be installed
    classes: frozenset[str]  # the app class, as the app may import it
    server: str


FRAMEWORKS = (
    Framework("FastAPI", "fastapi", frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI"}), "uvicorn"),
    Framework("Starlette", "starlette", frozenset({"starlette.applications.Starlette"}), "uvicorn"),
    Framework("Flask", "flask", frozenset({"flask.Flask", "flask.app.Flask"}), "gunicorn"),
)
FLASK = FRAMEWORKS[2]


@dataclass(frozen=True)
class AppObject:
    """A module-level app object, or a factory that returns one."""

    name: str
    framework: Framework
    factory: bool = False

    @property
    def described(self) -> str:
        if self.factory:
            return f"the {self.framework.name} app factory {self.name}()"
        return f"the {self.framework.name} app '{self.name}'"


def infer(app_dir: Path, python_dir: Path) -> Inference:
    """The web process of the app in `app_dir`, whose Python is `python_dir`."""
    django_process = django(app_dir, python_dir)
    if django_process:
        return Inference(django_process)
    return app_object(app_dir, python_dir)


def server_command(server: str, target: str) -> str:
    """The command serving `target` (`module:object`, or a module for
    gunicorn's default `application`) from the app's directory."""
    if server == "uvicorn":
        # uvicorn listens on 127.0.0.1:8000 unless told; like gunicorn it
        # reads WEB_CONCURRENCY and FORWARDED_ALLOW_IPS (set in .profile.d).
        return f"uvicorn {target} --host 0.0.0.0 --port $PORT"
    # gunicorn binds 0.0.0.0:$PORT by itself when PORT is set.
    return f"gunicorn {target}"


def django(app_dir: Path, python_dir: Path) -> Optional[InferredProcess]:
    """`gunicorn <project>.wsgi` for a Django project that can run it."""
    manage_py = app_dir / "manage.py"
    if not manage_py.is_file():
        return None
    if not has_module(python_dir, "gunicorn"):
        return None
    match = _SETTINGS_MODULE.search(_text(manage_py))
    if not match:
        return None
    parts = match.group(1).split(".")[:-1]
    while parts:
        wsgi = app_dir.joinpath(*parts, "wsgi.py")
        if wsgi.is_file() and "application" in _text(wsgi):
            module = ".".join(parts)
            return InferredProcess(server_command("gunicorn", f"{module}.wsgi"),
                                   f"the Django project's {'/'.join(parts)}/wsgi.py, with gunicorn installed")
        parts.pop()
    return None


def _text(path: Path) -> str:
    """The file's text; empty if it can't be read (then there's no default
    process, and the build log says a Procfile is needed)."""
    try:
        return app_files.read_bytes(path).decode("utf-8", errors="replace")
    except (OSError, app_files.NotUsable):
        return ""


def app_object(app_dir: Path, python_dir: Path) -> Inference:
    """The FastAPI, Starlette or Flask app in the first of APP_FILES that
    holds one, if its framework and server are installed."""
    for file_name in APP_FILES:
        module = file_name[:-len(".py")]
        if _package_beside(app_dir, module):
            continue
        found = find_app_objects(app_dir / file_name, python_version(python_dir))
        chosen = choose(found)
        if chosen is None:
            if len(found) > 1:
                return Inference(hints=(errors.several_apps_hint(file_name, sorted(o.name for o in found)),))
            continue
        missing = [package for package in (chosen.framework.package, chosen.framework.server)
                   if not has_module(python_dir, package)]
        if missing:
            return Inference(hints=(errors.web_server_missing_hint(file_name, chosen.described, missing),))
        if chosen.factory and installed_version(python_dir, "gunicorn") in (None, GUNICORN_WITHOUT_FACTORIES):
            return Inference()
        target = f"'{module}:{chosen.name}()'" if chosen.factory else f"{module}:{chosen.name}"
        reason = f"{chosen.described} in {file_name}, with {chosen.framework.server} installed"
        return Inference(InferredProcess(server_command(chosen.framework.server, target), reason))
    return Inference()


def _package_beside(app_dir: Path, module: str) -> bool:
    """Whether a package of that name is what `import module` finds (or
    might be: a directory the build can't read)."""
    try:
        return (app_dir / module / "__init__.py").is_file()
    except OSError:
        return True


def choose(found: list[AppObject]) -> Optional[AppObject]:
    """The app object a server should serve, as Flask's `flask run` chooses:
    one named `app` or `application`, else the only one, else a factory.
    Several others: None, as no choice can be shown to be the right one."""
    instances = [o for o in found if not o.factory]
    named = {o.name: o for o in found}
    for name in CONVENTIONAL_NAMES:
        if name in named:
            return named[name]
    if instances:
        return instances[0] if len(instances) == 1 else None
    return next((named[name] for name in FACTORY_NAMES if name in named), None)


# What a module-level name is bound to: an imported module or name (dotted,
# as imported), an app object, or anything else (None).
Binding = Union[str, AppObject, None]


def find_app_objects(path: Path, app_python: Optional[tuple[int, int]] = None) -> list[AppObject]:
    """The app objects bound at module level when `path` is imported (its
    last binding of each name counts), read from the source."""
    try:
        source = app_files.read_bytes(path, MAX_SOURCE_BYTES)
    except (OSError, app_files.NotUsable):
        return []
    scope: dict[str, Binding] = {}
    try:
        for statement in _run_on_import(parse(source, app_python)):
            _bind(statement, scope)
    except RecursionError:  # `app = a.b.c...` thousands deep
        return []
    return [binding for binding in scope.values() if isinstance(binding, AppObject)]


def parse(source: bytes, app_python: Optional[tuple[int, int]] = None) -> list[ast.stmt]:
    """The module's statements; none if it isn't Python. When the app's
    Python is newer than the buildpack's, syntax this one can't read (3.12's
    f-strings on heroku-22's 3.10) loses only the statements that hold it."""
    try:
        return _ast_parse(source).body
    except SyntaxError:
        if app_python is None or app_python <= sys.version_info[:2]:
            return []  # a real syntax error: the app wouldn't start
        return _parse_each_statement(source)
    except (ValueError, LookupError, RecursionError, MemoryError):  # null bytes, encodings, nesting
        return []


# Keywords that go on with the compound statement before them.
_CLAUSES = ("elif", "else", "except", "finally")


def _parse_each_statement(source: bytes) -> list[ast.stmt]:
    """The module's top-level statements that parse, each parsed alone."""
    try:
        tokens = list(tokenize.tokenize(io.BytesIO(source).readline))
        lines = source.decode(tokens[0].string).split("\n")  # as tokenize counts lines
    except (SyntaxError, tokenize.TokenError, ValueError, LookupError):
        return []
    starts: list[int] = []
    depth, new_statement = 0, True
    for token in tokens:
        if token.type == tokenize.INDENT:
            depth += 1
        elif token.type == tokenize.DEDENT:
            depth -= 1
        elif token.type == tokenize.NEWLINE:
            new_statement = True
        elif token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING, tokenize.ENDMARKER):
            if new_statement and depth == 0 and token.string not in _CLAUSES:
                starts.append(token.start[0] - 1)
            new_statement = False
    body: list[ast.stmt] = []
    for start, end in zip(starts, starts[1:] + [len(lines)]):
        try:
            body += _ast_parse("\n".join(lines[start:end])).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return body


def _ast_parse(source: Union[bytes, str]) -> ast.Module:
    """ast.parse, on a thread with a deep stack where Python needs it."""
    if sys.version_info >= (3, 11):
        return ast.parse(source)
    outcome: list[Union[ast.Module, BaseException]] = []

    def run() -> None:
        try:
            outcome.append(ast.parse(source))
        except BaseException as error:  # raised again in the caller's thread
            outcome.append(error)

    previous = threading.stack_size(_PARSE_STACK_BYTES)
    try:
        thread = threading.Thread(target=run, name="parse")
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


_TRY = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))  # TryStar: 3.11


def _run_on_import(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements a server's import of the module runs, in order: into
    if/else and try blocks, but not `if __name__ == "__main__":`."""
    for statement in body:
        if isinstance(statement, ast.If):
            if not _is_main_guard(statement.test):
                yield from _run_on_import(statement.body)
            yield from _run_on_import(statement.orelse)
        elif isinstance(statement, _TRY):
            for block in (statement.body, *(h.body for h in statement.handlers), statement.orelse,
                          statement.finalbody):
                yield from _run_on_import(block)
        else:
            yield statement


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = (test.left, test.comparators[0])
    return (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


def _bind(statement: ast.stmt, scope: dict[str, Binding]) -> None:
    """Record the names `statement` binds at module level."""
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            top = alias.name.split(".")[0]
            scope[alias.asname or top] = alias.name if alias.asname else top
    elif isinstance(statement, ast.ImportFrom):
        for alias in statement.names:
            if alias.name == "*":
                # The framework's own names: its class among them.
                for name, imported in _star_import(statement.module if statement.level == 0 else None):
                    scope[name] = imported
            else:
                imported = f"{statement.module}.{alias.name}" if statement.level == 0 else None
                scope[alias.asname or alias.name] = imported
    elif isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        framework = _constructed(statement.value, scope)
        for target in targets:
            if isinstance(target, ast.Name) and framework:
                scope[target.id] = AppObject(target.id, framework)
            else:
                _unbind(target, scope)
    elif isinstance(statement, ast.FunctionDef):
        factory = _is_factory(statement, scope)
        scope[statement.name] = AppObject(statement.name, FLASK, factory=True) if factory else None
    elif isinstance(statement, (ast.AsyncFunctionDef, ast.ClassDef)):
        scope[statement.name] = None
    else:
        _unbind(statement, scope)


def _unbind(node: ast.AST, scope: dict[str, Binding]) -> None:
    """Whatever names `node` assigns or deletes are no longer what they were."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
            scope[child.id] = None


def _star_import(module: Optional[str]) -> list[tuple[str, str]]:
    return [(name.rsplit(".", 1)[1], name) for framework in FRAMEWORKS for name in framework.classes
            if module and name.rsplit(".", 1)[0] == module]


def _constructed(value: ast.expr, scope: dict[str, Binding]) -> Optional[Framework]:
    """The framework whose app class `value` calls, if it does."""
    if not isinstance(value, ast.Call):
        return None
    called = _dotted(value.func, scope)
    return next((framework for framework in FRAMEWORKS if called in framework.classes), None)


def _dotted(node: ast.expr, scope: dict[str, Binding]) -> Optional[str]:
    """The imported name `node` refers to (`flask.Flask`), if it is one."""
    if isinstance(node, ast.Name):
        bound = scope.get(node.id)
        return bound if isinstance(bound, str) else None
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, scope)
        return f"{base}.{node.attr}" if base else None
    return None


def _is_factory(function: ast.FunctionDef, scope: dict[str, Binding]) -> bool:
    """A Flask app factory gunicorn can call: named as Flask looks for one,
    with no required arguments, making a Flask app (whose class may also
    be imported in the function)."""
    if function.name not in FACTORY_NAMES:
        return False
    arguments = function.args
    if len(arguments.posonlyargs) + len(arguments.args) > len(arguments.defaults) or None in arguments.kw_defaults:
        return False
    local = dict(scope)
    for node in ast.walk(function):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            _bind(node, local)
    return any(_constructed(node, local) is FLASK for node in ast.walk(function) if isinstance(node, ast.Call))
