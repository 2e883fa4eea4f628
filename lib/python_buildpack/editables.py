"""Editable installs (`-e .`, `-e ./pkg`, VCS editables) after the build dir moves.

pip records an editable project by absolute path, in a `.pth` file, an
`.egg-link` or a setuptools `__editable___*_finder.py`. Paths into the
Python install (VCS checkouts in its src/) are rewritten to
/app/.heroku/python during the build already (point_at_app_python).
Paths into the build directory (the app's own packages) must stay valid
for later buildpacks in this build, so they are rewritten to $HOME when the
app starts, by a line in .profile.d.
"""

from __future__ import annotations

from pathlib import Path

from .python_location import APP_PYTHON_HOME, PythonLocation

_PATTERNS = ("*.pth", "*.egg-link", "__editable___*_finder.py")


def editable_files(install_dir: Path) -> list[Path]:
    return [
        path
        for pattern in _PATTERNS
        for path in sorted(install_dir.glob(f"lib/python3*/site-packages/{pattern}"))
        if path.is_file()
    ]


def point_at_app_python(location: PythonLocation) -> None:
    """Rewrite paths into the build's Python install to /app/.heroku/python.

    setuptools' PEP 660 editables record resolved paths (editable_wheel's
    Path.resolve()), so a checkout in /app/.heroku/python/src is written as the
    build dir's; a cached build keeps them, since Pipenv won't reinstall an
    editable VCS dependency (pypa/pipenv#6348).
    """
    if location.home == location.install_dir and location.link_problem is None:
        return  # building in /app itself
    old = str(location.install_dir.resolve())
    for path in editable_files(location.install_dir):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if old in text:
            path.write_text(text.replace(old, str(APP_PYTHON_HOME)), encoding="utf-8", errors="surrogateescape")


def runtime_fix(build_dir: Path, install_dir: Path) -> str:
    """A .profile.d snippet rewriting the build dir to $HOME, or "" if not needed."""
    old = str(build_dir)
    if not any(old in path.read_text(encoding="utf-8", errors="replace") for path in editable_files(install_dir)):
        return ""
    quoted = old.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")
    return f'''
# Editable installs name the build directory; point them at the app.
__python_build_dir="{quoted}"
if [ "${{HOME}}" != "${{__python_build_dir}}" ]; then
	for __python_file in "${{HOME}}"/.heroku/python/lib/python3*/site-packages/*.pth \\
		"${{HOME}}"/.heroku/python/lib/python3*/site-packages/*.egg-link \\
		"${{HOME}}"/.heroku/python/lib/python3*/site-packages/__editable___*_finder.py; do
		[ -f "${{__python_file}}" ] && grep -qF "${{__python_build_dir}}" "${{__python_file}}" 2>/dev/null &&
			sed -i "s#${{__python_build_dir}}#${{HOME}}#g" "${{__python_file}}" 2>/dev/null || true
	done
	unset __python_file
fi
unset __python_build_dir
'''
