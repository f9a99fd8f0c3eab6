#!/bin/sh
# sweep.sh: dssim sweep, top, compare and db as a user runs them — the database a sweep
# leaves, resume, shards and merge, kill -9 in the middle of a sweep (integrity stays ok and
# a rerun completes it), and clear errors with exit status 2 for bad specs and queries.
# With MPIRUN set (CI after ./configure --with-mpi) the sweep also runs over 2 MPI ranks.
# Prints one line per check and closes with "N passed, N failed".
set -u
suite=sweep
. "$(dirname "$0")/lib.sh"

# same NAME GOT WANT
same() {
	if [ "$2" = "$3" ]; then ok "$1 = $3"; else bad "$1: got '$2', expected '$3'"; fi
}
# points DB: "stored" count printed by dssim db check
points() {
	"$dssim" db check "$1" 2>/dev/null | sed -n 's/.*points \([0-9]*\),.*/\1/p'
}
# stored DB: the database holds a point (a sweep has committed its first transaction).
stored() { [ "$(points "$1")" != "" ] && [ "$(points "$1")" != 0 ]; }

cd "$top_src" || exit 1

# The spec of test_sweep.c counted by hand: 22 points of 32B on one p4de.24xlarge.
spec="$out/spec.yaml"
cat >"$spec" <<YAML
base: $top_src/scenarios/32b_zero3.yaml
axes:
  cluster.nodes: [1]
  strategy: {auto: true, tp: [1, 2, 4, 8], pp: [1, 2], zero: [1, 3],
             micro_batch: [1, 2], recompute: [full], schedule: [1f1b]}
YAML

expect 0 sweep_help "$dssim" sweep --help
has sweep_help out "--shard K/N"
expect 2 sweep_no_db "$dssim" sweep "$spec"
expect 0 sweep "$dssim" sweep -q -j 2 --analytic "$spec" --db "$out/a.db"
has sweep out "22 points stored"
same "points in a.db" "$(points "$out/a.db")" 22
expect 0 db_check "$dssim" db check "$out/a.db"
has db_check out "integrity: ok"

# What strategy: auto left out, counted by hand in test_sweep.c (test_skips_counted_by_reason):
# 128 configurations, 22 points, 106 left out; the same in the text, the JSON and the skips
# table, whether one process counts them or the writer of forked workers.
has sweep out "left out by strategy: auto, 106 configurations:"
has sweep out "  no host memory or PCIe figure for offload: 38"
has sweep out "  parameter offload needs ZeRO-3: 28"
has sweep out "  ZeRO-2/3 with pp > 1 (DeepSpeed refuses it): 24"
has sweep out "  tp*pp*cp does not divide the GPUs: 16"
expect 0 sweep_json "$dssim" sweep -q -j 1 --analytic -f json "$spec" --db "$out/j.db"
has sweep_json out '"left_out": {"no host memory or PCIe figure for offload": 38, "parameter offload needs ZeRO-3": 28, "ZeRO-2/3 with pp > 1 (DeepSpeed refuses it)": 24, "tp*pp*cp does not divide the GPUs": 16}'
has sweep_json out '"misfits": {"device memory": '
if command -v sqlite3 >/dev/null 2>&1; then
	same "skips in a.db" "$(sqlite3 "$out/a.db" 'SELECT sum(count) || "/" || count(*) FROM skips')" "106/4"
	same "skips in j.db" "$(sqlite3 "$out/j.db" "SELECT count FROM skips WHERE reason = 'parameter offload needs ZeRO-3'")" 28
fi

# Resume: the second run stores nothing new.
expect 0 resume "$dssim" sweep -q -j 2 --analytic "$spec" --db "$out/a.db"
has resume out "22 points were stored already"
same "points after resume" "$(points "$out/a.db")" 22

# Shards are disjoint and merge into the whole, without duplicates.
expect 0 shard1 "$dssim" sweep -q -j 1 --analytic --shard 1/2 "$spec" --db "$out/s1.db"
expect 0 shard2 "$dssim" sweep -q -j 1 --analytic --shard 2/2 "$spec" --db "$out/s2.db"
same "points in shard 1" "$(points "$out/s1.db")" 11
expect 0 merge "$dssim" db merge "$out/m.db" "$out/s1.db" "$out/s2.db"
has merge out "s2.db: 11 points added"
same "points merged" "$(points "$out/m.db")" 22
if command -v sqlite3 >/dev/null 2>&1; then
	# Each shard counts what the whole spec left out; its rows come with its sweep.
	same "skips merged" "$(sqlite3 "$out/m.db" 'SELECT count(DISTINCT sweep_id) || "/" || sum(count) FROM skips')" "2/212"
