"""The error catalogue (errors.py): every user-facing error has a stable id.

Each public function returning a BuildError is called here with plausible
values, once per branch, and every BuildError(...) in errors.py must be
reached. A new error function without an entry in CALLS, a branch no call
reaches, or a BuildError whose first argument isn't an `area::what` id,
fails these tests.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from python_buildpack import errors

ID = re.compile(r"^[a-z0-9-]+(::[a-z0-9-]+)+$")
SECRET = "s3cret-t0ken"
URL = f"https://deploy:{SECRET}@mirror.example.com/python/python-3.12.1-ubuntu-24.04-amd64.tar.zst"
BASE_URL = f"https://deploy:{SECRET}@mirror.example.com/python"
LISTING = "    .heroku/python/\n    .heroku/python/bin/"

# Every public function returning a BuildError, with its arguments: one set
# per branch of the function.
CALLS: dict[str, list[dict]] = {
    "usage": [dict(command="compile", expected="BUILD_DIR CACHE_DIR ENV_DIR")],
    "not_a_directory": [dict(what="build directory", path="/tmp/build")],
    "stack_missing": [dict(supported=["heroku-22", "heroku-24"])],
    "stack_end_of_life": [dict(stack="heroku-20", supported=["heroku-22", "heroku-24"])],
    "stack_unknown": [dict(stack="heroku-99", supported=["heroku-22", "heroku-24"])],
    "architecture_unsupported": [dict(arch="i386")],
    "architecture_unknown": [dict(problem="dpkg: not found")],
    "version_file_unreadable": [dict(name=".python-version", problem="is encoded as UTF-16"),
                                dict(name="runtime.txt", problem="isn't valid UTF-8 text")],
    "not_a_file": [dict(name=".python-version")],
    "python_version_file_misspelled": [dict(found="python-version")],
    "python_version_invalid": [dict(line="python-3.12", hint="Remove the 'python' prefix.\n", major="3.14")],
    "python_version_missing_version": [dict(major="3.14")],
    "python_version_multiple": [dict(versions=["3.12", "3.13"])],
    "runtime_txt_invalid": [dict(line="3.12", major="3.14")],
    "python_version_end_of_life": [dict(version="3.8", origin=o, oldest="3.10", newest="3.14")
                                   for o in (".python-version", "cached")],
    "python_version_unknown": [dict(version="3.99", origin=o, newest="3.14") for o in (".python-version", "cached")],
    "python_version_not_on_mirror": [
        dict(requested="3.12.99", version="3.12.99", origin=".python-version", base_url=BASE_URL, available=None),
        dict(requested="3.12", version="3.12.9", origin="default", base_url=BASE_URL, available=["3.12.1"]),
    ],
    "pyproject_invalid": [dict(problem="isn't valid TOML: Expected '=' (at line 3, column 9)")],
    "python_range_invalid": [dict(file="pyproject.toml", key=k, text="^3.x", reason="not PEP 440", poetry=p)
                             for k, p in (("requires-python", False), ("[tool.poetry.dependencies] python", True))],
    "python_range_unsatisfiable": [
        dict(ranges=[("requires-python", "<3.9")], oldest="3.10", newest="3.14"),
        dict(ranges=[("requires-python", "<3.12"), ("[tool.poetry.dependencies] python", "^3.12")],
             oldest="3.10", newest="3.14"),
    ],
    "python_range_conflict": [dict(requested="3.12", version="3.12.9", origin=".python-version",
                                   key="[tool.poetry.dependencies] python", text="3.13", lock_command="poetry lock",
                                   bare_major=bare) for bare in (False, True)],
    "runtime_base_url_invalid": [dict(value=BASE_URL + " x", problem="it has spaces")],
    "runtime_base_url_not_a_directory": [dict(value="file:///srv/python", problem="is a file")],
    "runtime_mirror_authentication_failed": [dict(url=URL, code=407, has_credentials=False),
                                             dict(url=URL, code=401, has_credentials=True),
                                             dict(url=URL, code=401, has_credentials=False)],
    "runtime_mirror_served_html": [dict(url=URL, what="the Python runtime archive")],
    "runtime_manifest_too_large": [dict(url=URL, limit=1024 * 1024)],
    "runtime_manifest_invalid": [dict(url=URL, line_number=2, line=f"Basic {SECRET}")],
    "runtime_download_failed": [dict(url=URL, cause="HTTP 503 Service Unavailable", temporary=True),
                                dict(url=URL, cause="HTTP 400 Bad Request", temporary=False)],
    "runtime_disk_full": [dict(directory="/tmp/build/.heroku", free="12 MB free of 1,024 MB")],
    "runtime_unpack_failed": [dict(directory="/tmp/build/.heroku", problem="Permission denied")],
    "runtime_checksum_mismatch": [dict(url=URL, expected="a" * 64, actual="b" * 64)],
    "runtime_archive_invalid": [dict(url=URL, problem="isn't a valid zstd archive.")],
    "unpack_command_missing": [dict(command="zstd"), dict(command="tar")],
    "heroku_dir_unusable": [dict(what="a file, not a directory")],
    "existing_python_dir": [dict(listing=LISTING)],
    "committed_venv": [dict(name=".venv", listing=LISTING)],
    "buildpack_run_twice": [{}],
    "no_package_manager_files": [dict(listing="    app.py")],
    "setup_py_only": [{}],
    "multiple_package_managers": [dict(found=[("Pipfile.lock", "Pipenv"), ("requirements.txt", "pip")])],
    "pipfile_without_lock": [{}],
    "pyproject_without_lock": [dict(tool=tool) for tool in (None, "poetry", "uv", "pdm")],
    "lockfile_outdated": [dict(file_name="uv.lock", command="uv lock")],
    "pipfile_lock_invalid_json": [dict(problem="Expecting value: line 1 column 1 (char 0)")],
    "pipfile_lock_invalid_shape": [dict(problem='"default" as a list')],
    "file_not_utf8": [dict(name="base.txt", offset=9, line=2, included_by=by) for by in (None, "requirements.txt")],
    "file_unreadable": [dict(name="requirements.txt", problem="Permission denied")],
    "requirements_include_unusable": [dict(name="/dev/zero", included_by="requirements.txt",
                                           problem="a device, not a regular file")],
    "pipfile_lock_invalid_version": [dict(value="^3.12")],
    "pipfile_python_mismatch": [dict(required="3.12", version="3.13.1")],
    "with_uv_installer_hint": [dict(error=errors.BuildError("wrapped::example", "Unable to install.", "uv output."),
                                    file_name="requirements.txt", tool="pip")],
    "uv_needs_python_version_file": [dict(origin=origin, major="3.14") for origin in ("runtime.txt", "default")],
    "pdm_install_cache": [dict(file_name="pdm.toml")],
    "bundled_pip_missing": [dict(python_dir="/app/.heroku/python")],
    "tool_install_failed": [dict(tool="Poetry", version="2.4.1")],
    "dependencies_install_failed": [dict(tool="pip", command="pip install -r requirements.txt")],
    "installer_invalid": [dict(setting="PYTHON_INSTALLER", value="conda")],
    "app_dir_absolute": [dict(setting="PYTHON_APP_DIR", value="/app/backend")],
    "app_dir_outside": [dict(setting="PYTHON_APP_DIR", value=v, through_link=link)
                        for v, link in (("../other", False), ("backend", True))],
    "app_dir_missing": [dict(setting="PYTHON_APP_DIR", value="backnd", listing="    backend/\n    frontend/")],
    "app_dir_not_a_directory": [dict(setting="PYTHON_APP_DIR", value="backend/requirements.txt")],
    "install_failed_gdal_missing": [dict(tool="pip", command="pip install -r requirements.txt")],
    "install_failed_sqlite_headers_missing": [dict(tool="pip", command="pip install -r requirements.txt")],
    "install_failed_broken_metadata": [dict(tool="pip", command="pip install -r requirements.txt")],
    "install_failed_pg_config_missing": [dict(tool="pip", command="pip install -r requirements.txt")],
    "hook_failed": [dict(name="pre_compile", returncode=1)],
    "hook_crlf_shebang": [dict(name="pre_compile", interpreter="/bin/bash")],
    "hook_not_started": [dict(name="pre_compile", problem="Exec format error", interpreter=interpreter)
                         for interpreter in (None, "/bin/no-such-shell")],
    "environment_too_large": [dict(program="bin/post_compile", variables=[("HUGE_CERT", 250_000)])],
    "tool_setting_refused": [dict(name="PIPENV_PIPFILE", where="config var", reason="it names another Pipfile")],
    "collectstatic_failed": [dict(command="python manage.py collectstatic --noinput")],
    "app_python_missing": [{}],
    "no_test_runner": [{}],
    "nltk_download_failed": [dict(names=["punkt", "stopwords"])],
}

# Ids that several functions share on purpose: the classic buildpack records
# one failure_reason for these, and the detail tells them apart.
SHARED_IDS = {
    # A failed install; a known cause (install_hints.py) adds the phrase found.
    "install-dependencies::pip": {
        "dependencies_install_failed", "install_failed_gdal_missing", "install_failed_sqlite_headers_missing",
        "install_failed_broken_metadata", "install_failed_pg_config_missing",
    },
    # A hook that failed, for whatever reason.
    "hooks::pre-compile": {"hook_failed", "hook_crlf_shebang", "hook_not_started"},
}

# The classic buildpack's failure_reason for the same problem.
CLASSIC_IDS = [
    (errors.python_version_end_of_life("3.8", "runtime.txt", "3.10", "3.14"), "python-version::eol", "3.8"),
    (errors.python_version_unknown("3.99", ".python-version", "3.14"), "python-version::unknown-major", "3.99"),
    (errors.python_version_not_on_mirror("3.12.99", "3.12.99", ".python-version", "https://m/p", ["3.12.1"]),
     "python-version::unknown-patch", "3.12.99"),
    (errors.python_version_invalid("3.12 # x", "", "3.14"), "python-version-file::invalid-version", "3.12 # x"),
    (errors.version_file_unreadable(".python-version", "starts with a UTF-8 byte order mark (BOM)"),
     "python-version-file::invalid-encoding", "starts with a UTF-8 byte order mark (BOM)"),
    (errors.python_version_multiple(["3.12", "3.13"]), "python-version-file::multiple-versions", "3.12,3.13"),
    (errors.python_version_missing_version("3.14"), "python-version-file::no-version", ""),
    (errors.python_version_file_misspelled("runtime.txt.txt"), "python-version-file::misspelled", "runtime.txt.txt"),
    (errors.uv_needs_python_version_file("default", "3.14"), "python-version-file::not-found", ""),
    (errors.uv_needs_python_version_file("runtime.txt", "3.14"), "runtime-txt::not-supported", ""),
    (errors.runtime_txt_invalid("python 3.12", "3.14"), "runtime-txt::invalid-version", "python 3.12"),
    (errors.pipfile_lock_invalid_json("Expecting value"), "pipfile-lock::invalid-json", ""),
    (errors.pipfile_lock_invalid_version("^3.12" + "0" * 100), "pipfile-lock::invalid-version", "^3.12" + "0" * 45),
    (errors.pipfile_without_lock(), "package-manager::pipenv-missing-lockfile", ""),
    (errors.setup_py_only(), "package-manager::setup-py-only", ""),
    (errors.no_package_manager_files("    app.py"), "package-manager::none-found", ""),
    (errors.multiple_package_managers([("Pipfile.lock", "Pipenv"), ("requirements.txt", "pip"),
                                       ("poetry.lock", "Poetry"), ("uv.lock", "uv")]),
     "package-manager::multiple-found", "pipenv,pip,poetry,uv"),
    (errors.stack_end_of_life("heroku-20", ["heroku-24"]), "checks::stack::eol", "heroku-20"),
    (errors.stack_unknown("heroku-99", ["heroku-24"]), "checks::stack::unknown", "heroku-99"),
    (errors.buildpack_run_twice(), "checks::duplicate-python-buildpack", ""),
    (errors.existing_python_dir(LISTING), "checks::existing-python-dir", ""),
    (errors.committed_venv("venv", LISTING), "checks::existing-venv-dir", "venv"),
    (errors.bundled_pip_missing("/app/.heroku/python"), "internal-error::bundled-pip-not-found", ""),
    (errors.tool_install_failed("uv", "0.12.5"), "install-package-manager::uv", "0.12.5"),
    (errors.tool_install_failed("pip", "26.2.1"), "install-package-manager::pip", "26.2.1"),
    (errors.dependencies_install_failed("Pipenv", "pipenv install"), "install-dependencies::pipenv", ""),
    (errors.dependencies_install_failed("Poetry", "poetry sync"), "install-dependencies::poetry", ""),
    (errors.dependencies_install_failed("uv", "uv sync"), "install-dependencies::uv", ""),
    (errors.install_failed_gdal_missing("Poetry", "poetry sync"), "install-dependencies::poetry",
     "Could not find gdal-config"),
    (errors.hook_failed("post_compile", 2), "hooks::post-compile", "exit status 2"),
]


def _error_classes() -> set[str]:
    return {name for name, obj in vars(errors).items() if isinstance(obj, type) and issubclass(obj, errors.BuildError)}


def _public_functions() -> dict[str, object]:
    return {name: f for name, f in vars(errors).items()
            if inspect.isfunction(f) and f.__module__ == errors.__name__ and not name.startswith("_")}


def _error_calls() -> list[tuple[str, ast.Call]]:
    """Every BuildError(...) (or subclass) written in errors.py, with its function."""
    tree = ast.parse(Path(errors.__file__).read_text(encoding="utf-8"))
    classes = _error_classes()
    return [
        (function.name, node)
        for function in tree.body if isinstance(function, ast.FunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in classes
    ]


@pytest.fixture(scope="module")
def made():
    """Every CALLS entry's error, and the lines of errors.py that ran."""
    executed: set[int] = set()
    filename = errors.__file__

    def trace(frame, event, arg):
        if frame.f_code.co_filename != filename:
            return None

        def line(frame, event, arg):
            if event == "line":
                executed.add(frame.f_lineno)
            return line
        return line

    results: list[tuple[str, errors.BuildError]] = []
    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        for name, calls in CALLS.items():
            for kwargs in calls:
                results.append((name, getattr(errors, name)(**kwargs)))
    finally:
        sys.settrace(previous)
    return results, executed


