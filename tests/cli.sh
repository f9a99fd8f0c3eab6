#!/bin/sh
# cli.sh: the dssim command as a user runs it — help, exit codes, formats, overrides, every
# shipped scenario, determinism, and presets found from another directory.
# Prints one line per check and closes with "N passed, N failed".
set -u
suite=cli
. "$(dirname "$0")/lib.sh"

cd "$top_src" || exit 1

expect 0 help "$dssim" --help
has help out "usage: dssim"
has help out "exit status"
expect 0 version "$dssim" --version
has version out "dssim "
expect 0 help_keys "$dssim" --help-keys
has help_keys out "strategy.tp"
has help_keys out "cluster.node.gpu.memory"
has help_keys out "runtime.framework"
has help_keys out "megatron-core        Megatron-Core"
expect 2 framework_unknown "$dssim" --set runtime.framework=megatron scenarios/32b_zero3.yaml
has framework_unknown err "runtime.framework: unknown framework preset 'megatron' (known: deepspeed, megatron-core, megatron-lm-2021, pytorch-fsdp)"
has help_keys out "serving.engine"
has help_keys out "tensorrt-llm         TensorRT-LLM"
expect 2 swap_under_vllm "$dssim" tests/bad/swap_under_vllm_v1.yaml
has swap_under_vllm err "tests/bad/swap_under_vllm_v1.yaml:13:15: serving.preemption: the 'vllm' engine profile does not swap"
expect 0 swap_under_vllm_v0 "$dssim" --set serving.engine=vllm-v0 --set workload.requests=5 tests/bad/swap_under_vllm_v1.yaml
expect 2 no_args "$dssim"
has no_args err "no scenario file given"
expect 2 two_files "$dssim" scenarios/32b_zero3.yaml scenarios/32b_zero3.yaml
expect 2 bad_format "$dssim" --format xml scenarios/32b_zero3.yaml
has bad_format err "expected text or json"
expect 2 bad_option "$dssim" --frobnicate scenarios/32b_zero3.yaml
expect 2 set_without_value "$dssim" --set strategy.tp scenarios/32b_zero3.yaml
has set_without_value err "expected KEY=VALUE"
expect 2 missing_file "$dssim" scenarios/nosuch.yaml
has missing_file err "scenarios/nosuch.yaml: cannot read: No such file or directory"
expect 2 directory "$dssim" scenarios
has directory err "scenarios: is a directory, not a file"

expect 0 text "$dssim" scenarios/32b_zero3.yaml
has text out "memory per GPU (GiB)"
has text out "fits      yes"
# 12 micro-batches fit on p4de; 10 keep 10 % of the 80 GiB free (memory.h).
has text out "largest micro-batch that fits: 12 (10 within 90 % of memory)"
expect 0 json "$dssim" --format json scenarios/32b_zero3.yaml
for key in '"params"' '"active_params"' '"per_gpu"' '"weights"' '"gradients"' '"optimizer"' \
	'"activations"' '"kv_cache"' '"buffers"' '"overhead"' '"total"' '"capacity"' '"fits"' \
	'"host_per_node"' '"max_micro_batch"' '"max_micro_batch_kept"' '"roles"'; do
	has json out "$key"
done
expect 2 bad_set "$dssim" --set strategy.tp=3 scenarios/32b_zero3.yaml
has bad_set err "--set strategy.tp: strategy.tp: expected a divisor of the 40 attention heads, got 3"
# Without offload, ZeRO-2 needs more than 80 GB: the report is printed, then exit 3.
expect 3 good_set "$dssim" --format json --set strategy.zero=2 --set strategy.offload.optimizer=none scenarios/32b_zero3.yaml
has good_set out '"zero": 2'
has good_set out '"fits": false'
expect 3 misfit_text "$dssim" --set strategy.zero=2 --set strategy.offload.optimizer=none scenarios/32b_zero3.yaml
# A step too large to hold is refused before its graph is built, with the count worked out:
# 250,112 sequences over dp 16 at micro-batch 1 are 15,632 micro-batches, through 64 layers
# forward and backward 2,000,896 layer passes, past the 2,000,000 cap (sim/step.h). The memory
# report still stands (exit 0); the JSON has no time object and says why in not_simulated.
expect 0 step_too_large "$dssim" --format json --set workload.global_batch=250112 scenarios/32b_zero3.yaml
has step_too_large err "--set workload.global_batch: workload.global_batch: 2000896 layer passes a step (15632 micro-batches per pipeline x 64 layers x 2) exceed the 2000000 this version simulates"
has step_too_large out '"not_simulated": "--set workload.global_batch: workload.global_batch: 2000896 layer passes'
has step_too_large out '"fits": true'
# SIGTERM during a run: exit 130 as the exit table says, the trace's temporary file removed and
# the old trace kept. The run serves a million requests, seconds of work; it is stopped as soon
# as its temporary file appears.
mkdir -p "$out/sig"
echo old >"$out/sig/trace.json"
"$dssim" -t "$out/sig/trace.json" --set workload.requests=1000000 --set workload.arrival.rate=0 \
	scenarios/14b_bf16_infer_1gpu.yaml >/dev/null 2>&1 &
