#!/usr/bin/env bash
# Runs the buildpack's Python code (lib/main.py) for bin/detect, bin/compile
# and bin/release on the build image's own python3 (3.10 or newer).
#
# `python3 -I` isolates it from the app's environment: dokku passes every
# config var to the build, and PYTHONPATH, PYTHONHOME, PYTHONSTARTUP, user
# site-packages and the like must not change how the buildpack itself runs.
set -euo pipefail

lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

find_python() {
	local candidate
	for candidate in /usr/bin/python3 /usr/local/bin/python3 "$(command -v python3 || true)"; do
		[[ -n "${candidate}" && -x "${candidate}" ]] || continue
		if named_new_enough "${candidate}" || "${candidate}" -I -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
			echo "${candidate}"
			return 0
		fi
	done
	return 1
}

# Whether the python3 is a link to a python3.X (X >= 10), as a build image's
# is: its name tells the version without starting an interpreter to ask (a
# start-up that every bin/compile, bin/detect and bin/release would pay).
named_new_enough() {
	local target
	target=$(readlink -f "$1") || return 1
	[[ "${target}" =~ /python3\.([0-9]+)$ && -x "${target}" ]] && ((BASH_REMATCH[1] >= 10))
}

if ! python=$(find_python); then
	cat >&2 <<-'MESSAGE'

		 !     Error: The Python buildpack can't find a usable python3.
		 !
		 !     The buildpack runs on the build image's own Python 3.10 or newer
		 !     (/usr/bin/python3), and none was found. The Heroku build images
		 !     (heroku/heroku:22-build and newer) and gliderlabs/herokuish have it:
		 !     use one of them, or install python3 (3.10+) in your build image.

	MESSAGE
	exit 1
fi

exec "${python}" -I "${lib_dir}/main.py" "$@"
