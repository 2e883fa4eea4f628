"""bin/test: which test runner runs, in the app's directory, and its exit status."""

from __future__ import annotations

import pytest

from python_buildpack import app_tests
from python_buildpack.errors import BuildError


@pytest.fixture
def app(tmp_path, monkeypatch):
    """An app dir, and a fake `python` first on PATH: `import pytest` works
    when the app has a file named has-pytest; otherwise it prints its
    arguments and working directory and exits with the status in `status`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.write_text(
        '#!/bin/sh\n'
        'if [ "$1" = -c ]; then [ -f has-pytest ]; exit $?; fi\n'
        'echo "ran: $* in $(basename "$PWD")"\n'
        'exit "$(cat status 2>/dev/null || echo 0)"\n'
    )
    python.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    return app_dir


def test_pytest_when_the_app_has_it(app, capfd):
    (app / "has-pytest").write_text("")
    (app / "manage.py").write_text("")  # pytest comes first
    assert app_tests.run_app_tests(app) == 0
    assert capfd.readouterr().out == "-----> Running the app's tests: python -m pytest\nran: -m pytest in app\n"


def test_djangos_runner_without_pytest(app, capfd):
    (app / "src").mkdir()
    (app / "src" / "manage.py").write_text("")
    assert app_tests.run_app_tests(app) == 0
    assert capfd.readouterr().out == "-----> Running the app's tests: python src/manage.py test\nran: src/manage.py test in app\n"


def test_the_exit_status_is_the_tests(app, capfd):
    (app / "has-pytest").write_text("")
    (app / "status").write_text("3\n")
    assert app_tests.run_app_tests(app) == 3


def test_no_test_runner(app):
    with pytest.raises(BuildError) as error:
        app_tests.run_app_tests(app)
    assert error.value.id == "app-tests::no-test-runner"


def test_no_python_on_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BuildError) as error:
        app_tests.run_app_tests(tmp_path)
    assert error.value.id == "app-tests::python-missing"
