# Runtime environment for the app's Python, written by the Python buildpack.
#
# Heroku, herokuish and dokku source this at start-up, after the app's config
# vars are set, as whichever user runs the app, and herokuish does it under
# `set -eo pipefail`: so it never exits, prints or fails, only defaults what
# the user can override (PYTHONHOME apart), and sourcing it twice changes
# nothing.

__python_home="${HOME}/.heroku/python"

case ":${PATH:-}:" in
*":${__python_home}/bin:"*) ;;
*) export PATH="${__python_home}/bin${PATH:+:${PATH}}" ;;
esac
case ":${LD_LIBRARY_PATH:-}:" in
*":${__python_home}/lib:"*) ;;
*) export LD_LIBRARY_PATH="${__python_home}/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}" ;;
esac
case ":${LIBRARY_PATH:-}:" in
*":${__python_home}/lib:"*) ;;
*) export LIBRARY_PATH="${__python_home}/lib${LIBRARY_PATH:+:${LIBRARY_PATH}}" ;;
esac

# Always the app's Python, whatever a config var says: a stale PYTHONHOME
# (copied from another app or an older setup) would stop python from starting.
export PYTHONHOME="${__python_home}"
export PYTHONUNBUFFERED=true
export LANG="${LANG:-C.UTF-8}"
export PYTHONPATH="${PYTHONPATH:-${HOME}}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

# Installed scripts start with #!/app/.heroku/python/bin/python. When the app
# runs from another directory (HOME isn't /app), point that path at it.
if [ "${HOME}" != "/app" ] && [ ! -e /app/.heroku/python ]; then
	{ mkdir -p /app/.heroku && ln -nsf "${__python_home}" /app/.heroku/python; } 2>/dev/null || true
fi

unset __python_home
