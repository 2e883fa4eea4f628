from __future__ import annotations

import os

import pytest

from python_buildpack import pip
from python_buildpack.errors import BuildError
from python_buildpack.package_manager import LockedFile
from python_buildpack.pip import Pip
from conftest import POETRY_PYPROJECT, fake_install, make_context, uv_installed


def inspect(tmp_path, files):
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    return pip.inspect_requirements(tmp_path)


@pytest.mark.parametrize("content", [
    "", "flask==3.1.3\n", "# comment\nflask>=3 ; python_version >= '3.8'  # why\n",
    "--index-url https://pypi.example.com/simple\nflask\n",
    "requests[socks]==2.32\n--hash=sha256:abc\n", "-f https://example.com/wheels\nnumpy\n",
])
def test_reusable_requirements(tmp_path, content):
    assert inspect(tmp_path, {"requirements.txt": content}).reinstall_reason is None


@pytest.mark.parametrize("content, reason", [
    ("-e .\n", "editable"),
    ("--editable ./pkg\n", "editable"),
    ("./vendor/mypkg\n", "path or URL"),
    ("mypkg @ file:///tmp/mypkg\n", "path or URL"),
    ("git+https://github.com/org/repo.git@main#egg=repo\n", "path or URL"),
    ("https://example.com/pkg-1.0.tar.gz\n", "path or URL"),
    ("pkg-1.0-py3-none-any.whl\n", "path or URL"),
    ("-f ./wheels\nmypkg\n", "local directory"),
    ("-r missing.txt\n", "can't be read"),
    ("-r https://example.com/reqs.txt\n", "by URL"),
])
def test_requirements_that_must_be_reinstalled(tmp_path, content, reason):
    assert reason in inspect(tmp_path, {"requirements.txt": content}).reinstall_reason


def test_fingerprint_covers_included_files(tmp_path):
    first = inspect(tmp_path, {"requirements.txt": "-r requirements/base.txt\n-c constraints.txt\n",
                               "requirements/base.txt": "flask\n-r ../requirements.txt\n",
                               "constraints.txt": "flask<4\n"})
    assert first.reinstall_reason is None
    assert inspect(tmp_path, {}).fingerprint == first.fingerprint
    second = inspect(tmp_path, {"requirements/base.txt": "flask\ngunicorn\n"})
    third = inspect(tmp_path, {"constraints.txt": "flask<3\n"})
    assert len({first.fingerprint, second.fingerprint, third.fingerprint}) == 3


def test_line_continuations(tmp_path):
    result = inspect(tmp_path, {"requirements.txt": "flask==3.1.3 \\\n    --hash=sha256:abc\n"})
    assert result.reinstall_reason is None


PIP = pip.Pip()


@pytest.fixture
def location(tmp_path):
    return fake_install(tmp_path, "pip-9.0.1-py3-none-any.whl", "pip-23.2.1-py3-none-any.whl")


def context_for(tmp_path, location, env=None, installer="pip", environ=None, **build_options):
    """An install context; PYTHON_INSTALLER=pip unless `installer` says otherwise."""
    environ = {**(environ or {}), **({"PYTHON_INSTALLER": installer} if installer else {})}
    context = make_context(tmp_path, location, env, environ=environ, **build_options)
    requirements = context.build_dir / "requirements.txt"
    if not requirements.exists():
        requirements.write_text("flask\n")
    return context


def installs_pip(location):
    """A fake pip run that installs the pinned pip."""
    def install(process):
        site_packages = location.install_dir / "lib/python3.12/site-packages"
        for old in site_packages.glob("pip-*.dist-info"):
            old.rmdir()
        (site_packages / f"pip-{PIP.version}.dist-info").mkdir()
        process._finish_process()  # a callback replaces pytest-subprocess's own finishing
    return install