pid=$!
has_tmp() { ls -A "$out/sig" | grep -q '^\.dssim-'; }
wait_until has_tmp && ok "SIGTERM: the trace's temporary file appeared" ||
	bad "SIGTERM: no temporary file in 30 s"
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" = 130 ] && ok "SIGTERM: exit 130" || bad "SIGTERM: exit $rc"
ls -A "$out/sig" | grep -q '^\.dssim-' && bad "SIGTERM left $(ls -A "$out/sig")" ||
	ok "SIGTERM: no temporary file left"
[ "$(cat "$out/sig/trace.json")" = old ] && ok "SIGTERM: the old trace kept" || bad "SIGTERM: the trace changed"

# Serving fits when the KV cache holds one sequence: a 67B in bf16 on one H200 leaves 126 GB
# (0.9 of 141 GB) minus 134 GB of weights for it, short by some 10 GB: exit 3, and it says so.
expect 3 kv_misfit "$dssim" --set model=deepseek-llm-67b --set cluster.node=p5e.48xlarge \
	--set workload.requests=5 scenarios/14b_bf16_infer_1gpu.yaml
has kv_misfit out "fits      NO: the KV cache needs "
has kv_misfit out "more to hold one sequence of 4096 tokens (the engine would not start)"
has misfit_text out "fits      NO"
has misfit_text out "step "
# One exit-status table in every command's help.
for cmd in "" validate sweep top compare db report; do
	expect 0 "help_exit_$cmd" "$dssim" $cmd --help
	has "help_exit_$cmd" out "3    a negative answer"
done

# Inference scenarios serve a request stream.
infer=scenarios/14b_bf16_infer_1gpu.yaml
expect 0 serve_json "$dssim" --format json --set workload.requests=300 "$infer"
for key in '"serving"' '"requests_per_s"' '"output_tokens_per_s"' '"ttft_s"' '"tpot_s"' \
	'"latency_s"' '"p50"' '"p90"' '"p99"' '"kv_blocks_total"' '"kv_peak_fraction"' \
	'"preemptions"' '"max_kv_tokens"'; do
	has serve_json out "$key"
done
expect 0 serve_text "$dssim" --set workload.requests=300 "$infer"
has serve_text out "TTFT"
expect 0 max_rate "$dssim" --find-max-rate --slo ttft_p99=2s,tpot_p99=100ms \
	--set workload.requests=300 "$infer"
has max_rate out "highest rate meeting ttft_p99 <= 2000 ms, tpot_p99 <= 100 ms:"
expect 0 max_rate_json "$dssim" --format json --find-max-rate --slo latency_p90=20s \
	--set workload.requests=300 "$infer"
has max_rate_json out '"find_max_rate"'
# A target no rate meets: the figures at the lowest rate tried, then exit 3.
expect 3 max_rate_none "$dssim" --find-max-rate --slo ttft_p99=1us \
	--set workload.requests=100 "$infer"
has max_rate_none out "none, even"
has max_rate_none err "no arrival rate meets"
expect 2 max_rate_train "$dssim" --find-max-rate --slo ttft_p99=2s scenarios/32b_zero3.yaml
has max_rate_train err "is not an inference scenario"
expect 2 bad_slo "$dssim" --find-max-rate --slo ttft_p95=2s "$infer"
has bad_slo err "unknown target 'ttft_p95'"
expect 2 slo_alone "$dssim" --slo ttft_p99=2s "$infer"
has slo_alone err "--find-max-rate and --slo go together"
expect 2 bad_trace_csv "$dssim" --set workload.arrival.process=trace --set workload.arrival.rate=null \
	--set workload.requests=null \
	--set workload.arrival.trace=../tests/data/requests_bad.csv "$infer"
