#!/bin/sh
# Sets up a fresh Debian 12 machine (as root), builds bws and runs it in the foreground on the
# bundled example configuration (examples/bws.example.toml: two sites on 127.0.0.1:8080).
# Stop it with Ctrl-C.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/scripts/dev/install-deps.sh"
cmake -S "$top" -B "$top/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBWS_BUILD_TESTS=OFF
cmake --build "$top/build" --target bws
echo "bws: serving examples/bws.example.toml; try:"
echo "  curl http://127.0.0.1:8080/            (site main)"
echo "  curl -H 'Host: blog.localhost' http://127.0.0.1:8080/   (site blog)"
echo "  curl http://127.0.0.1:8080/health"
exec "$top/build/bws" -c "$top/examples/bws.example.toml"