def test_install_pip_uses_the_bundled_wheel_in_a_clean_environment(tmp_path, location, fp):
    home = location.home
    wheel = home / "lib/python3.12/ensurepip/_bundled/pip-23.2.1-py3-none-any.whl"
    context = context_for(tmp_path, location)
    fp.register([str(home / "bin/python"), str(wheel / "pip"), "install", "--disable-pip-version-check",
                 f"--cache-dir={context.pip_cache_dir}", "--no-input", "--quiet", "--no-warn-script-location",
                 "--no-compile", f"pip=={PIP.version}"], callback=installs_pip(location))
    PIP.install_tool(context)
    (call,) = fp.calls
    assert fp.call_count(call) == 1


def test_install_pip_environment(tmp_path, location, fp):
    seen = {}

    def record(process):
        seen.update(process.kwargs["env"])
        installs_pip(location)(process)

    fp.register([fp.any()], callback=record)
    env = {"PATH": "/usr/bin", "PIP_REQUIRE_VIRTUALENV": "1", "SSL_CERT_FILE": "/ca.pem"}
    PIP.install_tool(context_for(tmp_path, location, env, environ={"PIP_INDEX_URL": "https://private/simple"}))
    assert seen["PIP_CONFIG_FILE"] == os.devnull
    assert seen["PIP_CERT"] == "/ca.pem"
    assert seen["PIP_INDEX_URL"] == "https://private/simple"
    assert "PIP_REQUIRE_VIRTUALENV" not in seen


def test_install_pip_is_skipped_once_installed(tmp_path, location, fp, capsys):
    fp.register([fp.any()], callback=installs_pip(location))
    context = context_for(tmp_path, location)
    PIP.install_tool(context)
    assert f"Installing pip {PIP.version}" in capsys.readouterr().out
    PIP.install_tool(context)
    assert f"Using cached pip {PIP.version}" in capsys.readouterr().out
    assert len(fp.calls) == 1


def test_pip_the_app_replaced_is_installed_again(tmp_path, location, fp, capsys):
    fp.register([fp.any()], callback=installs_pip(location))
    fp.register([fp.any()], callback=installs_pip(location))
    context = context_for(tmp_path, location)
    PIP.install_tool(context)
    # requirements.txt pinned another pip
    site_packages = location.install_dir / "lib/python3.12/site-packages"
    (site_packages / f"pip-{PIP.version}.dist-info").rename(site_packages / "pip-9.0.dist-info")
    PIP.install_tool(context)
    assert f"Installing pip {PIP.version}" in capsys.readouterr().out.split("\n", 1)[1]
    assert len(fp.calls) == 2


def test_a_kept_install_keeps_the_pip_its_requirements_pinned(tmp_path, location, fp, capsys):
    # The restored install is kept as the last build (same files) left it,
    # with the pip its requirements.txt installed over the pinned one.
    site_packages = location.install_dir / "lib/python3.12/site-packages"
    (site_packages / "pip-25.0.dist-info").mkdir()
    context = context_for(tmp_path, location)
    context.install_kept = True
    PIP.install_tool(context)
    assert "Using cached pip 25.0, as the last build left it" in capsys.readouterr().out
    assert not fp.calls
    # Not kept (the dependencies are installed again): the pinned pip first.
    fp.register([fp.any()], callback=installs_pip(location))
    context.install_kept = False
    PIP.install_tool(context)
    assert f"Installing pip {PIP.version}" in capsys.readouterr().out and len(fp.calls) == 1


def test_install_pip_failure(tmp_path, location, fp, capsys):
    fp.register([fp.any()], stdout=f"ERROR: No matching distribution found for pip=={PIP.version}", returncode=1)
    with pytest.raises(BuildError) as error:
        PIP.install_tool(context_for(tmp_path, location))
    assert (error.value.id, error.value.detail) == ("install-package-manager::pip", PIP.version)
    assert "No matching distribution" in capsys.readouterr().out


def test_no_bundled_pip(tmp_path, location):
    for wheel in location.install_dir.glob("lib/python3.12/ensurepip/_bundled/*"):
        wheel.unlink()
    with pytest.raises(BuildError) as error:
        PIP.install_tool(context_for(tmp_path, location))
    assert error.value.id == "internal-error::bundled-pip-not-found"