def test_every_error_function_is_in_the_table():
    classes = _error_classes()
    returning_errors = set()
    for name, function in _public_functions().items():
        returns = inspect.signature(function).return_annotation
        assert returns == "str" or returns in classes, f"{name}: annotate its return type (str or BuildError)"
        if returns in classes:
            returning_errors.add(name)
    assert returning_errors - CALLS.keys() == set(), "add these functions to CALLS in test_errors.py"
    assert CALLS.keys() - returning_errors == set(), "these CALLS entries aren't error functions of errors.py"


def test_every_call_returns_a_build_error(made):
    results, _ = made
    for name, error in results:
        assert isinstance(error, errors.BuildError), name


def test_every_build_error_in_errors_py_is_made(made):
    """Each BuildError(...) in errors.py ran for some CALLS entry: a branch
    the table misses would go unchecked."""
    _, executed = made
    for function, call in _error_calls():
        lines = set(range(call.lineno, (call.end_lineno or call.lineno) + 1))
        assert lines & executed, f"{function} (line {call.lineno}): add arguments reaching it to CALLS"


def test_every_build_error_names_its_id_first():
    """The id is written beside the message: the first argument, a literal."""
    for function, call in _error_calls():
        assert call.args, f"{function} (line {call.lineno}): BuildError(id, title, body)"
        first = call.args[0]
        if isinstance(first, ast.JoinedStr):  # f"install-dependencies::{_id_part(tool)}"
            written = "".join(str(part.value) for part in first.values if isinstance(part, ast.Constant))
            assert "::" in written and re.fullmatch(r"[a-z0-9:-]+", written), (
                f"{function} (line {call.lineno}): the first argument must be an id such as f'hooks::{{name}}'")
        else:
            assert isinstance(first, ast.Constant) and ID.match(str(first.value)), (
                f"{function} (line {call.lineno}): the first argument must be an id such as 'area::what'")