has bad_trace_csv err "requests_bad.csv:3:5: workload.arrival.trace: expected a number for prompt_tokens"
# With process: trace, the trace's rows are the requests: rate and requests would be ignored.
expect 2 trace_with_rate "$dssim" --set workload.arrival.process=trace \
	--set workload.arrival.trace=../tests/data/requests.csv "$infer"
has trace_with_rate err "workload.arrival.rate: the trace gives the requests and their arrival times"
expect 2 max_rate_trace "$dssim" --find-max-rate --slo ttft_p99=2s --set workload.arrival.process=trace \
	--set workload.arrival.rate=null --set workload.requests=null \
	--set workload.arrival.trace=../tests/data/requests.csv "$infer"
has max_rate_trace err "whose arrival times are fixed"
expect 0 serve_trace "$dssim" --set workload.requests=50 --trace "$out/serve.trace.json" "$infer"
if grep -q '"KV blocks"' "$out/serve.trace.json" && tail -c 4 "$out/serve.trace.json" | grep -q ']}'; then
	ok "serving trace has iterations and a KV counter"
else
	bad "serving trace incomplete"
fi

# A case whose scenario does not load is reported and leaks nothing (LeakSanitizer in CI).
expect 2 validate_unloadable "$dssim" validate tests/data/validate_unloadable.yaml
has validate_unloadable err "unknown model preset 'nosuchmodel'"

# "-" reads the scenario from standard input, named <stdin>, presets found from here.
"$dssim" - <scenarios/32b_zero3.yaml >"$out/stdin.out" 2>"$out/stdin.err"
if [ $? -eq 0 ] && grep -q '(<stdin>)' "$out/stdin.out" && grep -q "fits      yes" "$out/stdin.out"; then
	ok "scenario from standard input"
else
	bad "scenario from standard input"; cat "$out/stdin.err"
fi
printf 'model: nosuch\n' | "$dssim" - >/dev/null 2>"$out/stdin_bad.err"
if [ $? -eq 2 ] && grep -q "^<stdin>:1:8: model: unknown model preset 'nosuch'" "$out/stdin_bad.err"; then
	ok "standard input errors name <stdin>"
else
	bad "standard input errors name <stdin>"; cat "$out/stdin_bad.err"
fi

# Outputs never destroy an input, a directory or a device (outfile.h).
cp scenarios/32b_zero3.yaml "$out/s.yaml"
expect 2 trace_over_input "$dssim" -t "$out/s.yaml" "$out/s.yaml"
has trace_over_input err "is an input of this run"
if cmp -s scenarios/32b_zero3.yaml "$out/s.yaml"; then ok "the scenario survives"; else bad "the scenario was overwritten"; fi
# The node preset is a copy in the scratch directory, so a failure here harms nothing.
cp topologies/nodes/p4de.24xlarge.yaml "$out/node.yaml"
printf 'model: deepseek-r1-distill-qwen-32b\ncluster: {node: ./node.yaml, nodes: 2}\nworkload: {seq_len: 4096, global_batch: 64}\nstrategy: {zero: 3}\n' >"$out/withnode.yaml"
expect 2 trace_over_preset "$dssim" -t "$out/node.yaml" "$out/withnode.yaml"
has trace_over_preset err "is an input of this run"
expect 2 trace_dir "$dssim" -t "$out" scenarios/32b_zero3.yaml
has trace_dir err "is a directory, not a file"
expect 2 trace_stdout "$dssim" -t - scenarios/32b_zero3.yaml
has trace_stdout err "the report already goes to standard output"
expect 0 trace_devnull "$dssim" -t /dev/null scenarios/32b_zero3.yaml
if [ -c /dev/null ]; then ok "/dev/null is still a device"; else bad "/dev/null replaced"; fi
ln -s "$out/victim" "$out/t.json.tmp"
echo precious >"$out/victim"
expect 0 trace_planted "$dssim" -t "$out/t.json" scenarios/32b_zero3.yaml
if [ "$(cat "$out/victim")" = precious ] && grep -q traceEvents "$out/t.json"; then ok "a planted .tmp symlink is not followed"; else bad "planted .tmp symlink followed"; fi

# One output token each: every request finishes in the iteration that prefilled it, and the
# KV peak is what that iteration held (it read 0 %).
expect 0 kv_one_token "$dssim" --format json --set 'workload.output_tokens={dist: fixed, value: 1}' \
	--set workload.requests=200 "$infer"
if grep -q '"kv_blocks_peak": 0,' "$out/kv_one_token.out"; then bad "KV peak 0 with one output token"; else ok "KV peak held by the prefill iteration"; fi