def test_install_dependencies(location, fp, tmp_path, capsys):
    home = location.home
    context = context_for(tmp_path, location, {})
    args = [str(home / "bin/python"), "-m", "pip", "install", "-r", "requirements.txt", "--no-input",
            "--progress-bar=off", "--exists-action=w", "--root-user-action=ignore",
            f"--src={home / 'src'}", f"--cache-dir={context.pip_cache_dir}"]
    fp.register(args, stdout="Requirement already satisfied: flask in /app/.heroku/python/lib/python3.12/site-packages (3.1.3)\n")
    PIP.install_dependencies(context)
    out = capsys.readouterr().out
    assert "-----> Installing dependencies using 'pip install -r requirements.txt'" in out
    assert "       Requirement already satisfied: flask (3.1.3)" in out


def test_install_dependencies_failure(location, fp, tmp_path, capsys):
    fp.register([fp.any()], stdout="ERROR: Could not find a version that satisfies the requirement nope==1\n", returncode=1)
    with pytest.raises(BuildError) as error:
        PIP.install_dependencies(context_for(tmp_path, location, {}))
    assert error.value.id == "install-dependencies::pip"
    assert "Could not find a version" in capsys.readouterr().out


def test_pip_reads_requires_python_only_when_no_file_names_a_version(tmp_path):
    from python_buildpack.pip import Pip

    (tmp_path / "pyproject.toml").write_text("[project\n")
    (tmp_path / ".python-version").write_text("3.12\n")
    assert Pip().python_ranges(tmp_path) == () and not Pip().enforces_python_range
    (tmp_path / ".python-version").unlink()
    (tmp_path / "pyproject.toml").write_text(POETRY_PYPROJECT)
    assert [r.text for r in Pip().python_ranges(tmp_path)] == [">=3.11"]


# --- uv, the default installer ------------------------------------------------

def test_uv_is_the_default_installer(tmp_path, location, fp, capsys):
    context = context_for(tmp_path, location, {"PATH": "/usr/bin"}, installer=None,
                          environ={"PIP_EXTRA_INDEX_URL": "https://u:secret@private.example/simple",
                                   "PIP_FIND_LINKS": "/wheels /more", "UV_INDEX_STRATEGY": "unsafe-best-match"})
    binary = uv_installed(context)
    seen = []

    def record(process):
        seen.append((process.args, process.kwargs["env"]))
        if "pip==" + PIP.version in process.args:
            installs_pip(location)(process)
        else:
            process._finish_process()

    fp.register([fp.any()], callback=record, occurrences=2)
    PIP.install_tool(context)
    PIP.install_dependencies(context)
    (tool_args, _), (args, env) = seen
    assert tool_args[:6] == [str(binary), "pip", "install", "--no-config", "--python", str(location.python)]
    assert args == [str(binary), "pip", "install", "-r", "requirements.txt", "--no-config",
                    "--python", str(location.python),
                    "--compile-bytecode", "--no-progress", "--color=never"]
    assert env["UV_INDEX"] == "https://u:secret@private.example/simple"
    assert env["UV_FIND_LINKS"] == "/wheels,/more"
    assert env["UV_INDEX_STRATEGY"] == "unsafe-best-match"
    assert env["UV_CACHE_DIR"] == str(context.build.cache.root / "uv-cache")
    out = capsys.readouterr().out
    assert "-----> Installing dependencies using 'uv pip install -r requirements.txt'" in out
    assert "secret" not in out


