#!/usr/bin/env bash
# Re-creates vendor/python/ from the pins in vendor/requirements.txt (run by
# `make vendor`). PYTHON names the interpreter whose pip does the install.
#
# Only pure-Python wheels, checked against their hashes, without their
# dependencies (each vendored library is listed itself) and without .pyc
# files (Python writes __pycache__ when the buildpack runs; git ignores it).
# The wheels' metadata is dropped, except their licence files, which go to
# vendor/python/LICENSES/<project>/.
set -euo pipefail

vendor_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
target="${vendor_dir}/python"
python="${PYTHON:-python3}"

rm -rf "${target}"
# --platform/--implementation/--abi/--python-version: pick the wheels that
# run on the oldest build image's Python (3.10), never a compiled one.
"${python}" -m pip install --quiet --disable-pip-version-check --no-input \
	--target "${target}" --no-deps --require-hashes --only-binary=:all: --no-compile \
	--platform any --implementation py --abi none --python-version 3.10 \
	--requirement "${vendor_dir}/requirements.txt"

for dist_info in "${target}"/*.dist-info; do
	project=$(basename "${dist_info}" .dist-info)
	project=${project%-*}
	licenses="${target}/LICENSES/${project}"
	mkdir -p "${licenses}"
	if [[ -d "${dist_info}/licenses" ]]; then
		cp -R "${dist_info}/licenses/." "${licenses}/"
	else
		cp "${dist_info}"/LICEN[CS]E* "${dist_info}"/COPYING* "${licenses}/" 2>/dev/null || true
	fi
	if [[ -z "$(ls -A "${licenses}")" ]]; then
		echo "No licence file in ${dist_info}" >&2
		exit 1
	fi
	rm -rf "${dist_info}"
done
rm -rf "${target:?}/bin"

if find "${target}" -name '__pycache__' -o -name '*.pyc' | grep -q .; then
	echo "Compiled files in ${target}" >&2
	exit 1
fi
echo "Vendored into ${target}:"
ls -1 "${target}"
