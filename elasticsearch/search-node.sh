#!/usr/bin/env bash
# One Elasticsearch node for development, CI and tests: Elasticsearch 7.10.2 in one JVM through the
# codelibs cluster runner, every jar from Maven Central (elasticsearch/pom.xml).
#
#   bash elasticsearch/search-node.sh --prepare           # resolve the artifacts and compile (no node)
#   bash elasticsearch/search-node.sh [PORT] [DATA_DIR]   # start a node; prints "search-node ready"
#                                                         # once the cluster is green
#   npm run elasticsearch                                 # the same: port 9200, data/elasticsearch
#
# The heap is ES_HEAP (default 1g, -Xms half of it). The transport port is PORT + 100. The data folder
# is kept: a node started again on it recovers its indices (from the translog after a kill -9).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
classpath="$here/target/classpath.txt"
if [ ! -s "$classpath" ] || [ "$here/pom.xml" -nt "$classpath" ] || [ "$here/src/main/java/eventanalytics/SearchNode.java" -nt "$classpath" ]; then
  mvn -B -q -f "$here/pom.xml" compile dependency:build-classpath -Dmdep.outputFile="$classpath"
fi
[ "${1:-}" = --prepare ] && exit 0
port=${1:-9200}
data=${2:-$here/../data/elasticsearch}
heap=${ES_HEAP:-1g}
mkdir -p "$data"
exec java "-Xmx$heap" -Xms512m -XX:+UseSerialGC -Dlog4j2.level=WARN \
  -cp "$here/target/classes:$(cat "$classpath")" eventanalytics.SearchNode "$port" "$((port + 100))" "$(cd "$data" && pwd)"
