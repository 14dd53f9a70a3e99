#!/bin/bash
# Submits the job array of 4 shards of `default`, then the merge job, which waits for every
# shard to succeed (--dependency=afterok). Run it from anywhere; it works in its own folder.
# Resubmitting after a timeout continues each shard where it stopped.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p logs parts
array=$(sbatch --parsable shards.sbatch)
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" merge.sbatch)
echo "submitted job array $array (4 shards) and merge job ${merge%%;*}; results in $(pwd)/results"
