#!/usr/bin/env bash
# The API reference: Doxygen over the public headers (include/resnet/, docs/Doxyfile) into
# build-docs/html/ (open build-docs/html/index.html). Installs Debian's doxygen when missing. Not part of
# the tests. Prints how many warnings doxygen gave (all in build-docs/warnings.log).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
install_missing docs.sh doxygen
export RESNET_VERSION="$(sed -n 's/^project(resnet_cpp VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
export RESNET_DOCS_DIR=build-docs
rm -rf "$RESNET_DOCS_DIR"
mkdir -p "$RESNET_DOCS_DIR"
start=$SECONDS
doxygen docs/Doxyfile
warnings="$(grep -c 'warning:' "$RESNET_DOCS_DIR/warnings.log" || true)"
echo "docs.sh: API reference of resnet.cpp $RESNET_VERSION in $RESNET_DOCS_DIR/html/index.html" \
  "($((SECONDS - start)) s, $warnings doxygen warnings: $RESNET_DOCS_DIR/warnings.log)"