fi
expect 0 merge_again "$dssim" db merge "$out/m.db" "$out/s1.db"
has merge_again out "0 points added"
expect 2 bad_shard "$dssim" sweep --shard 3/2 "$spec" --db "$out/x.db"

# Queries.
expect 0 top "$dssim" top --db "$out/a.db" -n 3 --by analytic_peak --format csv
same "top csv lines" "$(wc -l <"$out/top.out" | tr -d ' ')" 4
has top out "analytic_peak"
expect 0 top_json "$dssim" top --db "$out/a.db" -n 2 --where "fits and tp = 8" --format json
has top_json out '"tp": 8'
expect 2 top_bad_by "$dssim" top --db "$out/a.db" --by tokens
has top_bad_by err "no column 'tokens'"
expect 2 top_bad_where "$dssim" top --db "$out/a.db" --where "tp <="
expect 1 top_no_db "$dssim" top --db "$out/none.db"
expect 0 schema "$dssim" db schema
has schema out "CREATE TABLE IF NOT EXISTS points"
has schema out "-- FNV-1a 64"

# compare: a scenario file (simulated now) against a stored point.
expect 0 compare "$dssim" compare --db "$out/a.db" scenarios/32b_zero3.yaml 1
has compare out "tokens_per_s"
has compare out "vs scenarios/32b_zero3.yaml"
expect 0 compare_csv "$dssim" compare --format csv scenarios/32b_zero3.yaml scenarios/32b_zero3.yaml
same "compare csv lines" "$(wc -l <"$out/compare_csv.out" | tr -d ' ')" 3
expect 2 compare_id_no_db "$dssim" compare 1

# Bad specs: file:line:col: key: message, exit 2, no database left behind.
printf 'base: %s/scenarios/32b_zero3.yaml\nwhere: "tq < 2"\n' "$top_src" >"$out/bad.yaml"
expect 2 bad_spec "$dssim" sweep "$out/bad.yaml" --db "$out/bad.db"
has bad_spec err "bad.yaml:2:8: where: unknown name 'tq'"
if [ -e "$out/bad.db" ]; then bad "bad spec left a database"; else ok "bad spec left no database"; fi

# kill -9 in the middle of a simulated sweep: integrity stays ok, every stored point has its
# result, and a rerun completes the sweep with each point once.
big="$out/big.yaml"
cat >"$big" <<YAML
base: $top_src/scenarios/32b_zero3.yaml
axes:
  cluster.nodes: [2, 4]
  strategy: auto
YAML
"$dssim" sweep -q -j 2 "$big" --db "$out/k.db" >/dev/null 2>&1 &
pid=$!
sleep 3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
pkill -9 -f "sweep -q -j 2 $big" 2>/dev/null
before=$(points "$out/k.db")
expect 0 killed_check "$dssim" db check "$out/k.db"
has killed_check out "integrity: ok"
has killed_check out "points without a result 0"
expect 0 killed_resume "$dssim" sweep -q -j 2 "$big" --db "$out/k.db"
expect 0 full "$dssim" sweep -q -j 2 "$big" --db "$out/full.db"
same "points after kill and resume" "$(points "$out/k.db")" "$(points "$out/full.db")"
echo "     (the kill left ${before:-0} points; the rerun added the rest)"

big8="$out/big8.yaml"
cat >"$big8" <<YAML
base: $top_src/scenarios/32b_zero3.yaml
axes:
  cluster.nodes: [2, 4, 8]
  strategy: auto
YAML

# Interrupted (SIGTERM; Ctrl-C's SIGINT takes the same path, but a script's background job
# starts with SIGINT ignored, and dssim keeps a signal it was started ignoring): exit 130 after
# storing what is finished; a rerun completes the sweep.
# The signal goes as soon as the first transaction is committed (every 256 points or 1 s), so
# the sweep is mid-run however fast this build is.
"$dssim" sweep -q -j 1 "$big8" --db "$out/i.db" >"$out/int.out" 2>&1 &
pid=$!
wait_until stored "$out/i.db"
kill -TERM $pid 2>/dev/null
wait $pid
status=$?
same "exit status after SIGTERM" "$status" 130
has int out "interrupted"
expect 0 int_check "$dssim" db check "$out/i.db"
has int_check out "integrity: ok"
expect 0 int_resume "$dssim" sweep -q -j 2 "$big8" --db "$out/i.db"
expect 0 full8 "$dssim" sweep -q -j 2 --analytic "$big8" --db "$out/full8.db"
same "points after interrupt and resume" "$(points "$out/i.db")" "$(points "$out/full8.db")"

