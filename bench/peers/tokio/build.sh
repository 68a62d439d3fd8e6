#!/bin/sh
# Builds the Tokio benchmark peer offline from Debian's packaged crates and
# prints the path of the binary. Needs (Debian 12):
#   apt-get install -y cargo librust-tokio-dev librust-tokio-stream-dev librust-async-stream-dev
set -eu
cd "$(dirname "$0")"
cargo build --release --offline >&2
echo "$(pwd)/target/release/tokio_bench"
