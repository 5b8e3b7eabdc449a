#!/bin/bash -eu
# build.sh: ClusterFuzzLite's build is OSS-Fuzz's (ci/oss-fuzz/build.sh).
exec "$SRC/instar/ci/oss-fuzz/build.sh"
