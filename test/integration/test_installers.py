"""requirements.txt installed by uv (the default) and by pip
(PYTHON_INSTALLER=pip): from every kind of requirement line, the same
distributions at the same versions, from the same sources, and an app that
boots; the lines uv reads otherwise than pip; switching between them; and a
changed requirements.txt installed afresh into the cached Python. Pipfile.lock
installed by uv and by Pipenv itself: the same distributions."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from stack_env import HerokuishBuild, make_stack, stack_name
from test_app_features import make_git_repo
from test_builds import failed, ok

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

UV_INSTALL = "-----> Installing dependencies using 'uv pip install -r requirements.txt'"
PIP_INSTALL = "-----> Installing dependencies using 'pip install -r requirements.txt'"
SITE_PACKAGES = "/app/.heroku/python/lib/python3.12/site-packages"
# What pip says the app's Python holds: names and versions, then with where
# each came from (a path, a VCS commit, an editable's directory).
INSTALLED = "python -m pip list --format=freeze --exclude pip && echo && python -m pip freeze --exclude pip"


@pytest.fixture
def another_builder(rootfs, mirror, tmp_path) -> Callable[..., HerokuishBuild]:
    """another_builder(name, **config): a builder with its own /app, /tmp and
    cache. Made when called, after the first builder's app was looked at: in
    a stack container (NativeStack) all builders share the one /app."""

    def make(name: str, **config: str) -> HerokuishBuild:
        return HerokuishBuild(make_stack(rootfs, tmp_path / name), stack_name(),
                              config={"PYTHON_RUNTIME_BASE_URL": mirror.url(), **config})

    return make


def installed(builder: HerokuishBuild) -> str:
    result = builder.run_in_app(INSTALLED)
    assert result.returncode == 0, result.output
    return result.stdout


def make_wheel(directory: Path, name: str, module: str, version: str = "1.0") -> None:
    """A pure-Python wheel, made by hand (no build tools needed), that no index has."""
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": "WHERE = __file__\n",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist_info}/RECORD"] = "".join(f"{path},,\n" for path in files) + f"{dist_info}/RECORD,,\n"
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(directory / f"{module}-{version}-py3-none-any.whl", "w") as wheel:
        for path, content in files.items():
            wheel.writestr(path, content)


# --- the same install from uv and from pip ---------------------------------------

SIX_HASHES = ("--hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"  # wheel
              " --hash=sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81")  # sdist
IDNA_HASH = "--hash=sha256:946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d3"
DATEUTIL_HASH = "--hash=sha256:a8b2bc7bffae282281c8140a97d3aa9c14da0b136dfe83f850eea9a5f7470427"
# Hash-checking mode (every line hashed, pinned): a continuation line, a
# marker, an included file whose package needs one of this file's.
HASHED_REQUIREMENTS = {
    "requirements.txt": (f"-r requirements/hashed.txt\nsix==1.17.0 \\\n    {SIX_HASHES}\n"
                         f'idna==3.10 ; python_version >= "3.8" {IDNA_HASH}\n'),
    "requirements/hashed.txt": f"python-dateutil==2.9.0.post0 {DATEUTIL_HASH}\n",
}
# An editable from version control, in an included file: uv can't check it
# out into the slug, so the build installs with pip whatever PYTHON_INSTALLER says.
VCS_EDITABLE_REQUIREMENTS = {
    "requirements.txt": "-r requirements/vcs.txt\nsix==1.17.0\n",
    "requirements/vcs.txt": "-e git+file:///app/vcslib-repo#egg=vcslib\n",
}

# Each case: what pip list says the app's Python has (beyond these, only the
# unpinned dependencies of requests), and what it mustn't have.
EXPECTED = {
    "every-kind-of-line": (
        ["buildpack-private-pkg==1.0", "corpus-app==1.0", "corpus-editable==1.0", "corpus-local==1.0",
         "corpus-wheel-only==1.0", "idna==3.8", "PySocks==1.7.1", "requests==2.32.3", "six==1.17.0",
         "urllib3==2.2.3", "vcslib==1.0"],
        ["colorama", "tomli", "flask"],
    ),
    "hashes": (["idna==3.10", "python-dateutil==2.9.0.post0", "six==1.17.0"], []),
    "vcs-editable": (["six==1.17.0", "vcslib==1.0"], []),
}


def corpus_app(case: str, fixture_app) -> Path:
    if case == "every-kind-of-line":
        source = fixture_app("installers_app")
        make_git_repo(source / "vcslib-repo")
        make_wheel(source / "wheels", "corpus-wheel-only", "corpus_wheel_only")
    elif case == "hashes":
        source = fixture_app("minimal_app", HASHED_REQUIREMENTS)
    else:
        source = fixture_app("minimal_app", VCS_EDITABLE_REQUIREMENTS)
        make_git_repo(source / "vcslib-repo")
    return source


def _configure(builder: HerokuishBuild, mirror) -> None:
    # ${CORPUS_LOCAL_DIR} in requirements.txt: from the build environment,
    # as dokku passes config vars (Heroku's builds see none).
    builder.env["CORPUS_LOCAL_DIR"] = "pkg_local"
    builder.config["PIP_EXTRA_INDEX_URL"] = f"{mirror.url('simple')}/"


def _page(builder: HerokuishBuild, case: str):
    """The app's page: for installers_app, where each module was imported from."""
    response = builder.fetch("/")
    assert response.status_code == 200, response.text
    return response.json() if case == "every-kind-of-line" else response.text


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_uv_and_pip_install_the_same(herokuish, another_builder, fixture_app, mirror, case):
    source = corpus_app(case, fixture_app)
    _configure(herokuish, mirror)
    log = ok(herokuish.build(source)).stdout
    if case == "vcs-editable":
        assert ("       Installing with pip: requirements/vcs.txt has an editable requirement from version "
                "control, which uv can't check out into the app (pip's --src does).\n") in log
        assert PIP_INSTALL in log
        checkout = herokuish.run_in_app("python -c 'import vcslib; print(vcslib.WHERE)'")
        assert checkout.stdout == "/app/.heroku/python/src/vcslib/src/vcslib\n", checkout.output
    else:
        assert UV_INSTALL in log
    with_uv = installed(herokuish)
    pages = [_page(herokuish, case)]

    with_pip = another_builder("pip", PYTHON_INSTALLER="pip")
    _configure(with_pip, mirror)
    log = ok(with_pip.build(source)).stdout
    assert PIP_INSTALL in log and "Installing with pip" not in log
    pages.append(_page(with_pip, case))

    assert with_uv == installed(with_pip)
    names = with_uv.split("\n\n")[0].splitlines()
    present, absent = EXPECTED[case]
    assert set(present) <= set(names), names
    assert not {name.split("==")[0].lower() for name in names} & set(absent), names
    assert pages[0] == pages[1]
    if case == "every-kind-of-line":
        # The editables import from the app, the rest from the app's Python.
        assert pages[0] == {
            "corpus_app": "/app/src/corpus_app/__init__.py",
            "corpus_editable": "/app/pkg_editable/src/corpus_editable/__init__.py",
            "corpus_local": f"{SITE_PACKAGES}/corpus_local.py",
            "vcslib": f"{SITE_PACKAGES}/vcslib/__init__.py",
            "corpus_wheel_only": f"{SITE_PACKAGES}/corpus_wheel_only/__init__.py",
            "buildpack_private_pkg": f"{SITE_PACKAGES}/buildpack_private_pkg/__init__.py",
            "six": f"{SITE_PACKAGES}/six.py",
            "requests": f"{SITE_PACKAGES}/requests/__init__.py",
            "socks": f"{SITE_PACKAGES}/socks.py",
        }