if [ -n "${MPIRUN:-}" ]; then
	expect 0 mpi $MPIRUN -n 2 "$dssim" sweep -q --analytic "$spec" --db "$out/mpi.db"
	same "points over 2 MPI ranks" "$(points "$out/mpi.db")" 22
fi

# A page of garbage in the middle of a database a sweep made: every command that opens it
# refuses it (exit 1, "corrupt database", the file named) instead of reading it as empty; db
# check gives the full integrity_check. (Text rather than /dev/urandom: the same damage on
# every run, no page header that happens to be valid.)
expect 0 corrupt_make "$dssim" sweep -q -j 2 "$spec" --db "$out/c.db"
pages=$(($(wc -c <"$out/c.db") / 4096))
yes "dssim: not a page" | head -c 4096 >"$out/garbage"
dd if="$out/garbage" of="$out/c.db" bs=4096 seek=$((pages / 2)) count=1 conv=notrunc 2>/dev/null
for cmd in report top sweep; do
	case $cmd in
	sweep) expect 1 corrupt_$cmd "$dssim" sweep -q "$spec" --db "$out/c.db" ;;
	*) expect 1 corrupt_$cmd "$dssim" $cmd --db "$out/c.db" ;;
	esac
	has corrupt_$cmd err "$out/c.db: corrupt database"
done
expect 1 corrupt_check "$dssim" db check "$out/c.db"
if grep -q "^integrity: ok" "$out/corrupt_check.out"; then bad "db check passes a corrupt file"
else ok "db check reports the damage"; fi

# db merge: a failed merge removes the output it created; merging a file into itself (under any
# name) is refused at once (it waited 10 s for its own lock); a path SQLite reads as an
# in-memory database or a URI is no file (a sweep stored its points there and kept none).
expect 1 merge_missing "$dssim" db merge "$out/new.db" "$out/missing.db"
if [ -e "$out/new.db" ]; then bad "failed merge left new.db"; else ok "failed merge left no new.db"; fi
expect 2 merge_self "$dssim" db merge "$out/a.db" "$out/../sweep/a.db"
has merge_self err "cannot merge a database into itself"
expect 2 merge_memory "$dssim" db merge :memory: "$out/a.db"
expect 2 check_memory "$dssim" db check ""
for db in :memory: "" "file:$out/u.db?mode=memory"; do
	"$dssim" sweep -q --analytic "$spec" --db "$db" >"$out/mem.out" 2>"$out/mem.err"
	status=$?
	if [ $status -ne 0 ] && grep -q "is not a database file" "$out/mem.err"; then
		ok "sweep --db '$db' refused (exit $status)"
	else
		bad "sweep --db '$db': exit $status"
	fi
done

# A full sweep over a database an --analytic sweep filled simulates the points that were only
# screened and replaces them (they were skipped as stored: report said "No configuration fits"
# and top showed their times as 0); a screening rerun still skips them.
expect 0 screen_first "$dssim" sweep -q --analytic "$spec" --db "$out/an.db"
expect 0 screen_rerun "$dssim" sweep -q --analytic "$spec" --db "$out/an.db"
has screen_rerun out "22 points were stored already"
expect 0 screen_full "$dssim" sweep -q "$spec" --db "$out/an.db"
# p4de.24xlarge has no PCIe figure, so the search offloads nothing there: 13 of the 22 fit.
has screen_full out "13 points stored (13 simulated"
has screen_full out "9 points were stored already"
same "points after the full sweep" "$(points "$out/an.db")" 22
expect 0 screen_ref "$dssim" sweep -q "$spec" --db "$out/ref.db"
for db in an ref; do
	"$dssim" top --db "$out/$db.db" -n 3 --by step_s --format csv >"$out/top_$db.csv" 2>&1
done
same "top 3 by step_s, screened then simulated" "$(cut -d, -f2- "$out/top_an.csv" | tr '\n' ' ')" \
	"$(cut -d, -f2- "$out/top_ref.csv" | tr '\n' ' ')"
