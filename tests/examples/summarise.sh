#!/bin/sh
# summarise.sh: a stand-in summariser, the first three words
tr -s " " "\n" | head -n 3 | paste -sd" "