# A bare number for a FLOP/s key is FLOP/s: a warning names the unit; a value that makes the
# step time infinite is refused, naming the key.
expect 0 bare_flops "$dssim" --set cluster.node.gpu.flops.bf16=989 scenarios/32b_zero3.yaml
has bare_flops err "warning: --set cluster.node.gpu.flops.bf16: cluster.node.gpu.flops.bf16: 989 FLOP/s is more than a million times outside"
expect 2 nan_step "$dssim" --set cluster.node.gpu.flops.bf16=1e-300 scenarios/32b_zero3.yaml
has nan_step err "cluster.node.gpu.flops.bf16: the step time is not a finite number with this value"
if grep -qi "nan" "$out/nan_step.out"; then bad "a NaN was printed"; else ok "no NaN printed"; fi

# A serving run past 10,000,000 requests says how big it is and waits for --yes.
expect 2 too_many_requests "$dssim" --set workload.requests=20000000 "$infer"
has too_many_requests err "20000000 requests"
has too_many_requests err "pass --yes"
# 20,000,000 requests at 512 bytes each (sim/main_run.c, measured on the shipped scenarios):
has too_many_requests err "and 10.2 GB of memory to simulate"
# With --yes, a run whose requests need more than the machine's memory is refused all the same:
# 100,000,000 need 51.2 GB. Checked where the machine has less (else it would run for an hour).
mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null)
if [ -n "$mem_kb" ] && [ "$mem_kb" -lt 49000000 ]; then
	expect 2 requests_past_memory "$dssim" --yes --set workload.requests=100000000 "$infer"
	has requests_past_memory err "100000000 requests need about 51.2 GB of memory to simulate, more than this machine's"
	# Without --yes it is not offered --yes; and the run itself refuses, so a point of a
	# sweep or of compare is an error, not a process the kernel kills.
	expect 2 requests_past_memory_no_yes "$dssim" --set workload.requests=100000000 "$infer"
	if grep -q "pass --yes" "$out/requests_past_memory_no_yes.err"; then bad "offered --yes"; else ok "not offered --yes"; fi
	sed 's/requests: .*/requests: 100000000/' "$infer" >"$out/big_serve.yaml"
	expect 0 compare_past_memory "$dssim" compare "$infer" "$out/big_serve.yaml"
	has compare_past_memory out "workload.requests: 100000000 requests need about 51.2 GB of memory"
else
	ok "requests_past_memory: not checked, this machine has ${mem_kb:-an unknown number of} kB"
fi

# Two replicas draw their iterations on their own GPUs' tracks.
expect 0 serve_trace_dp2 "$dssim" --set strategy.dp=2 --set cluster.gpus=2 --set workload.requests=30 \
	-t "$out/dp2.trace.json" "$infer"
if grep -q '"replica 1 GPU 0' "$out/dp2.trace.json" && grep -q '"pid": 1, "tid": 1' "$out/dp2.trace.json"; then
	ok "serving trace draws replica 1"
else
	bad "serving trace lacks replica 1"
fi

# Disaggregated pools: each pool and the KV moves in JSON and text, each pool's replicas in the
# trace.
pools=scenarios/llama3_70b_disaggregated.yaml
expect 0 pools_json "$dssim" --format json --set workload.requests=100 "$pools"
for key in '"pools": {' '"prefill": {"gpus": 8, "tp": 4, "ep": 1, "replicas": 2' \
	'"decode": {"gpus": 8, "tp": 8, "ep": 1, "replicas": 1' '"kv_transfer_s": {"mean": ' \
	'"kv_transfer_bytes": ' '"busy_fraction": '; do
	has pools_json out "$key"
done
expect 0 pools_text "$dssim" --set workload.requests=100 -t "$out/pools.trace.json" "$pools"
has pools_text out "prefill   8 GPUs (2 x tp 4, ep 1)"
has pools_text out "KV moves  "
if grep -q '"prefill replica 1 GPU 3' "$out/pools.trace.json" &&
	grep -q '"decode replica 0 GPU 7' "$out/pools.trace.json"; then
	ok "serving trace draws both pools' replicas"
else
	bad "serving trace lacks a pool's replicas"
fi

