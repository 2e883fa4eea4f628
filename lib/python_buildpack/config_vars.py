"""Settings the build reads: app config vars (ENV_DIR) and the build env.

Heroku passes an app's config vars only as files in ENV_DIR; herokuish and
dokku also put them in the build's environment. A setting is read from
ENV_DIR first (the app's own choice), then from the build environment (the
build system's). Values are never printed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional


# Config vars never exported to the app's code at build time (hooks,
# collectstatic, NLTK): they would break the build's own tools and paths.
PROTECTED_NAMES = frozenset({
    "PATH", "CPATH", "CPPATH", "LD_PRELOAD", "LIBRARY_PATH", "LD_LIBRARY_PATH", "PYTHONHOME",
    "GIT_DIR", "BUILD_DIR", "CACHE_DIR", "ENV_DIR",
})
_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class BuildConfig:
    env_dir: Optional[Path]
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def config_var(self, name: str) -> Optional[str]:
        """An app config var from ENV_DIR, or None."""
        if self.env_dir is None:
            return None
        path = self.env_dir / name
        try:
            value = path.read_text(encoding="utf-8", errors="replace").rstrip("\n")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
            return None
        # No environment variable can hold a NUL byte.
        return None if "\0" in value else value

    def get(self, name: str) -> Optional[str]:
        """A setting from ENV_DIR, else from the build environment; empty is unset."""
        value = self.config_var(name)
        if value is None:
            value = self.environ.get(name)
        return value or None

    def matching(self, pattern: str) -> dict[str, str]:
        """Settings whose names fully match `pattern`, from ENV_DIR and the env."""
        regex = re.compile(pattern)
        names = {name for name in self.environ if regex.fullmatch(name)}
        if self.env_dir is not None and self.env_dir.is_dir():
            names |= {p.name for p in self.env_dir.iterdir() if regex.fullmatch(p.name)}
        return {name: value for name in sorted(names) if (value := self.get(name))}

    def app_config(self) -> tuple[dict[str, str], list[str]]:
        """All config vars in ENV_DIR for the app's code, and the names left out."""
        config: dict[str, str] = {}
        ignored: list[str] = []
        if self.env_dir is None or not self.env_dir.is_dir():
            return config, ignored
        for path in sorted(self.env_dir.iterdir()):
            if not _VALID_NAME.fullmatch(path.name):
                continue
            if path.name in PROTECTED_NAMES:
                ignored.append(path.name)
                continue
            value = self.config_var(path.name)
            if value is not None:
                config[path.name] = value
        return config, ignored

    def seconds(self, name: str, default: float) -> float:
        value = self.get(name)
        try:
            number = float(value) if value is not None else default
        except ValueError:
            return default
        return number if number > 0 else default
