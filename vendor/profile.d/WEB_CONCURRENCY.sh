# shellcheck shell=bash
# Default WEB_CONCURRENCY (gunicorn and uvicorn worker count) from the memory
# and CPUs the app may use, written by the Python buildpack.
#
# Memory: the cgroup limit (v2 memory.max, or v1 memory.limit_in_bytes: a
# Heroku dyno, or a dokku/Docker container's --memory); without a limit, the
# host's memory. CPUs: the cgroup CPU quota, else nproc. One worker per 256 MB,
# at most 2 per CPU plus one, at least 1: Standard-1X (512 MB) gets 2,
# Performance-M (2.5 GB, 2 CPUs) 5, Performance-L (14 GB, 8 CPUs) 17.
#
# A WEB_CONCURRENCY the user set is kept. Sourced under `set -eo pipefail`
# by herokuish: it never fails, exits or prints, and sourcing it twice
# changes nothing.

__python_web_concurrency() {
	local cgroup="${PYTHON_BUILDPACK_CGROUP_ROOT:-/sys/fs/cgroup}"
	local meminfo="${PYTHON_BUILDPACK_MEMINFO:-/proc/meminfo}"
	local limit="" quota="" period="" memory_mb="" cpus="" by_memory by_cpu

	if [[ -r "${cgroup}/memory.max" ]]; then
		limit=$(<"${cgroup}/memory.max")
	elif [[ -r "${cgroup}/memory/memory.limit_in_bytes" ]]; then
		limit=$(<"${cgroup}/memory/memory.limit_in_bytes")
	fi
	# No limit: v2's memory.max says "max", v1's memory.limit_in_bytes the
	# page counter's maximum in bytes (9223372036854771712 with 4 KB pages).
	if [[ "${limit}" =~ ^[0-9]+$ ]] && ((${#limit} < 16)); then
		memory_mb=$((limit / 1048576))
	elif [[ -r "${meminfo}" ]]; then
		memory_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' "${meminfo}" 2>/dev/null || true)
	fi

	if [[ -r "${cgroup}/cpu.max" ]]; then
		read -r quota period <"${cgroup}/cpu.max" || true
	elif [[ -r "${cgroup}/cpu/cpu.cfs_quota_us" && -r "${cgroup}/cpu/cpu.cfs_period_us" ]]; then
		quota=$(<"${cgroup}/cpu/cpu.cfs_quota_us")
		period=$(<"${cgroup}/cpu/cpu.cfs_period_us")
	fi
	# No quota: v2's cpu.max says "max", v1's cpu.cfs_quota_us -1 (kernel docs:
	# cgroup-v2, sched-bwc); then every CPU nproc counts.
	if [[ "${quota}" =~ ^[0-9]+$ && "${period}" =~ ^[1-9][0-9]*$ ]]; then
		cpus=$(((quota + period - 1) / period))
	else
		cpus=$(nproc 2>/dev/null || true)
	fi

	[[ "${memory_mb}" =~ ^[0-9]+$ && "${cpus}" =~ ^[1-9][0-9]*$ ]] || return 0
	by_memory=$((memory_mb / 256))
	((by_memory >= 1)) || by_memory=1
	by_cpu=$((cpus * 2 + 1))
	export DYNO_RAM="${memory_mb}"
	export WEB_CONCURRENCY=$((by_memory < by_cpu ? by_memory : by_cpu))
	export WEB_CONCURRENCY_SET_BY="python-buildpack"
}

if [[ -z "${WEB_CONCURRENCY+set}" ]]; then
	__python_web_concurrency || true
fi
unset -f __python_web_concurrency