def test_ids_are_well_formed(made):
    for name, error in made[0]:
        assert ID.match(error.id), f"{name}: {error.id!r} isn't 'area::what' in lowercase kebab-case"


def test_ids_are_unique_to_a_problem(made):
    functions = defaultdict(set)
    details = defaultdict(set)
    for name, error in made[0]:
        functions[error.id].add(name)
        details[error.id].add((name, error.detail))
    for error_id, names in functions.items():
        if len(names) > 1:
            assert SHARED_IDS.get(error_id) == names, f"{error_id} is used by {sorted(names)}"
    for error_id in SHARED_IDS:
        # Shared on purpose, but the detail still tells each function's apart.
        by_detail = defaultdict(set)
        for name, detail in details[error_id]:
            by_detail[detail].add(name)
        assert all(len(names) == 1 for names in by_detail.values()), by_detail


def test_titles_are_one_sentence_line(made):
    for name, error in made[0]:
        assert error.title and "\n" not in error.title, name
        assert error.title[-1] in ".!?", f"{name}: {error.title!r} ends without punctuation"
        assert error.title == error.title.strip(), name


def test_printed_errors_start_with_error_and_hide_the_id(made):
    for name, error in made[0]:
        printed = str(error)
        assert printed.startswith(f"Error: {error.title}"), name
        assert error.id not in printed, name