def test_pips_other_settings_reach_uv_as_uvs(tmp_path, location, fp):
    home = tmp_path / "home"
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text("[global]\ncert = /builder-ca.pem\ndefault-timeout = 90\n")
    context = context_for(tmp_path, location, {"PATH": "/usr/bin", "HOME": str(home)}, installer=None,
                          environ={"HOME": str(home), "PIP_CONSTRAINT": "constraints.txt", "PIP_PRE": "true",
                                   "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert pip.choose_installer(context.build) == ("uv", None)
    uv_installed(context)
    seen = []
    fp.register([fp.any()], callback=lambda process: (seen.append(process.kwargs["env"]), process._finish_process()))
    PIP.install_dependencies(context)
    (env,) = seen
    assert {name: env.get(name) for name in ("UV_CONSTRAINT", "UV_PRERELEASE", "SSL_CERT_FILE", "UV_HTTP_TIMEOUT")} == {
        "UV_CONSTRAINT": "constraints.txt", "UV_PRERELEASE": "allow", "SSL_CERT_FILE": "/builder-ca.pem",
        "UV_HTTP_TIMEOUT": "90"}


def test_a_pip_setting_uv_has_no_equivalent_for_is_installed_with_pip(tmp_path, location):
    context = context_for(tmp_path, location, installer=None, environ={"PIP_ONLY_BINARY": ":all:"})
    assert pip.choose_installer(context.build) == ("pip", (
        "Installing with pip: PIP_ONLY_BINARY is set, a pip setting uv has no equivalent for "
        "(without it, uv installs)."))
    # As config vars (ENV_DIR), pip never sees them (only its index settings).
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "PIP_ONLY_BINARY").write_text(":all:")
    assert pip.choose_installer(context_for(tmp_path, location, installer=None, env_dir=env_dir).build) == ("uv", None)


def test_a_failed_uv_install_says_how_to_switch_to_pip(tmp_path, location, fp):
    context = context_for(tmp_path, location, installer=None)
    uv_installed(context)
    fp.register([fp.any()], stdout="error: No solution found\n", returncode=1)
    with pytest.raises(BuildError) as error:
        PIP.install_dependencies(context)
    assert error.value.id == "install-dependencies::pip"
    assert "PYTHON_INSTALLER=pip" in error.value.body


def test_an_editable_vcs_requirement_is_installed_with_pip(tmp_path, location):
    context = context_for(tmp_path, location, installer=None)
    (context.build_dir / "requirements.txt").write_text("-r base.txt\n")
    (context.build_dir / "base.txt").write_text("-e git+https://example.com/repo.git#egg=repo\n")
    installer, why = pip.choose_installer(context.build)
    assert installer == "pip" and "base.txt has an editable requirement from version control" in why
    (context.build_dir / "base.txt").write_text("-e ./pkg\ngit+https://example.com/repo.git#egg=repo\n")
    assert pip.choose_installer(context_for(tmp_path, location, installer=None).build) == ("uv", None)  # the next build


@pytest.mark.parametrize("value, expected", [("pip", "pip"), (" UV ", "uv"), ("", "uv")])
def test_the_installer_setting(tmp_path, location, value, expected):
    assert pip.choose_installer(context_for(tmp_path, location, installer=value).build)[0] == expected


def test_an_unknown_installer_is_an_error(tmp_path, location):
    with pytest.raises(BuildError) as error:
        pip.choose_installer(context_for(tmp_path, location, installer="conda").build)
    assert (error.value.id, error.value.detail) == ("config::invalid-installer", "conda")


def test_the_installer_is_part_of_the_cache_key(tmp_path, location):
    (tmp_path / "build" / "requirements.txt").write_text("six\n")
    with_uv = PIP.dependencies_key(context_for(tmp_path, location, installer=None).build)[0]
    with_pip = PIP.dependencies_key(context_for(tmp_path, location).build)[0]
    assert (with_uv.installer, with_pip.installer) == ("uv", "pip")
    assert with_uv.reinstall_reasons(with_pip) == ["The installer has changed from pip to uv"]


@pytest.mark.parametrize("line, pip_needed", [
    ("six==${SIX_VERSION}\n", True),
    ("${PACKAGE}==1.0\n", True),
    ("private @ https://${TOKEN}@example.com/p.whl\n", False),
    ("-e ./${LOCAL_DIR}\n", False),
    ("--extra-index-url https://u:${TOKEN}@example.com/simple\nsix\n", False),
    ("six==1.17.0  # ${NOT_A_REQUIREMENT} in a comment\n", False),
])
def test_a_variable_in_a_requirement_itself_is_installed_with_pip(tmp_path, location, line, pip_needed):
    context = context_for(tmp_path, location, installer=None)
    (context.build_dir / "requirements.txt").write_text(line)
    installer, why = pip.choose_installer(context.build)
    assert (installer == "pip") == pip_needed
    assert pip_needed == bool(why and "${VAR} in a requirement itself" in why)


def test_one_hash_puts_uv_in_hash_checking_mode(tmp_path, location, fp):
    context = context_for(tmp_path, location, installer=None)
    uv_installed(context)
    seen = []
    fp.register([fp.any()], callback=lambda process: (seen.append(process.args), process._finish_process()),
                occurrences=2)
    (context.build_dir / "requirements.txt").write_text("six==1.17.0 \\\n    --hash=sha256:abc\nidna==3.10\n")
    PIP.install_dependencies(context)
    (context.build_dir / "requirements.txt").write_text("six==1.17.0\n")
    PIP.install_dependencies(context_for(tmp_path, location, installer=None))  # the next build
    assert "--require-hashes" in seen[0] and "--require-hashes" not in seen[1]


def test_a_local_find_links_in_an_included_file_is_installed_with_pip(tmp_path, location):
    context = context_for(tmp_path, location, installer=None)
    (context.build_dir / "requirements.txt").write_text("--find-links ./wheels\n-r base.txt\n")
    (context.build_dir / "base.txt").write_text("six\n")
    assert pip.choose_installer(context.build) == ("uv", None)
    (context.build_dir / "base.txt").write_text("--find-links ./wheels\nsix\n")
    installer, why = pip.choose_installer(context_for(tmp_path, location, installer=None).build)  # the next build
    assert installer == "pip" and "base.txt has a --find-links to a local directory" in why


def test_the_hashes_of_each_requirement(tmp_path):
    build = make_context(tmp_path, fake_install(tmp_path)).build
    (build.app_dir / "requirements.txt").write_text(
        "# a comment --hash=sha256:00\nRequests[socks] == 2.32.5 ; python_version >= '3.9' \\\n"
        "    --hash=sha256:AA --hash sha256:bb  # why\n"
        "typing_extensions --hash=sha256:cc\n-c constraints.txt\nsix==1.17.0\n--hash=sha256:dd\n")
    (build.app_dir / "constraints.txt").write_text("idna===3.10 --hash=sha384:ee\n")
    assert Pip().locked_files(build) == {
        "requests": [LockedFile("sha256:AA", "2.32.5"), LockedFile("sha256:bb", "2.32.5")],
        "typing-extensions": [LockedFile("sha256:cc")],
        "idna": [LockedFile("sha384:ee", "3.10")],
    }


def test_an_app_in_a_subdirectory_is_installed_from_there(tmp_path, location, fp, capsys):
    context = context_for(tmp_path, location, {}, app_path="backend")
    app = context.build.dirs.build / "backend"
    assert context.build_dir == app
    (app / "requirements.txt").write_text("-r requirements/base.txt\n-e ./localpkg\n")
    (app / "requirements").mkdir()
    (app / "requirements" / "base.txt").write_text("flask\n")
    key, reason = PIP.dependencies_key(context.build)
    assert reason == "requirements.txt has an editable requirement"
    (app / "requirements" / "base.txt").write_text("flask==3.1.3\n")
    assert PIP.dependencies_key(context.build)[0] != key  # the included file, read from backend/
    seen = []
    site_packages = context.build.dirs.build / ".heroku/python/lib/python3.12/site-packages"
    fp.register([fp.any()], stdout=f"Requirement already satisfied: flask in {site_packages} (3.1.3)\n",
                callback=lambda process: (seen.append(process.kwargs["cwd"]), process._finish_process()))
    PIP.install_dependencies(context)
    assert seen == [app]  # relative paths (-r, -e ./localpkg) resolve from the app's directory
    assert "       Requirement already satisfied: flask (3.1.3)" in capsys.readouterr().out
