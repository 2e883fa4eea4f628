"""PDM: its command lines, environment, project settings and errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from python_buildpack import environment, pdm
from python_buildpack.errors import BuildError
from python_buildpack.pdm import Pdm
from conftest import config_with, fake_install, make_context, recorded, uv_installed

PYPROJECT = """\
[project]
name = "app"
requires-python = ">=3.12"

[tool.pdm]
distribution = false

[[tool.pdm.source]]
name = "private"
url = "https://${PRIVATE_USER}:${PRIVATE_TOKEN}@pypi.example.com/simple"
"""


@pytest.fixture
def app(tmp_path):
    """An InstallContext for a PDM app whose config vars hold its private
    index's credentials, PDM's own index settings, and one no install may see."""
    location = fake_install(tmp_path)
    config_with(tmp_path, {
        "PRIVATE_USER": "deploy", "PRIVATE_TOKEN": "source-secret", "PDM_PYPI_PASSWORD": "pypi-secret",
        "DATABASE_URL": "postgres://not-for-installs",
    })
    context = make_context(tmp_path, location, env_dir=tmp_path / "env")
    (context.build_dir / "pyproject.toml").write_text(PYPROJECT)
    (context.build_dir / "pdm.lock").write_text("[metadata]\n")
    return context


def test_install_checks_the_lockfile_then_syncs_then_compiles(app, fp, capsys):
    fp.keep_last_process(True)
    calls = recorded(fp, stdout="installed\n")
    Pdm().install_dependencies(app)
    (check, check_env), (sync, env), (compile_, _) = calls
    project = ["--global", "--project", str(app.build_dir)]
    assert check == ["pdm", "lock", "--check", *project]
    assert sync == ["pdm", "sync", *project, "--prod", "--only-keep", "--no-editable"]
    site_packages = app.location.home / "lib" / "python3.12" / "site-packages"
    assert compile_ == [str(app.location.python), "-m", "compileall", "-qq", str(site_packages)]
    assert check_env == env
    # The source's credentials and PDM's index settings reach PDM; nothing else of the app's.
    assert (env["PRIVATE_USER"], env["PRIVATE_TOKEN"], env["PDM_PYPI_PASSWORD"]) == (
        "deploy", "source-secret", "pypi-secret")
    assert "DATABASE_URL" not in env
    assert env["PDM_CACHE_DIR"] == str(app.build.cache.root / "pdm-cache")
    assert env["PDM_USE_UV"] == "false" and env["PDM_NON_INTERACTIVE"] == "1"
    out = capsys.readouterr().out
    assert "-----> Installing dependencies using 'pdm sync --prod'" in out
    assert "secret" not in out and "       installed" in out


def test_test_builds_install_the_dev_groups(app, fp, capsys):
    app.build = replace(app.build, install_test=True)
    fp.keep_last_process(True)
    calls = recorded(fp)
    Pdm().install_dependencies(app)
    assert calls[1][0] == ["pdm", "sync", "--global", "--project", str(app.build_dir), "--only-keep",
                           "--no-editable"]
    assert "using 'pdm sync'\n" in capsys.readouterr().out


@pytest.mark.parametrize("output, error_id", [
    ("WARNING: Lockfile doesn't satisfy the project\nrequirements, packages may be outdated\n", "pdm-lock::outdated"),
    ("WARNING: Lockfile is not compatible with PDM\n", "pdm-lock::outdated"),
    ("[PdmUsageError]: something else\n", "install-dependencies::pdm"),
])
def test_an_out_of_date_lockfile_stops_the_install(app, fp, output, error_id):
    fp.register(["pdm", "lock", fp.any()], stdout=output, returncode=1)
    with pytest.raises(BuildError) as error:
        Pdm().install_dependencies(app)
    assert error.value.id == error_id
    if error_id == "pdm-lock::outdated":
        assert "Run 'pdm lock', then commit the updated pdm.lock." in error.value.body
    assert len(fp.calls) == 1  # nothing was installed


def test_a_failed_sync(app, fp):
    fp.register(["pdm", "lock", fp.any()])
    fp.register(["pdm", "sync", fp.any()], stdout="No candidate is found for `six`\n", returncode=1)
    with pytest.raises(BuildError) as error:
        Pdm().install_dependencies(app)
    assert error.value.id == "install-dependencies::pdm" and "'pdm sync --prod'" in error.value.body


def test_a_failed_compile_is_no_failure(app, fp):
    fp.register(["pdm", fp.any()])
    fp.register(["pdm", fp.any()])
    fp.register([str(app.location.python), fp.any()], returncode=1)
    Pdm().install_dependencies(app)


def test_pdm_is_installed_with_its_locked_dependencies(app, fp):
    uv = uv_installed(app)
    fp.register([str(app.location.python), "-m", "venv", fp.any()])
    fp.register([str(uv), "pip", "install", fp.any()], returncode=1)
    with pytest.raises(BuildError) as error:
        Pdm().install_tool(app)
    assert (error.value.id, error.value.detail) == ("install-package-manager::pdm", Pdm().version)
    assert list(fp.calls[-1])[-1] == f"pdm[locked]=={Pdm().version}"
    assert not (app.build.cache.root / "pdm" / "venv").exists()


def test_environment_names_the_apps_python_outside_the_slug(app):
    variables = {variable.name: variable for variable in Pdm().environment(app)}
    assert variables["PATH"].value == str(app.build.cache.root / "pdm" / "bin")
    assert variables["PDM_PYTHON"].value == "{home}/bin/python"
    assert all(environment.RUNTIME not in variable.how for variable in variables.values())
    env = environment.build_env(app.location, {"PATH": "/usr/bin", "PDM_PYTHON": "/usr/bin/python3"},
                                tuple(variables.values()))
    assert env["PDM_PYTHON"] == f"{app.location.home}/bin/python" and env["PDM_CHECK_UPDATE"] == "false"


def test_source_variables_that_would_steer_the_build_stay_out(app, fp):
    (app.build_dir / "pyproject.toml").write_text(
        "[[tool.pdm.source]]\nname = 'x'\nurl = 'https://${PATH}${PDM_PYTHON}${PYTHONHOME}${PIP_TARGET}${OK}@x/'\n")
    for name in ("PATH", "PDM_PYTHON", "PYTHONHOME", "PIP_TARGET", "OK"):
        (app.build.dirs.env / name).write_text("from-config")
    fp.keep_last_process(True)
    calls = recorded(fp)
    Pdm().install_dependencies(app)
    env = calls[1][1]
    assert env["OK"] == "from-config"
    assert [name for name in ("PATH", "PDM_PYTHON", "PYTHONHOME", "PIP_TARGET") if env.get(name) == "from-config"] == []


@pytest.mark.parametrize("files, refused", [
    ({"pdm.toml": "[install]\ncache = true\n"}, "pdm.toml"),
    ({"pdm.toml": 'install.cache = "on"\n'}, "pdm.toml"),
    ({".pdm.toml": "[install]\ncache = true\n"}, ".pdm.toml"),
    # The legacy file wins, as in PDM.
    ({"pdm.toml": "[install]\ncache = true\n", ".pdm.toml": "[install]\ncache = false\n"}, None),
    ({"pdm.toml": "[install]\ncache = false\n", ".pdm.toml": "[install]\ncache = 'yes'\n"}, ".pdm.toml"),
    ({"pdm.toml": '[install]\ncache = "False"\nparallel = true\n'}, None),
    ({"pdm.toml": "[python]\nuse_venv = true\n"}, None),
    ({"pdm.toml": "[install\n"}, None),  # PDM says what is wrong with it
    ({}, None),
])
def test_the_install_cache_is_refused(tmp_path, files, refused):
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    if refused is None:
        pdm.check_project_config(tmp_path)
        return
    with pytest.raises(BuildError) as error:
        pdm.check_project_config(tmp_path)
    assert (error.value.id, error.value.detail) == ("pdm::install-cache", refused)


def test_dependencies(tmp_path):
    (tmp_path / "pdm.lock").write_text('[[package]]\nname = "flask"\nversion = "3.1.3"\n')
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n[tool.pdm]\ndistribution = false\n")
    assert Pdm().dependencies(tmp_path).reinstall_reason is None
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    assert "project itself" in Pdm().dependencies(tmp_path).reinstall_reason
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n[tool.pdm]\ndistribution = false\n")
    for local in ('path = "./libs/mylib"', 'url = "file:///${PROJECT_ROOT}/x.whl"', 'git = "https://x/y.git"'):
        (tmp_path / "pdm.lock").write_text(f'[[package]]\nname = "mylib"\nversion = "1.0"\n{local}\n')
        assert "local paths or version control" in Pdm().dependencies(tmp_path).reinstall_reason
    # A summary that happens to say so isn't a source.
    (tmp_path / "pdm.lock").write_text('[[package]]\nname = "x"\nsummary = "path = \\"/\\" git = \\"y\\""\n')
    assert Pdm().dependencies(tmp_path).reinstall_reason is None


def test_pdm_reads_requires_python_as_pep_440(tmp_path):
    (tmp_path / ".python-version").write_text("3.12\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nrequires-python = '>=3.12,<3.14'\n")
    (found,) = Pdm().python_ranges(tmp_path)  # read even with a .python-version
    assert (found.key, found.text, found.allows("3.13.2"), found.allows("3.14.0")) == (
        "requires-python", ">=3.12,<3.14", True, False)
    assert Pdm().enforces_python_range
    (tmp_path / "pyproject.toml").write_text("[project]\nrequires-python = '^3.12'\n")
    with pytest.raises(BuildError) as error:
        Pdm().python_ranges(tmp_path)
    assert error.value.id == "pyproject-toml::invalid-python-range"