def test_details_are_short_and_secret_free(made):
    for name, error in made[0]:
        assert len(error.detail) <= errors.DETAIL_LIMIT, name
        assert "\n" not in error.detail, name
        assert SECRET not in error.detail and "://" not in error.detail, f"{name}: {error.detail!r}"
    assert len(errors.BuildError("a::b", "T.", detail="x" * 500).detail) == errors.DETAIL_LIMIT


@pytest.mark.parametrize("error, error_id, detail", CLASSIC_IDS, ids=[case[1] for case in CLASSIC_IDS])
def test_ids_match_the_classic_buildpack(error, error_id, detail):
    assert (error.id, error.detail) == (error_id, detail)


@pytest.mark.parametrize("label", ["pip", "Pipenv", "Poetry", "uv", "PDM"])
def test_manager_labels_become_lowercase_ids(label):
    assert errors.dependencies_install_failed(label, "x").id == f"install-dependencies::{label.lower()}"
    assert errors.tool_install_failed(label, "1.0").id == f"install-package-manager::{label.lower()}"


@pytest.mark.parametrize("file_name, error_id", [
    ("uv.lock", "uv-lock::outdated"), ("poetry.lock", "poetry-lock::outdated"), ("Pipfile.lock", "pipfile-lock::outdated"),
    ("pdm.lock", "pdm-lock::outdated"),
])
def test_outdated_lockfile_ids(file_name, error_id):
    assert errors.lockfile_outdated(file_name, "lock").id == error_id


def test_an_error_needs_an_id():
    with pytest.raises(TypeError):
        errors.BuildError(title="Something is wrong.", body="Fix it.")  # type: ignore[call-arg]


def test_the_ids_of_failures_that_are_not_build_errors(made):
    made_ids = {error.id for _, error in made[0]}
    for error_id in (errors.INTERNAL_ERROR_ID, errors.INTERRUPTED_ID):
        assert ID.match(error_id) and error_id not in made_ids
    assert errors.INTERNAL_ERROR_ID == "internal-error::unhandled"  # as the classic buildpack
    assert errors.interrupted().startswith("Error: The build was interrupted.")
    assert errors.internal_error("RuntimeError: x").startswith("Internal error: ")