# --- what uv reads otherwise than pip ----------------------------------------------

# Each: requirement files, and what pip does with them today. The build
# with uv (the default) must do the same: by telling uv (--require-hashes),
# or by installing with pip and saying why.
DIFFERENCES = {
    # pip expands ${NAME} (upper case, digits, _) anywhere in a line, from
    # the build environment; uv only in URLs and paths (the equivalence test's
    # ./${CORPUS_LOCAL_DIR}), and can't parse "six==${SIX_VERSION}".
    "variable-in-a-version": ({"requirements.txt": "six==${SIX_VERSION}\n"}, "six==1.17.0"),
    # One hashed line turns on pip's hash-checking mode for the whole install
    # (--require-hashes): unhashed or unpinned requirements, and dependencies
    # without a hash, are refused. uv checks the hashes given and installs the
    # rest unchecked.
    "some-lines-hashed": ({"requirements.txt": f"six==1.17.0 {SIX_HASHES}\nidna==3.10\n"},
                          "Hashes are required in --require-hashes mode"),
    # pip looks for a relative --find-links directory next to the file that
    # names it, then in the working directory (the app's root); uv only next
    # to the file ("relative URL without a base" for requirements/wheels).
    "find-links-in-an-included-file": ({"requirements.txt": "-r requirements/wheels.txt\n",
                                        "requirements/wheels.txt": "--find-links ./wheels\ncorpus-wheel-only==1.0\n"},
                                       "corpus-wheel-only==1.0"),
}