expect 0 screen_report "$dssim" report --db "$out/an.db"
if grep -q "No configuration fits" "$out/screen_report.out"; then bad "report: no configuration fits"
else ok "report finds the simulated points"; fi

# sweep --uncertainty: the bands of every simulated training point as columns, shown by top,
# compare and report; the same with 1 or 2 workers and in MPI; a plain sweep's points are
# redone (replaced) by an uncertainty sweep, never taken as they are; a base without a
# covariance, and --analytic, are refused before anything is written. The scenario is the
# one tests/cli.sh calibrates.
cat >"$out/u_cal.yaml" <<'YAML'
keys:
  cluster.node.links.network.efficiency: 0.85
covariance:
  - [0.0004]
YAML
cat >"$out/u_base.yaml" <<YAML
model: megatron-gpt-1.7b
calibration: $out/u_cal.yaml
cluster: {node: selene, nodes: 4}
workload: {seq_len: 2048, global_batch: 64, micro_batch: 1, dtype: fp16, grad_dtype: fp32, flash_attention: false}
strategy: {tp: 1, pp: 1, recompute: full, overlap_grad_reduce: false}
YAML
printf 'base: u_base.yaml\naxes:\n  strategy.tp: [1, 2, 4]\n' >"$out/u_spec.yaml"
bands() {
	"$dssim" top --db "$1" --by step_s_p50 --format csv 2>&1 | cut -d, -f2- | tr '\n' ' '
}
expect 0 u_sweep "$dssim" sweep -q -j 1 --uncertainty 9 --seed 4 "$out/u_spec.yaml" --db "$out/u1.db"
has u_sweep out "3 points stored (3 simulated"
expect 0 u_sweep_j2 "$dssim" sweep -q -j 2 --uncertainty 9 --seed 4 "$out/u_spec.yaml" --db "$out/u2.db"
same "bands with 1 and 2 workers" "$(bands "$out/u2.db")" "$(bands "$out/u1.db")"
expect 0 u_top "$dssim" top --db "$out/u1.db"
has u_top out "step_p10  step_p90  mfu_p10  mfu_p90"
expect 0 u_top_json "$dssim" top --db "$out/u1.db" --format json -n 1
has u_top_json out '"step_p90": '
expect 0 u_compare "$dssim" compare --db "$out/u1.db" 1 2
has u_compare out "step_s_p50"
has u_compare out "uncertainty_draws"
expect 0 u_compare_csv "$dssim" compare --db "$out/u1.db" --format csv 1
has u_compare_csv out ",mfu_p10,mfu_p50,mfu_p90,"
expect 0 u_report "$dssim" report --db "$out/u1.db"
has u_report out "step P10 s  step P90 s"
expect 0 u_report_json "$dssim" report --db "$out/u1.db" --format json
has u_report_json out '"step P90 s": '
# Without bands the outputs keep their columns.
expect 0 u_plain "$dssim" sweep -q "$out/u_spec.yaml" --db "$out/u3.db"
expect 0 u_plain_top "$dssim" top --db "$out/u3.db"
if grep -q step_p10 "$out/u_plain_top.out"; then bad "top of a plain sweep shows bands"
else ok "top of a plain sweep shows no bands"; fi
expect 0 u_plain_compare "$dssim" compare --db "$out/u3.db" 1
if grep -q step_s_p50 "$out/u_plain_compare.out"; then bad "compare of a plain sweep shows bands"
else ok "compare of a plain sweep shows no bands"; fi
# Resume: the uncertainty sweep redoes the plain points; a plain rerun then skips them all.
expect 0 u_redo "$dssim" sweep -q --uncertainty 9 --seed 4 "$out/u_spec.yaml" --db "$out/u3.db"
has u_redo out "3 points stored"
same "bands after redoing plain points" "$(bands "$out/u3.db")" "$(bands "$out/u1.db")"
same "points after redoing" "$(points "$out/u3.db")" 3
expect 0 u_plain_again "$dssim" sweep -q "$out/u_spec.yaml" --db "$out/u3.db"
has u_plain_again out "3 points were stored already"
expect 0 u_other_seed "$dssim" sweep -q --uncertainty 9 --seed 5 "$out/u_spec.yaml" --db "$out/u3.db"
has u_other_seed out "3 points stored"
if [ -n "${MPIRUN:-}" ]; then
	expect 0 u_mpi $MPIRUN -n 2 "$dssim" sweep -q --uncertainty 9 --seed 4 "$out/u_spec.yaml" \
		--db "$out/u_mpi.db"
	same "bands over 2 MPI ranks" "$(bands "$out/u_mpi.db")" "$(bands "$out/u1.db")"
