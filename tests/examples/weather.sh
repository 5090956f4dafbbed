#!/bin/sh
# weather.sh: a stand-in tool
cat > /dev/null
echo "{\"forecast\": \"sunny\"}"