@pytest.mark.parametrize("case", sorted(DIFFERENCES))
def test_lines_uv_reads_otherwise_than_pip(herokuish, another_builder, fixture_app, case):
    files, pip_does = DIFFERENCES[case]
    source = fixture_app("minimal_app", files)
    make_wheel(source / "wheels", "corpus-wheel-only", "corpus_wheel_only")
    results = {}
    for installer, builder in (("pip", another_builder("pip", PYTHON_INSTALLER="pip")), ("uv", herokuish)):
        builder.env["SIX_VERSION"] = "1.17.0"
        outcome = builder.build(source)
        if installer == "uv" and PIP_INSTALL in (outcome.compile.stdout if outcome.compile else ""):
            assert "       Installing with pip: " in outcome.compile.stdout  # and why
        if outcome.ok:
            results[installer] = installed(builder).split("\n\n")[0]
        else:
            failed(outcome, "install-dependencies::pip")
            results[installer] = f"failed: {outcome.compile.stdout}"
    assert pip_does in results["pip"], results["pip"]
    if results["uv"].startswith("failed") != results["pip"].startswith("failed") or (
            not results["uv"].startswith("failed") and results["uv"] != results["pip"]):
        uv_did = results["uv"].split(UV_INSTALL)[-1].strip()
        pytest.fail(f"uv reads these lines otherwise than pip: {files} -> {uv_did[-400:]}")


def test_an_apps_uv_toml_does_not_steer_the_install(herokuish, fixture_app):
    # pip reads no configuration file from the app's directory; uv reads
    # uv.toml there (the build dir is its working directory).
    source = fixture_app("minimal_app", {"requirements.txt": "six==1.17.0\n",
                                         "uv.toml": '[pip]\ntarget = "/tmp/uv-target"\n'})
    ok(herokuish.build(source))
    result = herokuish.run_in_app("python -c 'import six; print(six.__file__)'")
    assert result.stdout == f"{SITE_PACKAGES}/six.py\n", result.output


# --- choosing the installer --------------------------------------------------------

@pytest.mark.parametrize("app, page", [
    ("flask_app", "Hello from Flask on Python 3.12"),
    ("django_app", "Hello from Django 5.2.8 on Python 3.13"),
])
def test_apps_build_and_boot_with_pip(herokuish, fixture_app, app, page):
    herokuish.config["PYTHON_INSTALLER"] = "pip"
    log = ok(herokuish.build(fixture_app(app))).stdout
    assert PIP_INSTALL in log and "Successfully installed" in log
    assert "uv" not in log  # neither installed nor run
    assert herokuish.fetch("/").text == page


def test_an_installer_other_than_uv_or_pip_fails(herokuish, fixture_app):
    herokuish.config["PYTHON_INSTALLER"] = "conda"
    outcome = herokuish.build(fixture_app("minimal_app"))
    result = failed(outcome, "config::invalid-installer")
    assert outcome.report["error"]["detail"] == "conda"
    assert "PYTHON_INSTALLER" in result.stderr and "Installing Python" not in result.stdout


def test_a_failed_uv_install_says_how_to_switch_to_pip(herokuish, fixture_app, stack):
    requirements = "this-package-does-not-exist-anywhere-4711==1.0\n"
    result = failed(herokuish.build(fixture_app("minimal_app", {"requirements.txt": requirements})),
                    "install-dependencies::pip")
    assert UV_INSTALL in result.stdout
    assert "this-package-does-not-exist-anywhere-4711 was not found in the package registry" in result.stdout
    assert "PYTHON_INSTALLER=pip" in result.stderr
    assert not stack.host_path(f"{stack.tmp_dir}/cache/python-buildpack/metadata.json").exists()