fi
grep -v '^calibration' "$out/u_base.yaml" >"$out/u_nocal.yaml"
printf 'base: u_nocal.yaml\naxes:\n  strategy.tp: [1, 2]\n' >"$out/u_nocal_spec.yaml"
expect 2 u_nocal "$dssim" sweep -q --uncertainty 9 "$out/u_nocal_spec.yaml" --db "$out/u4.db"
has u_nocal err "--uncertainty: needs a calibration"
if [ -e "$out/u4.db" ]; then bad "a refused sweep left a database"; else ok "a refused sweep writes nothing"; fi
expect 2 u_analytic "$dssim" sweep -q --uncertainty 9 --analytic "$out/u_spec.yaml" --db "$out/u4.db"
expect 2 u_one_draw "$dssim" sweep -q --uncertainty 1 "$out/u_spec.yaml" --db "$out/u4.db"
# A database of schema 4 (before the bands): read as it is, merged, and migrated by a sweep.
cp "$top_src/tests/fuzz/db/train.sqlite3" "$out/v4.db"
expect 0 v4_top "$dssim" top --db "$out/v4.db"
expect 0 v4_report "$dssim" report --db "$out/v4.db"
expect 0 v4_merge "$dssim" db merge "$out/u1.db" "$out/v4.db"
same "points after merging schema 4" "$(points "$out/u1.db")" 7
expect 0 v4_sweep "$dssim" sweep -q --uncertainty 9 --seed 4 "$out/u_spec.yaml" --db "$out/v4.db"
expect 0 v4_check "$dssim" db check "$out/v4.db"
has v4_check out "integrity: ok"
expect 0 v4_top_after "$dssim" top --db "$out/v4.db"
has v4_top_after out "step_p10"

# A sweep killed with -9 (after its first commit, so mid-run) stays `running`: db check names
# it interrupted (its process is gone), and the rerun's writable open marks it so.
"$dssim" sweep -q -j 1 "$big8" --db "$out/k9.db" >/dev/null 2>&1 &
pid=$!
wait_until stored "$out/k9.db"
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
expect 0 k9_check "$dssim" db check "$out/k9.db"
has k9_check out "sweep 1 interrupted: started"
expect 0 k9_resume "$dssim" sweep -q -j 2 "$big8" --db "$out/k9.db"
expect 0 k9_after "$dssim" db check "$out/k9.db"
has k9_after out "sweep 1 interrupted"
if grep -q "sweep 2 interrupted" "$out/k9_after.out"; then bad "the rerun is called interrupted"
else ok "the rerun is not interrupted"; fi

# Disaggregated serving stores each pool's GPUs and busy fraction and the KV moves (schema 8):
# NULL for the colocated point, set for the pools, and carried by a merge (the two points with
# one pool empty are errors).
pspec="$out/pools.yaml"
cat >"$pspec" <<YAML
base: $top_src/scenarios/llama3_70b_disaggregated.yaml
axes:
  workload.requests: [100]
  serving.pools.prefill.gpus: [0, 8]
  serving.pools.decode.gpus: [0, 8]
YAML
expect 0 sweep_pools "$dssim" sweep -q -j 1 "$pspec" --db "$out/pools.db"
has sweep_pools out "4 points stored (2 simulated, 0 fit unsimulated, 0 do not fit, 2 errors)"
if command -v sqlite3 >/dev/null 2>&1; then
	same "pools in pools.db" "$(sqlite3 "$out/pools.db" 'SELECT count(*) FROM v_points WHERE prefill_gpus = 8 AND decode_gpus = 8 AND decode_busy > 0 AND kv_transfer_p99 >= kv_transfer_mean AND kv_transfer_mean > 0')" 1
	same "no pools in pools.db" "$(sqlite3 "$out/pools.db" 'SELECT count(*) FROM v_points WHERE simulated = 1 AND prefill_gpus IS NULL AND kv_transfer_mean IS NULL')" 1
	expect 0 merge_pools "$dssim" db merge "$out/pools2.db" "$out/pools.db"
	same "pools merged" "$(sqlite3 "$out/pools2.db" 'SELECT count(*) FROM v_points WHERE prefill_gpus = 8 AND kv_transfer_mean > 0')" 1
fi

finish
