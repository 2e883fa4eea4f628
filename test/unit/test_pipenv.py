"""Pipenv: its command lines, environment and errors; Pipfile.lock installed
by uv (pipenv_uv.py) or by Pipenv."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from python_buildpack import app_files, environment, pipenv, pipenv_uv
from python_buildpack.errors import BuildError
from python_buildpack.pipenv import Pipenv
from python_buildpack.pipenv_uv import LockInstall
from conftest import fake_install, make_context, recorded, uv_installed

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "pipenv_app"


@pytest.fixture
def context(context):
    """The shared context (a secret in each tool's index config vars), with
    PYTHON_INSTALLER=pip: Pipenv itself installs."""
    (context.build.dirs.env / "PYTHON_INSTALLER").write_text("pip")
    return context


def test_install_command_gets_the_index_config_vars(context, fp, capsys):
    calls = recorded(fp, stdout="installed\n")
    Pipenv().install_dependencies(context)
    ((args, env),) = calls
    assert args == ["pipenv", "install", "--deploy"]
    assert "pip-secret" in env["PIP_EXTRA_INDEX_URL"]
    assert "DATABASE_URL" not in env
    out = capsys.readouterr().out
    assert "pip-secret" not in out and "       installed" in out


def test_install_failure_with_an_outdated_lock(context, fp):
    recorded(fp, stdout="Your Pipfile.lock (abc) is out of\ndate. Expected: (def).\n", returncode=1)
    with pytest.raises(BuildError) as error:
        Pipenv().install_dependencies(context)
    assert error.value.id == "pipfile-lock::outdated"


def test_pipenv_environment_reaches_run_time(context):
    tool_env = Pipenv().environment(context)
    at_run_time = {variable.name for variable in tool_env if environment.RUNTIME in variable.how}
    assert at_run_time == {"PATH", "PIPENV_SYSTEM", "PIPENV_VERBOSITY", "VIRTUAL_ENV"}
    script = environment.profile_script(tool_env)
    assert 'export VIRTUAL_ENV="${HOME}/.heroku/python"' in script
    assert '*) export PATH="${HOME}/.heroku/python/pipenv/bin${PATH:+:${PATH}}" ;;' in script


def test_test_builds_install_the_dev_dependencies(context, fp):
    context.build = replace(context.build, install_test=True)
    calls = recorded(fp)
    Pipenv().install_dependencies(context)
    assert calls[0][0] == ["pipenv", "install", "--deploy", "--dev"]


def write_lock(tmp_path, meta=None, default=None):
    data = {"_meta": meta or {}, "default": default or {}}
    (tmp_path / "Pipfile.lock").write_text(json.dumps(data))


@pytest.mark.parametrize("requires, expected", [
    ({"python_version": "3.12"}, "3.12"),
    ({"python_full_version": "3.12.4", "python_version": "3.12"}, "3.12.4"),
    ({}, None),
])
def test_pipfile_lock_versions(tmp_path, requires, expected):
    write_lock(tmp_path, {"requires": requires})
    assert pipenv.python_version_from_lock(tmp_path) == expected


@pytest.mark.parametrize("content, error_id", [
    ("{ nope", "pipfile-lock::invalid-json"),
    (json.dumps({"_meta": {"requires": {"python_version": "^3.12"}}}), "pipfile-lock::invalid-version"),
    (json.dumps({"_meta": {"requires": {"python_version": 3.12}}}), "pipfile-lock::invalid-version"),
])
def test_pipfile_lock_errors(tmp_path, content, error_id):
    (tmp_path / "Pipfile.lock").write_text(content)
    with pytest.raises(BuildError) as error:
        pipenv.python_version_from_lock(tmp_path)
    assert error.value.id == error_id


@pytest.mark.parametrize("content, problem", [
    ("[]", "it has a list at the top"),
    ("null", "it has null at the top"),
    ('{"default": {}}', 'it has no "_meta" object'),
    ('{"_meta": []}', 'it has "_meta" as a list'),
    ('{"_meta": {"requires": "3.12"}}', 'it has "_meta.requires" as a string, not an object'),
    ('{"_meta": {"sources": {}}}', 'it has "_meta.sources" as an object, not a list'),
    ('{"_meta": {}, "default": []}', 'it has "default" as a list, not an object of packages'),
    ('{"_meta": {}, "develop": "x"}', 'it has "develop" as a string'),
    ('{"_meta": {}, "default": {"flask": "==3.1"}}', 'it has the package "flask" in "default" as a string'),
])
def test_pipfile_lock_of_the_wrong_shape(tmp_path, content, problem):
    # Valid JSON that isn't a lockfile: Pipenv would crash on it later.
    (tmp_path / "Pipfile.lock").write_text(content)
    for read in (pipenv.python_version_from_lock, lambda path: pipenv.Pipenv().dependencies(path)):
        with pytest.raises(BuildError) as error:
            read(tmp_path)
        assert error.value.id == "pipfile-lock::invalid-structure"
        assert problem in error.value.body and "pipenv lock" in error.value.body


def test_pipfile_lock_not_utf8_or_unreadable(tmp_path, monkeypatch):
    (tmp_path / "Pipfile.lock").write_bytes(b'{"_meta": {}, "default": {"caf\xe9": {}}}')
    with pytest.raises(BuildError) as error:
        pipenv.Pipenv().dependencies(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::not-utf8", "Pipfile.lock")
    assert "byte offset 30 (line 1)" in error.value.body and "Save it as UTF-8" in error.value.body

    def refuse(path, limit=0):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(app_files, "read_bytes", refuse)
    with pytest.raises(BuildError) as error:
        pipenv.python_version_from_lock(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::unreadable", "Pipfile.lock")
    assert "Permission denied" in error.value.body and "chmod 644 Pipfile.lock" in error.value.body


def test_pipenv_dependencies(tmp_path):
    write_lock(tmp_path, default={"flask": {"version": "==3.1.3"}})
    plain = pipenv.Pipenv().dependencies(tmp_path)
    assert plain.reinstall_reason is None
    write_lock(tmp_path, default={"mypkg": {"path": ".", "editable": True}})
    local = pipenv.Pipenv().dependencies(tmp_path)
    assert "mypkg" in local.reinstall_reason and local.fingerprint != plain.fingerprint


# --- Pipfile.lock installed by uv ------------------------------------------------

# Pipenv 2026.10.3's own hash (Project().pipfile.calculate_hash(), no pip
# configuration) of a Pipfile with no [[source]], names to normalize, a custom
# category, [scripts] and [pipenv].
PIPFILE = """\
[packages]
Flask = "==3.1.3"
"zope.interface" = {version = "*", markers = "sys_platform == 'linux'"}
Requests = {extras = ["socks"], version = ">=2"}

[dev-packages]
PyTest = "*"

[docs]
Sphinx_RTD = "*"

[requires]
python_version = "3.12"

[scripts]
start = "python app.py"

[pipenv]
allow_prereleases = false
"""
PIPFILE_HASH = "19d98b6c3ace95d4bd283dc5502869a24494d6c471de56ae45cef51bcf19d78e"
HASH_A, HASH_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def lock_app(tmp_path, environ=None, env_dir=None, install_test=False):
    """The context of a build of the pipenv_app fixture (its real Pipfile and lockfile)."""
    context = make_context(tmp_path, fake_install(tmp_path), environ=environ, env_dir=env_dir,
                           install_test=install_test)
    for name in ("Pipfile", "Pipfile.lock"):
        shutil.copy(FIXTURE / name, context.build_dir / name)
    return context


def edit_lock(context, change):
    path = context.build_dir / "Pipfile.lock"
    lock = json.loads(path.read_text())
    change(lock)
    path.write_text(json.dumps(lock))


def plan_of(context):
    return pipenv_uv.plan(context.build, pipenv.read_lock(context.build_dir))


def test_the_pipfile_hash_is_pipenvs(tmp_path):
    # The fixture's lockfile, written by the real Pipenv.
    lock = json.loads((FIXTURE / "Pipfile.lock").read_text())
    fixture = pipenv_uv.pyproject.read_toml(FIXTURE / "Pipfile")
    assert pipenv_uv.pipfile_hash(fixture) == lock["_meta"]["hash"]["sha256"]
    pipfile = pipenv_uv.pyproject.read_toml(write(tmp_path / "Pipfile", PIPFILE))
    pipfile["source"] = [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}]
    assert pipenv_uv.pipfile_hash(pipfile) == PIPFILE_HASH
    # A TOML date has no JSON form: Pipenv can't hash it either.
    assert pipenv_uv.pipfile_hash({**pipfile, "requires": {"when": __import__("datetime").date(2026, 1, 1)}}) is None


def write(path, text):
    path.write_text(text)
    return path


def test_the_fixture_lock_as_uv_installs_it(tmp_path):
    plan = plan_of(lock_app(tmp_path))
    assert isinstance(plan, LockInstall)
    assert plan.index_url == "https://pypi.org/simple" and plan.required_python == "3.12"
    names = [line.split("==")[0] for line in plan.requirements]
    assert names == ["blinker", "click", "flask", "gunicorn", "itsdangerous", "jinja2", "markupsafe", "packaging",
                     "werkzeug"]
    assert plan.requirements[0] == (
        "blinker==1.9.0 ; python_version >= '3.9'"
        " --hash=sha256:b4ce2265a7abece45e7cc896e98dbebe6cead56bcf805a3d23136d145f5445bf"
        " --hash=sha256:ba0efaa9080b619ff2f3459d1d500c57bddea4a6b424b60a91141db6fd2f08bc")
    # A test build adds the develop section.
    assert any(line.startswith("pytest==") for line in plan_of(lock_app(tmp_path / "t", install_test=True))
               .requirements)


@pytest.mark.parametrize("name, spec, line", [
    ("flask", {"version": "==3.1.3", "hashes": [HASH_A]}, f"flask==3.1.3 --hash={HASH_A}"),
    ("requests", {"version": "==2.32.5", "hashes": [HASH_A, HASH_B], "extras": ["socks", "use_chardet"],
                  "index": "pypi", "markers": "python_version >= '3.9'"},
     f"requests[socks,use_chardet]==2.32.5 ; python_version >= '3.9' --hash={HASH_A} --hash={HASH_B}"),
    # Not a plain release, or something that could add a line or an option.
    ("mypkg", {"path": ".", "editable": True}, None),
    ("repo", {"git": "https://example.com/repo.git", "ref": "abc"}, None),
    ("flask", {"version": "==3.1.3"}, None),
    ("flask", {"version": "==3.1.3", "hashes": []}, None),
    ("flask", {"version": ">=3", "hashes": [HASH_A]}, None),
    ("flask", {"version": "==3.1.3", "hashes": ["sha256:xyz --index-url=http://evil"]}, None),
    ("flask", {"version": "==3.1.3", "hashes": [HASH_A], "markers": "python_version >= '3'\n-i http://evil"}, None),
    ("flask", {"version": "==3.1.3", "hashes": [HASH_A], "markers": "os_name == 'x' # comment"}, None),
    ("flask --index-url=x", {"version": "==3.1.3", "hashes": [HASH_A]}, None),
    ("flask", {"version": "==3.1.3", "hashes": [HASH_A], "extras": ["a]b"]}, None),
    ("flask", "==3.1.3", None),
])
def test_requirement_lines(name, spec, line):
    assert pipenv_uv.requirement_line(name, spec) == line


@pytest.mark.parametrize("change, environ, reason", [
    (lambda c: (c.build_dir / "Pipfile").unlink(), {}, "there is no Pipfile beside Pipfile.lock"),
    (lambda c: write(c.build_dir / "Pipfile", "[packages\n"), {}, "the Pipfile isn't TOML"),
    (lambda c: write(c.build_dir / "Pipfile", (FIXTURE / "Pipfile").read_text() + "requests = '*'\n"), {},
     "Pipfile.lock doesn't match the Pipfile"),
    (lambda c: edit_lock(c, lambda lock: lock["_meta"].pop("hash")), {}, "Pipfile.lock doesn't match the Pipfile"),
    (None, {"PIPENV_PYPI_MIRROR": "https://mirror.example/simple"}, "PIPENV_PYPI_MIRROR is set"),
    (lambda c: edit_lock(c, lambda lock: lock["_meta"]["sources"].append({"name": "b", "url": "https://b/simple"})),
     {}, "doesn't name exactly one package index"),
    (lambda c: edit_lock(c, lambda lock: lock["_meta"]["sources"][0].update(url="https://${TOKEN}@x/simple")), {},
     "index URL has a ${VAR}"),
    (lambda c: edit_lock(c, lambda lock: lock["_meta"]["sources"][0].update(verify_ssl=False)), {},
     "verify_ssl = false"),
    (lambda c: edit_lock(c, lambda lock: lock["default"].update(mypkg={"path": ".", "editable": True})), {},
     "Pipfile.lock's 'mypkg' isn't a pinned, hashed release from the index"),
])
def test_lockfiles_pipenv_installs_itself(tmp_path, change, environ, reason):
    context = lock_app(tmp_path, environ=environ)
    if change:
        change(context)
    plan = plan_of(context)
    assert isinstance(plan, str) and reason in plan, plan


def test_the_two_sections_must_agree_for_a_test_build(tmp_path):
    context = lock_app(tmp_path, install_test=True)
    edit_lock(context, lambda lock: lock["develop"].update(flask={"version": "==3.0.0", "hashes": [HASH_A]}))
    assert plan_of(context) == "Pipfile.lock pins 'flask' differently in its two sections"
    assert isinstance(plan_of(lock_app(tmp_path / "prod")), LockInstall)


def no_source_app(tmp_path, environ=None):
    """A build of PIPFILE (no [[source]]) and a lockfile Pipenv calls up to date with it."""
    context = lock_app(tmp_path, environ=environ)
    write(context.build_dir / "Pipfile", PIPFILE)
    edit_lock(context, lambda lock: lock["_meta"]["hash"].update(sha256=PIPFILE_HASH))
    return context


def test_without_a_source_pips_own_index_settings_decide(tmp_path):
    # Pipenv then takes its default index, and what it hashes, from pip's configuration.
    assert isinstance(plan_of(no_source_app(tmp_path / "plain")), LockInstall)
    why = "the Pipfile names no index, and Pipenv takes its index from pip's settings"
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        assert plan_of(no_source_app(tmp_path / name, environ={name: "https://x.example/simple"})) == why
    quiet = write(tmp_path / "quiet.conf", "[global]\ndisable-pip-version-check = true\n")
    assert isinstance(plan_of(no_source_app(tmp_path / "quiet", environ={"PIP_CONFIG_FILE": str(quiet)})), LockInstall)
    for number, index in enumerate(["[global]\nindex-url = https://x.example/simple\n",
                                    "[install]\nextra_index_url = https://x.example/simple\n"]):
        config = write(tmp_path / f"{number}.conf", index)
        assert plan_of(no_source_app(tmp_path / f"file{number}", environ={"PIP_CONFIG_FILE": str(config)})) == why
    home = tmp_path / "home"
    (home / ".config" / "pip").mkdir(parents=True)
    write(home / ".config" / "pip" / "pip.conf", "[global]\nindex-url = https://x.example/simple\n")
    assert plan_of(no_source_app(tmp_path / "home-file", environ={"HOME": str(home)})) == why


def test_a_pip_setting_uv_has_no_equivalent_for_has_pipenv_install(tmp_path):
    # uv has an equivalent for this one (uv.dependencies_environment gives it).
    assert isinstance(plan_of(lock_app(tmp_path / "constrained", environ={"PIP_CONSTRAINT": "c.txt"})), LockInstall)
    why = plan_of(lock_app(tmp_path / "no-binary", environ={"PIP_NO_BINARY": ":all:"}))
    assert why == "PIP_NO_BINARY is set, a pip setting uv has no equivalent for (without it, uv installs)"


@pytest.mark.parametrize("required, version, allowed", [
    ("3.12", "3.12.1", True), ("3.12", "3.13.0", False), ("3", "3.13.0", True), ("3.12.1", "3.12.1", True),
    ("3.12.1", "3.12.2", False), (">=3.11", "3.12.1", True), (">=3.11,<3.12", "3.12.1", False),
    ("not a version", "3.12.1", False),
])
def test_python_allowed(required, version, allowed):
    assert pipenv_uv.python_allowed(required, version) is allowed


def test_uv_installs_the_lockfile(tmp_path, fp, capsys):
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    write(env_dir / "PIP_EXTRA_INDEX_URL", "https://u:pip-secret@private.example/simple")
    write(env_dir / "PIP_INDEX_URL", "https://u:other-secret@ignored.example/simple")
    context = lock_app(tmp_path, env_dir=env_dir, environ={"UV_INDEX_URL": "https://ignored.example/simple"})
    binary = uv_installed(context)
    seen = []

    def record(process):
        requirements = Path(process.args[process.args.index("-r") + 1])
        seen.append((process.args, process.kwargs["env"], requirements, requirements.read_text()))
        process._finish_process()

    fp.register([fp.any()], callback=record)
    manager = Pipenv()
    assert manager.installer(context.build) == "uv"
    manager.install_dependencies(context)
    ((args, env, requirements, text),) = seen
    assert args == [str(binary), "pip", "install", "-r", str(requirements), "--require-hashes", "--no-deps",
                    "--no-config", "--python", str(context.location.python), "--compile-bytecode", "--no-progress",
                    "--color=never"]
    assert text.splitlines() == list(plan_of(context).requirements)
    assert not requirements.exists()  # a scratch file, never in the app
    # The lockfile's index, as Pipenv's `-i`; PIP_EXTRA_INDEX_URL stays an extra one.
    assert env["UV_DEFAULT_INDEX"] == "https://pypi.org/simple" and "UV_INDEX_URL" not in env
    assert env["UV_INDEX"] == "https://u:pip-secret@private.example/simple"
    out = capsys.readouterr().out
    assert "-----> Installing dependencies from Pipfile.lock using 'uv pip install'" in out
    assert "secret" not in out


def test_the_lockfile_is_read_once_a_build(tmp_path, fp, monkeypatch):
    context = lock_app(tmp_path)
    uv_installed(context)
    fp.register([fp.any()])
    reads = []
    monkeypatch.setattr(pipenv, "read_lock", lambda build_dir: reads.append(build_dir) or json.loads(
        (build_dir / "Pipfile.lock").read_text()))
    manager = Pipenv()
    assert manager.installer(context.build) == "uv"  # for the cache key and the report
    manager.install_dependencies(context)
    assert reads == [context.build_dir]


def test_pipenv_installs_when_the_app_asks_or_uv_cant(tmp_path, fp, capsys):
    uv_cant = lock_app(tmp_path / "a")
    edit_lock(uv_cant, lambda lock: lock["default"].update(mypkg={"path": ".", "editable": True}))
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    write(env_dir / "PYTHON_INSTALLER", "pip")
    asked = lock_app(tmp_path / "b", env_dir=env_dir)
    calls = recorded(fp, occurrences=2)
    manager = Pipenv()
    for context in (uv_cant, asked):
        assert manager.installer(context.build) == "pipenv"
        manager.install_dependencies(context)
    assert [args for args, _env in calls] == [["pipenv", "install", "--deploy"]] * 2
    # Why, when the app didn't ask for Pipenv.
    assert manager._uv_plan(uv_cant.build)[1] == (
        "Installing with Pipenv: Pipfile.lock's 'mypkg' isn't a pinned, hashed release from the index.")
    assert manager._uv_plan(asked.build)[1] is None
    assert "-----> Installing dependencies using 'pipenv install --deploy'" in capsys.readouterr().out


def test_a_python_the_pipfile_refuses(tmp_path, fp):
    context = replace(lock_app(tmp_path), python_version="3.13.1")
    with pytest.raises(BuildError) as error:
        Pipenv().install_dependencies(context)
    assert error.value.id == "pipfile::python-mismatch"
    assert "requires Python 3.12, not 3.13.1" in error.value.title
    assert not fp.calls


def test_a_failed_uv_install_says_how_to_switch_to_pipenv(tmp_path, fp):
    context = lock_app(tmp_path)
    uv_installed(context)
    fp.register([fp.any()], stdout="error: Hash mismatch for flask\n", returncode=1)
    with pytest.raises(BuildError) as error:
        Pipenv().install_dependencies(context)
    assert error.value.id == "install-dependencies::pipenv"
    assert "PYTHON_INSTALLER=pip" in error.value.body and "pipenv install --deploy" in error.value.body
