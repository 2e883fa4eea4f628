# shellcheck shell=bash
# gunicorn defaults, written by the Python buildpack; a config var wins.
# Trust X-Forwarded-* headers from the platform's router, and log requests
# to stdout: gunicorn trusts them only from 127.0.0.1,::1 and keeps no access
# log by default (gunicorn settings: forwarded_allow_ips, accesslog).
# Safe under `set -eo pipefail`; sourcing it twice changes nothing.
export FORWARDED_ALLOW_IPS="${FORWARDED_ALLOW_IPS:-*}"
export GUNICORN_CMD_ARGS="${GUNICORN_CMD_ARGS:---access-logfile -}"