# Control bytes from inputs are printed escaped, in text and in tables (no raw ESC to a terminal).
esc=$(printf '\033')
printf 'name: "red\\e[31mname\\nline"\nmodel: gpt2\ncluster: {node: p4de.24xlarge}\nworkload: {seq_len: 1024, global_batch: 8}\n' >"$out/ansi.yaml"
cp "$out/ansi.yaml" "$out/file${esc}[31m.yaml"
expect 0 ansi_text "$dssim" "$out/ansi.yaml"
has ansi_text out 'red\x1b[31mname\nline'
expect 0 ansi_table "$dssim" compare --format csv "$out/file${esc}[31m.yaml" scenarios/32b_zero3.yaml
has ansi_table out 'file\x1b[31m.yaml'
expect 0 ansi_table_text "$dssim" compare "$out/file${esc}[31m.yaml" scenarios/32b_zero3.yaml
has ansi_table_text out 'file\x1b[31m.yaml'
if grep -q "$esc" "$out/ansi_text.out" "$out/ansi_table.out" "$out/ansi_table_text.out"; then bad "a raw ESC byte was printed"; else ok "no raw ESC byte printed"; fi

# A sweep of more than 1,000,000 points says how big it is and waits for --yes; nothing is written.
printf 'base: %s/scenarios/32b_zero3.yaml\naxes:\n  workload.seq_len: {range: [1, 2000]}\n  workload.global_batch: {range: [1, 600]}\n' "$top_src" >"$out/big.yaml"
expect 2 sweep_too_big "$dssim" sweep "$out/big.yaml" --db "$out/big.db"
has sweep_too_big err "at least 1200000 points (1200000 groups)"
has sweep_too_big err "pass --yes"
if [ -e "$out/big.db" ]; then bad "a refused sweep created its database"; else ok "a refused sweep writes nothing"; fi

# A far-off value in a sweep is warned about once per key, at its axis, however many points.
printf 'base: %s/scenarios/32b_zero3.yaml\naxes:\n  cluster.node.gpu.flops.bf16: [989, 1000, 312 TFLOPS]\n  cluster.nodes: [2, 3]\n' "$top_src" >"$out/warn.yaml"
expect 0 sweep_warn "$dssim" sweep -q -j 1 --analytic "$out/warn.yaml" --db "$out/warn.db"
has sweep_warn err "warn.yaml:3:3: cluster.node.gpu.flops.bf16: 989 FLOP/s is more than a million times outside"
if [ "$(grep -c 'warning' "$out/sweep_warn.err")" -eq 1 ]; then ok "one warning per key"; else bad "warned more than once per key"; cat "$out/sweep_warn.err"; fi

# A --db that SQLite would not read as a file is refused by every command (exit 2).
for cmd in sweep top report compare; do
	case $cmd in sweep) extra=bench/sweep_16gpu.yaml ;; compare) extra=1 ;; *) extra= ;; esac
	expect 2 "memory_db_$cmd" "$dssim" $cmd --db :memory: $extra
	has "memory_db_$cmd" err "':memory:' is not a database file"
done

