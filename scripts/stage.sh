#!/usr/bin/env bash
# Runs one named build stage and says how long it took, so CI logs show where
# the time goes.
#
#   scripts/stage.sh NAME COMMAND [ARG...]   run a stage; exit with its status
#   scripts/stage.sh --summary FILE T0       print the stages recorded in FILE
#                                            (and the total since T0), exit 1 if any failed
#
# When STAGE_SUMMARY names a file, each stage appends "NAME STATUS SECONDS" to it.
set -uo pipefail

if [[ ${1-} == --summary ]]; then
    file=$2 t0=$3
    failed=0
    echo "==== summary"
    while read -r name status secs; do
        if [[ $status == 0 ]]; then
            printf '  %-13s ok      %4ss\n' "$name" "$secs"
        else
            printf '  %-13s FAILED  %4ss  (exit %s)\n' "$name" "$secs" "$status"
            failed=1
        fi
    done <"$file"
    rm -f "$file"
    printf '  %-13s         %4ss\n' total $(($(date +%s) - t0))
    if ((failed)); then
        echo "==== FAILED"
        exit 1
    fi
    echo "==== OK"
    exit 0
fi

name=$1
shift
echo "==== $name: $*"
start=$(date +%s)
"$@"
status=$?
secs=$(($(date +%s) - start))
if ((status == 0)); then
    echo "==== $name: ok in ${secs}s"
else
    echo "==== $name: FAILED (exit $status) after ${secs}s"
fi
if [[ -n ${STAGE_SUMMARY-} ]]; then
    echo "$name $status $secs" >>"$STAGE_SUMMARY"
fi
exit "$status"