def test_pips_settings_in_the_build_environment_are_honoured(herokuish, fixture_app):
    # dokku passes config vars to the build as its environment, where pip
    # reads PIP_*: uv is given those it has equivalents for, as uv's; any
    # other has pip install, whatever PYTHON_INSTALLER says.
    source = fixture_app("minimal_app", {"requirements.txt": "six\n", "constraints.txt": "six==1.16.0\n"})
    herokuish.env.update(PIP_CONSTRAINT="constraints.txt", PIP_DISABLE_PIP_VERSION_CHECK="1")
    log = ok(herokuish.build(source)).stdout
    assert UV_INSTALL in log and " + six==1.16.0" in log
    herokuish.env["PIP_NO_BINARY"] = "six"
    log = ok(herokuish.build(source)).stdout
    assert ("Installing with pip: PIP_NO_BINARY is set, a pip setting uv has no equivalent for "
            "(without it, uv installs).") in log
    assert "The installer has changed from uv to pip" in log and PIP_INSTALL in log
    # Built from its source distribution, as pip builds what it may not take a wheel of.
    assert "Building wheel for six" in log and "Successfully installed six-1.16.0" in log
    record = herokuish.run_in_app(f"cat {SITE_PACKAGES}/six-1.16.0.dist-info/INSTALLER")
    assert record.stdout == "pip\n", record.output


def test_switching_the_installer_installs_the_dependencies_afresh(herokuish, fixture_app):
    source = fixture_app("flask_app")
    assert UV_INSTALL in ok(herokuish.build(source)).stdout
    for installer, old, command in (("pip", "uv", PIP_INSTALL), ("uv", "pip", UV_INSTALL)):
        herokuish.config["PYTHON_INSTALLER"] = installer
        outcome = herokuish.build(source)
        log = ok(outcome).stdout
        assert ("-----> Keeping the cached Python; installing the dependencies afresh since:\n"
                f"       - The installer has changed from {old} to {installer}\n") in log
        assert "Installing Python" not in log and command in log
        assert outcome.report["cache"]["dependencies_reinstalled_because"] == [
            f"The installer has changed from {old} to {installer}"]
        assert herokuish.fetch("/").text == "Hello from Flask on Python 3.12"


# --- a changed requirements.txt ------------------------------------------------------

# Every file of the app's Python, its size for files: what a build leaves.
FILES = ("cd /app/.heroku/python && find . -name __pycache__ -prune -o -type f -printf '%p %s\\n' "
         "-o -printf '%p\\n' | LC_ALL=C sort")


# The compiled bytecode, by name: what a build leaves besides FILES.
BYTECODE = "cd /app/.heroku/python && find . -path '*/__pycache__/*' | LC_ALL=C sort"
# When idna's bytecode was written (a reused .pyc keeps its time).
IDNA_BYTECODE_TIME = ("python -c 'import glob, os; print(os.stat(glob.glob(\"/app/.heroku/python/lib/python3*/"
                      "site-packages/idna/__pycache__/core.*.pyc\")[0]).st_mtime_ns)'")


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_requirements_change_keeps_python_and_pip_and_equals_a_first_build(
        herokuish, another_builder, fixture_app, installer):
    herokuish.config["PYTHON_INSTALLER"] = installer
    ok(herokuish.build(fixture_app("minimal_app", {
        "requirements.txt": "six==1.17.0\nidna==3.10\ncertifi==2025.8.3\n"})))
    assert herokuish.run_in_app("python -c 'import six, certifi'").returncode == 0
    idna_compiled = herokuish.run_in_app(IDNA_BYTECODE_TIME).stdout
    changed = fixture_app("minimal_app", {"requirements.txt": "idna==3.10\n"})
    outcome = herokuish.build(changed)
    log = ok(outcome).stdout
    assert ("-----> Keeping the cached Python; installing the dependencies afresh since:\n"
            "       - The contents of requirements.txt changed\n") in log
    assert "Installing Python" not in log and "Installing pip" not in log and "Installing uv" not in log
    assert "-----> Using cached pip " in log
    assert outcome.report["cache"] == {"status": "reused", "reasons": [],
                                       "dependencies_reinstalled_because": ["The contents of requirements.txt changed"]}
    # six, which the file no longer lists, is gone.
    gone = herokuish.run_in_app("python -c 'import six'")
    assert gone.returncode == 1 and "No module named 'six'" in gone.stderr, gone.output
    if installer == "uv":
        # idna went back in as it was: its bytecode was kept, not compiled
        # again (pip compiles what it installs whatever is there).
        assert herokuish.run_in_app(IDNA_BYTECODE_TIME).stdout == idna_compiled
    after_change = (installed(herokuish), herokuish.run_in_app(FILES).stdout, herokuish.run_in_app(BYTECODE).stdout)

    first = another_builder("first-build", PYTHON_INSTALLER=installer)
    ok(first.build(changed))
    assert after_change == (installed(first), first.run_in_app(FILES).stdout, first.run_in_app(BYTECODE).stdout)
    assert "site-packages/six" not in after_change[1] + after_change[2]
    assert "site-packages/certifi" not in after_change[1] + after_change[2]
    assert "idna/__pycache__/core." in after_change[2]