# Every shipped scenario runs, and twice gives the same bytes.
for f in scenarios/*.yaml; do
	name=scenario_$(basename "$f" .yaml)
	expect 0 "$name" "$dssim" --format json "$f"
	"$dssim" --format json "$f" >"$out/$name.again" 2>/dev/null
	if cmp -s "$out/$name.out" "$out/$name.again"; then ok "$name deterministic"; else bad "$name differs between runs"; fi
	# output.c prints a non-finite double as null; only "advice" and "steady" (a serving run
	# that never settles) may be null.
	if grep -E ': *(-?nan|-?inf|null)' "$out/$name.out" | grep -Ev '"(advice|steady)"' | grep -q .; then
		bad "$name has a non-finite number"
	else
		ok "$name finite"
	fi
done

# From another directory, presets are found through DSSIM_DATA and through --data-dir.
tmp=$(mktemp -d)
cat >"$tmp/s.yaml" <<'YAML'
model: deepseek-v3
cluster: {node: p5e.48xlarge}
workload: {mode: infer, seq_len: 4096, dtype: fp8, requests: 20}
strategy: {tp: 8}
YAML
(cd "$tmp" && DSSIM_DATA="$top_src" "$dssim" s.yaml >"$out/elsewhere.out" 2>"$out/elsewhere.err")
if [ $? -eq 0 ]; then ok "presets through DSSIM_DATA"; else bad "presets through DSSIM_DATA"; cat "$out/elsewhere.err"; fi
(cd "$tmp" && env -u DSSIM_DATA "$dssim" --data-dir "$top_src" s.yaml >/dev/null 2>&1)
if [ $? -eq 0 ]; then ok "presets through --data-dir"; else bad "presets through --data-dir"; fi
(cd "$tmp" && env -u DSSIM_DATA "$dssim" --data-dir /nonexistent s.yaml >/dev/null 2>"$out/nodata.err")
if [ $? -eq 2 ] && grep -q "unknown model preset 'deepseek-v3'" "$out/nodata.err"; then ok "no presets: clear error"; else bad "no presets: clear error"; cat "$out/nodata.err"; fi
rm -rf "$tmp"


# dssim calibrate: a fit on three runs of one small scenario, the calibration applied with
# --calibration and drawn from with --uncertainty; too few cases and a missing covariance
# are refused.
cat >"$out/cal_scenario.yaml" <<'YAML'
model: megatron-gpt-1.7b
cluster: {node: selene, nodes: 4}
workload: {seq_len: 2048, global_batch: 64, micro_batch: 1, dtype: fp16, grad_dtype: fp32, flash_attention: false}
strategy: {tp: 1, pp: 1, recompute: full, overlap_grad_reduce: false}
YAML
cat >"$out/cal_cases.yaml" <<'YAML'
cases:
  - {name: four nodes, source: cli test, metric: step_s, published: 0.6, scenario: cal_scenario.yaml}
  - {name: two nodes, source: cli test, metric: step_s, published: 1.02, scenario: cal_scenario.yaml, set: {cluster.nodes: 2}}
  - {name: tp 2, source: cli test, metric: tokens_per_s, published: 223000, scenario: cal_scenario.yaml, set: {strategy: {tp: 2}}}
YAML
expect 0 help_exit_calibrate "$dssim" calibrate --help
has help_exit_calibrate out "3    a negative answer"
expect 0 calibrate "$dssim" calibrate --param cluster.node.gpu.efficiency.memory \
	-o "$out/cal.yaml" "$out/cal_cases.yaml"
has calibrate out "cluster.node.gpu.efficiency.memory"
has calibrate out "std. error"
has calibrate out "four nodes"
cp "$out/cal.yaml" "$out/calibrate_out_file.yaml"
has calibrate_out_file yaml "covariance:"
expect 0 calibrate_stdout "$dssim" calibrate --param cluster.node.gpu.efficiency.memory "$out/cal_cases.yaml"
has calibrate_stdout out "keys:"
has calibrate_stdout err "rms error"
expect 2 calibrate_too_few "$dssim" calibrate --param cluster.node.gpu.efficiency.memory \
	--param cluster.node.links.network.efficiency --param cluster.node.links.gpu.efficiency \
	"$out/cal_cases.yaml"
has calibrate_too_few err "at least one more case than parameters"
expect 2 calibrate_bad_param "$dssim" calibrate --param strategy.tp "$out/cal_cases.yaml"
has calibrate_bad_param err "a parameter is a number key"
expect 2 calibrate_over_input "$dssim" calibrate --param cluster.node.gpu.efficiency.memory \
	-o "$out/cal_cases.yaml" "$out/cal_cases.yaml"
expect 0 uncertainty "$dssim" --calibration "$out/cal.yaml" --uncertainty 5 --seed 3 "$out/cal_scenario.yaml"
has uncertainty out "P10"
has uncertainty out "MFU"
# Progress: none into a file; on a terminal (script(1) gives one) the draws, cleared before the
# report.
[ ! -s "$out/uncertainty.err" ] && ok "uncertainty: no progress into a file" ||
	bad "uncertainty err: $(head -c 200 "$out/uncertainty.err")"
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
	script -qec "'$dssim' --calibration '$out/cal.yaml' --uncertainty 5 --seed 3 '$out/cal_scenario.yaml'" \
		/dev/null >"$out/uncertainty_tty.out" 2>&1
	grep -qF "dssim: --uncertainty: draw 1 of 5" "$out/uncertainty_tty.out" &&
		grep -q "$(printf '\033')\[K" "$out/uncertainty_tty.out" &&
		ok "uncertainty: a terminal sees the draws, then the line cleared" ||
		bad "uncertainty tty: $(head -c 200 "$out/uncertainty_tty.out")"
fi
expect 0 uncertainty_json "$dssim" -f json --calibration "$out/cal.yaml" --uncertainty 5 "$out/cal_scenario.yaml"
has uncertainty_json out '"uncertainty": {"draws": 5, "seed": 1'
has uncertainty_json out '"tokens_per_s": {"p10": '
expect 2 uncertainty_without_calibration "$dssim" --uncertainty 5 "$out/cal_scenario.yaml"
has uncertainty_without_calibration err "needs a calibration"
expect 2 uncertainty_one_draw "$dssim" --calibration "$out/cal.yaml" --uncertainty 1 "$out/cal_scenario.yaml"
printf 'keys:\n  cluster.node.gpu.efficiency.memory: 0.8\n' >"$out/cal_nocov.yaml"
expect 2 uncertainty_without_covariance "$dssim" --calibration "$out/cal_nocov.yaml" --uncertainty 5 "$out/cal_scenario.yaml"
has uncertainty_without_covariance err "has no covariance"


# validate --cross: source B's two cases predict A's one; B is left unpredicted (A's one case
# is too few to fit a key).
sed '2s/source: cli test/source: A/; 3,4s/source: cli test/source: B/' "$out/cal_cases.yaml" \
	>"$out/cross_cases.yaml"
expect 0 validate_cross "$dssim" validate --cross --param cluster.node.gpu.efficiency.memory "$out/cross_cases.yaml"
has validate_cross out "2 sources, 1 predicted from a fit to the others"
# Each source's fit ends with a line on standard error, A predicted and B not.
has validate_cross err "dssim validate --cross: A: predicted from a fit to the other sources ("
has validate_cross err "dssim validate --cross: B: too few other cases, not predicted ("
expect 2 validate_cross_json "$dssim" validate --cross --format json "$out/cross_cases.yaml"
# Two sources of two cases each, each predicted from the other: the same figures whether one
# process fits both or two processes share them (--jobs), and --jobs needs --cross.
{ cat "$out/cal_cases.yaml"; echo '  - {name: one node, source: cli test, metric: step_s, published: 1.9, scenario: cal_scenario.yaml, set: {cluster.nodes: 1}}'; } |
	sed '2,3s/source: cli test/source: A/; 4,5s/source: cli test/source: B/' >"$out/cross2_cases.yaml"
expect 0 validate_cross_one_job "$dssim" validate --cross --jobs 1 --param cluster.node.gpu.efficiency.memory "$out/cross2_cases.yaml"
has validate_cross_one_job out "2 sources, 2 predicted from a fit to the others"
expect 0 validate_cross_two_jobs "$dssim" validate --cross --jobs 2 --param cluster.node.gpu.efficiency.memory "$out/cross2_cases.yaml"
if cmp -s "$out/validate_cross_one_job.out" "$out/validate_cross_two_jobs.out"; then ok "cross: one job = two jobs"; else bad "cross: one job = two jobs"; fi
# Two processes, one line each: every source's line reaches standard error.
[ "$(grep -c "^dssim validate --cross: [AB]: predicted" "$out/validate_cross_two_jobs.err")" = 2 ] &&
	ok "cross: a line per source from two jobs" || bad "cross lines: $(cat "$out/validate_cross_two_jobs.err")"
expect 2 validate_jobs_without_cross "$dssim" validate --jobs 2 "$out/cross2_cases.yaml"
has validate_jobs_without_cross err "--jobs goes with --cross"
expect 2 validate_cross_bad_jobs "$dssim" validate --cross --jobs 0 "$out/cross2_cases.yaml"


# The serving metrics of a case: mean TTFT and TPOT, output tokens per second.
cat >"$out/serve_cases.yaml" <<YAML
cases:
  - {name: ttft, metric: ttft_s, published: 0.03, tolerance: 1, scenario: $top_src/scenarios/14b_bf16_infer_1gpu.yaml, set: {workload.requests: 50}}
  - {name: tpot, metric: tpot_s, published: 0.01, tolerance: 1, scenario: $top_src/scenarios/14b_bf16_infer_1gpu.yaml, set: {workload.requests: 50}}
  - {name: output, metric: output_tokens_per_s, published: 1000, tolerance: 1, scenario: $top_src/scenarios/14b_bf16_infer_1gpu.yaml, set: {workload.requests: 50}}
YAML
expect 0 validate_serving "$dssim" validate "$out/serve_cases.yaml"
has validate_serving out "tok/s"
has validate_serving out "3 of 3 within tolerance"
printf 'cases:\n  - {name: t, metric: ttft_s, published: 1, tolerance: 1, scenario: %s}\n' \
	"$top_src/scenarios/32b_zero3.yaml" >"$out/serve_bad.yaml"
expect 2 validate_serving_on_training "$dssim" validate "$out/serve_bad.yaml"
has validate_serving_on_training err "a serving metric needs an inference scenario"

# A usage error is one line on stderr and a hint, never the whole help; getopt adds nothing.
one_line() {
	if [ "$(wc -l <"$out/$1.err")" -eq 1 ]; then ok "$1 err is one line"; else bad "$1 err is not one line"; cat "$out/$1.err"; fi
}
expect 2 unknown_run "$dssim" --frobnicate scenarios/32b_zero3.yaml
has unknown_run err "dssim: unknown option '--frobnicate' (dssim --help lists them)"
one_line unknown_run
expect 2 unknown_short_run "$dssim" -z scenarios/32b_zero3.yaml
has unknown_short_run err "dssim: unknown option '-z'"
one_line unknown_short_run
expect 2 missing_arg_run "$dssim" scenarios/32b_zero3.yaml --format
has missing_arg_run err "dssim: option '--format' needs an argument"
one_line missing_arg_run
one_line no_args
for cmd in validate calibrate sweep top compare db report; do
	expect 2 "unknown_$cmd" "$dssim" "$cmd" --frobnicate=1 x
	has "unknown_$cmd" err "dssim $cmd: unknown option '--frobnicate' (dssim $cmd --help lists them)"
	one_line "unknown_$cmd"
	# Too many files, or none for compare, or no --db.
	if [ "$cmd" = compare ]; then set --; else set -- "$cmd.yaml" "$cmd.yaml" "$cmd.yaml"; fi
	expect 2 "bare_$cmd" "$dssim" "$cmd" "$@"
	has "bare_$cmd" err "(see dssim $cmd --help)"
	one_line "bare_$cmd"
done
for cmd in sweep top report; do
	expect 2 "missing_db_$cmd" "$dssim" "$cmd" --db
	has "missing_db_$cmd" err "dssim $cmd: option '--db' needs an argument"
	one_line "missing_db_$cmd"
done
expect 2 top_missing_n "$dssim" top --db x.db -n
has top_missing_n err "dssim top: option '-n' needs an argument"
one_line top_missing_n
expect 2 db_nothing "$dssim" db
has db_nothing err "dssim db: expected schema, merge or check"
one_line db_nothing

# Shell completion: the bash file, sourced in bash, completes commands, options, --format values
# and files (plain compgen, no bash-completion helpers); the zsh file at least parses as a script.
if command -v bash >/dev/null 2>&1; then
	mkdir -p "$out/comp/sub" && : >"$out/comp/a.yaml" && : >"$out/comp/b.db"
	(cd "$out/comp" && bash -c '
		. "$1"
		c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _dssim; echo "${COMPREPLY[*]}"; }
		echo "cmd: $(c dssim to)"
		echo "opt: $(c dssim top --mo)"
		echo "mode: $(c dssim top --mode "")"
		echo "fmt: $(c dssim report --format "")"
		echo "runfmt: $(c dssim -f "")"
		echo "files: $(c dssim compare "")"
		echo "db: $(c dssim top --db b)"
		echo "sub: $(c dssim db m)"
	' sh "$top_src/completions/dssim") >"$out/complete.out" 2>"$out/complete.err"
	has complete out "cmd: top"
	has complete out "opt: --mode"
	has complete out "mode: train infer"
	has complete out "fmt: text md csv html json"
	has complete out "runfmt: text json"
	has complete out "files: a.yaml sub"
	has complete out "db: b.db"
	has complete out "sub: merge"
	[ -s "$out/complete.err" ] && bad "bash completion: $(head -1 "$out/complete.err")" ||
		ok "bash completion runs without errors"
else
	echo "SKIP bash completion: no bash"
fi
# Every long option in the usage lines of a command's --help is completed for that command
# (bash: its opts line; zsh: anywhere in the file), so completions keep in step with commands.
for cmd in validate calibrate sweep top compare report plan; do
	line=$(grep -E "^	$cmd\) opts=" "$top_src/completions/dssim")
	missing=
	for o in $("$dssim" "$cmd" --help | sed "/^$/q" | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		case "$line" in *"$o "* | *"$o\""*) ;; *) missing="$missing $o" ;; esac
		grep -qF -- "$o" "$top_src/completions/_dssim" || missing="$missing zsh:$o"
	done
	[ -z "$missing" ] && ok "completions of $cmd cover its --help" ||
		bad "completions of $cmd lack:$missing"
done
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$top_src/completions/_dssim" && ok "zsh completion parses" || bad "zsh completion"
fi

finish