# --- Pipfile.lock: uv, or Pipenv itself -------------------------------------------

PIPFILE_UV_INSTALL = "-----> Installing dependencies from Pipfile.lock using 'uv pip install'"
PIPENV_PAGE = "Hello from a pipenv app on Python 3.12, without dev dependencies"
# Every distribution the app's Python has (Pipenv apps have no pip to ask).
DISTRIBUTIONS = ("python -c \"import importlib.metadata as m; "
                 "print(sorted((d.metadata['Name'].lower(), d.version) for d in m.distributions()))\"")


def distributions(builder: HerokuishBuild) -> str:
    result = builder.run_in_app(DISTRIBUTIONS)
    assert result.returncode == 0, result.output
    return result.stdout


def test_uv_and_pipenv_install_the_same_lockfile(herokuish, another_builder, fixture_app):
    outcome = herokuish.build(fixture_app("pipenv_app"))
    log = ok(outcome).stdout
    assert PIPFILE_UV_INSTALL in log and "pipenv install" not in log
    assert outcome.report["package_manager"]["installer"] == "uv"
    with_uv = distributions(herokuish)
    assert "('flask', '3.1.3')" in with_uv and "pytest" not in with_uv
    assert herokuish.fetch("/").text == PIPENV_PAGE

    pipenv_builder = another_builder("pipenv", PYTHON_INSTALLER="pip")
    outcome = pipenv_builder.build(fixture_app("pipenv_app"))
    log = ok(outcome).stdout
    assert "-----> Installing dependencies using 'pipenv install --deploy'" in log and "uv pip install" not in log
    assert outcome.report["package_manager"]["installer"] == "pipenv"
    assert distributions(pipenv_builder) == with_uv
    assert pipenv_builder.fetch("/").text == PIPENV_PAGE


def test_a_python_the_pipfile_refuses(herokuish, fixture_app):
    # .python-version wins over Pipfile.lock, but `pipenv install --deploy`
    # refuses a Python the Pipfile doesn't ask for: so does the build, first.
    outcome = herokuish.build(fixture_app("pipenv_app", {".python-version": "3.13\n"}))
    result = failed(outcome, "pipfile::python-mismatch")
    assert "The Pipfile requires Python 3.12, not 3.13." in result.stderr


def test_a_lockfile_hash_uv_refuses_says_how_to_switch_to_pipenv(herokuish, fixture_app, stack):
    lock = json.loads((FIXTURES / "pipenv_app" / "Pipfile.lock").read_text())
    lock["default"]["flask"]["hashes"] = ["sha256:" + "0" * 64]
    result = failed(herokuish.build(fixture_app("pipenv_app", {"Pipfile.lock": json.dumps(lock, indent=4)})),
                    "install-dependencies::pipenv")
    assert PIPFILE_UV_INSTALL in result.stdout and "Hash mismatch" in result.stdout
    assert "PYTHON_INSTALLER=pip" in result.stderr and "pipenv install --deploy" in result.stderr
    assert not stack.host_path(f"{stack.tmp_dir}/cache/python-buildpack/metadata.json").exists()


def test_an_app_that_pins_pip_keeps_it_on_an_unchanged_rebuild(herokuish, fixture_app):
    source = fixture_app("minimal_app", {"requirements.txt": "pip==25.0\nsix==1.17.0\n"})
    ok(herokuish.build(source))
    rebuild = herokuish.build(source)
    log = ok(rebuild).stdout
    assert "-----> Using cached pip 25.0, as the last build left it" in log and "Installing pip" not in log
    # The install was left as restored, so the copy started then is what the cache keeps.
    assert rebuild.report["cache_saved"] == "early copy"
    result = herokuish.run_in_app("python -m pip --version")
    assert result.stdout.startswith("pip 25.0 "), result.output
