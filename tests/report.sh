#!/bin/sh
# report.sh: dssim report on a database holding a small training sweep and a small serving
# sweep — every format, the planning arithmetic checked by hand against the table's own
# columns, --price overrides, clear errors (exit 2 for usage, 1 for a database that cannot be
# read) — and the HTML page loaded in headless Chromium when it is installed (CI installs it).
# Prints one line per check and closes with "N passed, N failed". Without Chromium the script
# reports SKIP (exit 77, automake's convention) unless another check failed.
set -u
suite=report
. "$(dirname "$0")/lib.sh"

cd "$top_src" || exit 1

# Optimizer offload on both instance types, as the base has it, and nothing else offloaded, so
# offload does not vary. The p4de.24xlarge preset has no PCIe figure (the search leaves offload
# out there), so the sweep gives one: the A100's PCIe Gen4 x16, 32 GB/s per direction.
cat >"$out/train.yaml" <<YAML
base: $top_src/scenarios/32b_zero3.yaml
axes:
  cluster.node: [p4de.24xlarge, p5.48xlarge]
  cluster.nodes: [1, 2]
  cluster.node.links.pcie.bw: [32 GB/s]
  strategy: {auto: true, tp: [2, 4], pp: [1, 2], zero: [1, 2], micro_batch: [1],
             recompute: [selective], schedule: [1f1b], offload.optimizer: [cpu],
             offload.params: [none]}
YAML
cat >"$out/serve.yaml" <<YAML
base: $top_src/scenarios/deepseek_v3_fp8_8xh200.yaml
axes:
  cluster.node: [p5e.48xlarge, p5.48xlarge]
  workload.arrival.rate: [1, 2]
  workload.requests: [200]
YAML
"$dssim" sweep -q -j 2 "$out/train.yaml" --db "$out/r.db" >/dev/null &&
	"$dssim" sweep -q -j 2 "$out/serve.yaml" --db "$out/r.db" >/dev/null &&
	ok "two sweeps into one database" || bad "sweeps into one database"

# A sweep that varies weight precision and optimizer offload: every table names both in each
# row's strategy, since the four rows otherwise read alike (issue 16's bar). Four points: bf16
# and fp8 weights, optimizer on the GPU and on the CPU; the cheapest is one of them.
cat >"$out/vary.yaml" <<YAML
base: $top_src/scenarios/32b_zero3.yaml
axes:
  workload.dtype: [bf16, fp8]
  strategy.offload.optimizer: [none, cpu]
YAML
"$dssim" sweep -q "$out/vary.yaml" --db "$out/vary.db" >/dev/null && ok "sweep varying dtype and offload" ||
	bad "sweep varying dtype and offload"
expect 0 vary "$dssim" report --db "$out/vary.db"
# Each row of the three strategy tables and the memory table: "<dtype> weights optimizer on
# <GPU|CPU>"; a row without both fails.
check=$(awk '/^p4de.24xlarge / { n++; if ($0 ~ /(bf16|fp8) weights optimizer on (GPU|CPU)/) k++ }
	END { print n + 0, k + 0 }' "$out/vary.out")
case $check in "4 4") ok "every table row names weights and offload" ;;
*) bad "rows naming weights and offload (rows, named): $check" ;; esac
expect 0 vary_top "$dssim" top --db "$out/vary.db" --format csv
has vary_top out "weight_dtype,offload_optimizer"
# A database where neither varies names neither.
expect 0 text_plain "$dssim" report --db "$out/r.db"
if grep -q "[0-9a-z] weights\|optimizer on" "$out/text_plain.out"; then bad "constant settings named"; else ok "constant settings not named"; fi

expect 0 help "$dssim" report --help
has help out "--tokens"
expect 0 text "$dssim" report --db "$out/r.db" --tokens 2T --target-rate 10/s
has text out "Best configuration per instance type, by cost"
has text out "Pareto front of cost against time"
has text out "Serving deepseek-v3"
has text out "does not fit: device memory"
has text out "p4de.24xlarge: 27.45 USD/h per node, on demand, read 2025-12-21"
# A Capacity Block price is labelled as one, beside the node and in the prices (issue 16).
has text out "p5e.48xlarge: 43.26 USD/h per node, capacity block, read 2024-12-31"

# By hand from the CSV's own columns: days = 2e12 / (tokens/s) / 86400 and USD = days x 24 x
# USD/h, within the rounding of the printed tokens/s (an integer) and USD/h (cents).
expect 0 csv "$dssim" report --db "$out/r.db" --tokens 2T --format csv
check=$(awk -F, '/^p4de.24xlarge,/ && !done {
	tps = $6; usdh = $9; days = $11; usd = $12; done = 1
	want_days = 2e12 / tps / 86400; want_usd = days * 24 * usdh
	ok = (days - want_days) ^ 2 <= (want_days * 1e-3) ^ 2 && (usd - want_usd) ^ 2 <= (want_usd * 1e-3) ^ 2
	print (ok ? "ok" : "bad") " days " days " vs " want_days ", USD " usd " vs " want_usd }' \
	"$out/csv.out")
case $check in ok*) ok "planning arithmetic: $check" ;; *) bad "planning arithmetic: ${check:-no p4de row}" ;; esac

# Serving, by hand from the same row: GPUs for 10/s = ceil(10 / rate) replicas x GPUs, and USD per
# million output tokens = USD/h / 3600 / (output tok/s) x 1e6.
expect 0 serve_csv "$dssim" report --db "$out/r.db" --target-rate 10/s --format csv
check=$(awk -F, '/^p5e.48xlarge \(capacity block\),/ {
	n = 10 / $5; reps = (n == int(n)) ? n : int(n) + 1; want_gpus = reps * $2
	want_usd = $9 / 3600 / $6 * 1e6
	ok = $11 == want_gpus && ($10 - want_usd) ^ 2 <= (want_usd * 2e-3) ^ 2
	print (ok ? "ok" : "bad") " GPUs " $11 " vs " want_gpus ", USD/M " $10 " vs " want_usd; exit }' \
	"$out/serve_csv.out")
case $check in ok*) ok "serving arithmetic: $check" ;; *) bad "serving arithmetic: ${check:-no p5e row}" ;; esac

# --price replaces the preset's price: USD/h is the given price times the nodes.
expect 0 price "$dssim" report --db "$out/r.db" --format csv --price p4de.24xlarge=10
usdh=$(awk -F, '/^p4de.24xlarge,/ { print $2 * 10 "=" $9; exit }' "$out/price.out")
case $usdh in 10=10.00 | 20=20.00) ok "--price: USD/h $usdh" ;; *) bad "--price: got '$usdh'" ;; esac
has price out "p4de.24xlarge: 10.00 USD/h per node (--price)"

expect 0 md "$dssim" report --db "$out/r.db" --format md
has md out "|---|---:|"
has md out "## Training deepseek-r1-distill-qwen-32b"
expect 0 html "$dssim" report --db "$out/r.db" --format html -o "$out/report.html"
svgs=$(grep -c "<svg" "$out/report.html")
[ "$svgs" -ge 4 ] && ok "html has $svgs charts" || bad "html has $svgs charts, expected >= 4"
if grep -qE '(src|href)="(http|//)' "$out/report.html"; then bad "html loads from the network"; else ok "html is self-contained"; fi

# The charts read as charts: parsed as SVG, every tick label round and humanized (no
# e-notation), ticks evenly spaced on their scale (log10 of the value on a log axis), one legend
# entry per instance type in the cost chart with the points in their type's colour, the Pareto
# front joined and labelled, every chart titled, and the serving KV reserve drawn. A sweep
# from 1 to 16 nodes spans more than a decade of days: its time axis is a log axis.
cat >"$out/wide.yaml" <<YAML
base: $top_src/scenarios/32b_zero3.yaml
axes:
  cluster.node: [p4de.24xlarge, p5.48xlarge]
  cluster.nodes: [1, 4, 16]
  strategy: {auto: true, tp: [4], pp: [1], zero: [1], micro_batch: [1],
             recompute: [selective], schedule: [1f1b]}
YAML
"$dssim" sweep -q -j 2 "$out/wide.yaml" --db "$out/w.db" >/dev/null &&
	"$dssim" report --db "$out/w.db" --tokens 2T --format html -o "$out/wide.html" &&
	ok "a sweep over 1 to 16 nodes reports" || bad "the 1 to 16 node sweep"
# Without python3, the same checks' core by grep.
if grep -o 'class="tick"[^>]*>[^<]*<' "$out/report.html" "$out/wide.html" |
	grep -q '[0-9]e[-+]\{0,1\}[0-9]'; then
	bad "a tick label in e-notation"
else
	ok "no tick label in e-notation"
fi
grep -q '<g class="axis x log">' "$out/wide.html" && ok "wide.html: a log time axis" ||
	bad "wide.html: no log time axis"
entries=$(grep -c '<g class="legend-entry"><rect[^>]*/><text class="legend-label"[^>]*>p[45]' \
	"$out/wide.html")
[ "$entries" -eq 2 ] && ok "wide.html: 2 instance types in the legend" ||
	bad "wide.html: $entries instance types in the legend, expected 2"
if command -v python3 >/dev/null 2>&1; then
	python3 - "$out/report.html" "$out/wide.html" >"$out/svg.out" 2>&1 <<'PY'
import math, re, sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
SCALE = {"": 1, "k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
failed = []

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failed.append(what)

def value(label):
    m = re.fullmatch(r"-?\$?(\d+(?:\.\d+)?)([kMBT]?)", label)
    return float(m.group(1)) * SCALE[m.group(2)] if m else None

def mantissa(v):
    return round(v / 10 ** math.floor(math.log10(v) + 1e-9), 6)

def evenly_spaced(pos, keys):
    if len(pos) < 3:
        return True
    slope = (pos[-1] - pos[0]) / (keys[-1] - keys[0])
    return all(abs(pos[0] + (k - keys[0]) * slope - p) < 0.6 for p, k in zip(pos, keys))

def axes(svg, name):
    for g in svg.iter(NS + "g"):
        cls = g.get("class", "").split()
        if "axis" not in cls:
            continue
        ticks = [t for t in g.iter(NS + "text") if t.get("class") == "tick"]
        labels = [t.text for t in ticks]
        vals = [value(x) for x in labels]
        where = "%s %s axis %s" % (name, " ".join(cls[1:]), " ".join(labels))
        check(len(ticks) >= 3 and None not in vals, where + ": at least 3 humanized labels")
        if None in vals or len(vals) < 3:
            continue
        pos = [float(t.get("x" if "x" in cls else "y")) for t in ticks]
        if "log" in cls:
            check(all(v > 0 and mantissa(v) in (1, 2, 5) for v in vals),
                  where + ": ticks at 1, 2 or 5 times a power of ten")
            check(evenly_spaced(pos, [math.log10(v) for v in vals]),
                  where + ": positions follow log10 of the value")
        else:
            steps = [b - a for a, b in zip(vals, vals[1:])]
            step = steps[0]
            check(step > 0 and mantissa(step) in (1, 2, 5) and
                  all(abs(s - step) <= 0.02 * step for s in steps),
                  where + ": one step of 1, 2 or 5 times a power of ten")
            check(evenly_spaced(pos, vals), where + ": positions follow the value")
        yield cls

def charts(path):
    html = open(path, encoding="utf-8").read()
    ticks = " ".join(re.findall(r'class="tick"[^>]*>([^<]*)<', html))
    check(not re.search(r"\de[-+]?\d", ticks),
          path + ": no e-notation in tick labels")
    return [ET.fromstring(m) for m in re.findall(r"<svg.*?</svg>", html, re.S)]

for path in sys.argv[1:]:
    svgs = charts(path)
    name = path.rsplit("/", 1)[-1]
    for i, svg in enumerate(svgs):
        title = [t.text for t in svg.iter(NS + "text") if t.get("class") == "title"]
        check(len(title) == 1 and len(title[0]) > 20, "%s chart %d titled: %s" % (name, i, title))
        kinds = list(axes(svg, "%s chart %d" % (name, i)))
        points = [c for c in svg.iter(NS + "circle") if c.get("class") == "point"]
        if not points:
            continue
        entries = [g for g in svg.iter(NS + "g") if g.get("class") == "legend-entry"]
        legend = {g.find(NS + "text").text: g.find(NS + "rect").get("fill") for g in entries}
        nodes = {c.find(NS + "title").text.split(" x")[0]: c.get("fill") for c in points}
        check(len(entries) == len(legend) and sorted(legend) == sorted(nodes),
              "%s cost chart: one legend entry per instance type %s" % (name, sorted(nodes)))
        check(all(legend.get(c.find(NS + "title").text.split(" x")[0]) == c.get("fill")
                  for c in points), "%s cost chart: points in their type's colour" % name)
        front = [p for p in svg.iter(NS + "polyline") if p.get("class") == "front"]
        labels = [t for t in svg.iter(NS + "text") if t.get("class") == "front-label"]
        check(len(front) == 1 and len(front[0].get("points").split()) >= 2 and labels,
              "%s cost chart: Pareto front joined, %d labels" % (name, len(labels)))
        if name == "wide.html":
            check(["axis", "x", "log"] in kinds, "wide.html: days over 1 to 16 nodes on a log axis")
    if name == "report.html":
        kv = [r for s in svgs for r in s.iter(NS + "rect") if r.get("class") == "kv-reserve"]
        check(len(kv) > 0 and all("reserved" in r.find(NS + "title").text for r in kv),
              "report.html: serving memory bars draw the KV reserve (%d bars)" % len(kv))
sys.exit(1 if failed else 0)
PY
	status=$?
	grep '^FAIL' "$out/svg.out"
	[ $status -eq 0 ] && ok "charts parsed as SVG: $(grep -c '^ok' "$out/svg.out") checks" ||
		bad "charts parsed as SVG: $(grep -c '^FAIL' "$out/svg.out") failed (see $out/svg.out)"
else
	echo "SKIP the charts' SVG checks: python3 is not installed"
fi

expect 2 bad_price "$dssim" report --db "$out/r.db" --price p4de
expect 2 bad_slo "$dssim" report --db "$out/r.db" --slo ttft=2s
expect 2 bad_format "$dssim" report --db "$out/r.db" --format pdf
expect 2 bad_tokens "$dssim" report --db "$out/r.db" --tokens lots
expect 1 no_db "$dssim" report --db "$out/none.db"
expect 1 bad_out "$dssim" report --db "$out/r.db" -o "$out/no/such/dir/r.html"
if ls "$out/no" >/dev/null 2>&1; then bad "-o left something"; else ok "-o to a missing directory leaves nothing"; fi

# A database of another schema version is refused by every reader, with one message, exit 1:
# user_version is the big-endian 32-bit integer at byte 60 of an SQLite file's header
# (sqlite.org/fileformat2.html, "The Database Header"); the sweeps above left no WAL behind.
cp "$out/r.db" "$out/old.db"
printf '\000\000\000\002' | dd of="$out/old.db" bs=1 seek=60 count=4 conv=notrunc 2>/dev/null
refused="$out/old.db: schema 2, this dssim reads 8: re-run the sweep into a new file"
for cmd in report top "db check"; do
	name=old_$(echo "$cmd" | tr ' ' _)
	if [ "$cmd" = "db check" ]; then
		expect 1 "$name" "$dssim" db check "$out/old.db"
	else
		expect 1 "$name" "$dssim" "$cmd" --db "$out/old.db"
	fi
	if [ "$(cat "$out/$name.err")" = "dssim $cmd: $refused" ]; then
		ok "$cmd refuses another schema"
	else
		bad "$cmd on schema 2: $(cat "$out/$name.err")"
	fi
done

# Options that name what the database does not hold are bad input (exit 2) and say what it
# does hold; --tokens is bounded so every day and USD figure stays finite and short.
expect 2 price_unknown_node "$dssim" report --db "$out/r.db" --price nosuch.large=10
has price_unknown_node err "--price: no node 'nosuch.large' in the database (it holds p4de.24xlarge, p5.48xlarge, p5e.48xlarge)"
expect 2 point_unknown "$dssim" report --db "$out/r.db" --point 999999
has point_unknown err "--point: no point with id 999999 in the database"
expect 2 tokens_huge "$dssim" report --db "$out/r.db" --tokens 1e308
has tokens_huge err "from 1 to 1e18"
expect 2 tokens_tiny "$dssim" report --db "$out/r.db" --tokens 0.5
has help out "from 1 to 1e18"
expect 0 tokens_max "$dssim" report --db "$out/r.db" --tokens 1e18 --target-rate 1e300/s --format csv
if grep -qE '[0-9]{13}|\binf\b|\bnan\b' "$out/tokens_max.out"; then
	bad "--tokens 1e18 prints a 13-digit or non-finite figure: $(grep -oE '[^,]*([0-9]{13}|\binf\b|\bnan\b)[^,]*' "$out/tokens_max.out" | head -3)"
else
	ok "--tokens 1e18: every figure finite and short"
fi
has tokens_max out "1e+18 training tokens"
cksum <"$out/r.db" >"$out/db.sum"
expect 2 out_is_db "$dssim" report --db "$out/r.db" -o "$out/r.db"
has out_is_db err "is an input of this run"
if cksum <"$out/r.db" | cmp -s - "$out/db.sum"; then ok "-o the database leaves it intact"; else bad "-o the database changed it"; fi
expect 0 out_dash "$dssim" report --db "$out/r.db" -o -
has out_dash out "dssim capacity report"

# --format json: one document of the text's titles, notes and tables, with the same figures.
expect 0 json "$dssim" report --db "$out/r.db" --tokens 2T --format json
has json out '{"report": "dssim capacity report", "items": ['
has json out '{"title": "Best configuration per instance type, by cost", "level": 2}'
has json out '{"table": ['
has json out '"node": "p4de.24xlarge"'
if command -v python3 >/dev/null 2>&1; then
	if python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["items"]' \
		<"$out/json.out" 2>"$out/json.py"; then
		ok "report json parses"
	else
		bad "report json does not parse: $(tail -1 "$out/json.py")"
	fi
fi
# The first cost row's USD/h in JSON is the text's.
usdh_text=$(awk '/^p4de.24xlarge / {
	for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9][0-9]$/) { print $i; exit } }' "$out/text.out")
has json out "\"USD/h\": $usdh_text"

# top: serving columns for serving points, by --mode or when the database holds only those.
expect 0 top_infer "$dssim" top --db "$out/r.db" --mode infer
has top_infer out "requests_per_s"
has top_infer out "ttft_p99"
has top_infer out "tpot_p50"
has top_infer out "usd_per_mtok_out"
has top_infer out "deepseek-v3"
if grep -q "deepseek-r1" "$out/top_infer.out" || grep -q "step_s" "$out/top_infer.out"; then
	bad "top --mode infer shows training points or columns"
else
	ok "top --mode infer: serving points and columns only"
fi
expect 0 top_train "$dssim" top --db "$out/r.db" --mode train
has top_train out "step_s"
has top_train out "mfu"
expect 0 top_mixed "$dssim" top --db "$out/r.db"
has top_mixed out "step_s"
"$dssim" sweep -q -j 2 "$out/serve.yaml" --db "$out/s.db" >/dev/null
expect 0 top_serving_db "$dssim" top --db "$out/s.db" --format csv
has top_serving_db out "id,model,node,nodes,gpus,tp,pp,dp,ep,dtype,seq_len,arrival_rate,\
requests_per_s,output_tokens_per_s,ttft_p50,ttft_p99,tpot_p50,tpot_p99,peak_gib,usd_per_hour,\
price,usd_per_mtok_out"
expect 2 top_bad_mode "$dssim" top --db "$out/r.db" --mode both
has top_bad_mode err "dssim top: --mode: expected train or infer, got 'both'"

# compare: * on the fields that differ, readable units in text, raw numbers in CSV.
ids=$("$dssim" top --db "$out/r.db" --mode train -n 2 --format csv |
	awk -F, 'NR > 1 { printf "%s ", $1 }')
# shellcheck disable=SC2086
expect 0 compare_text "$dssim" compare --db "$out/r.db" $ids
if grep -qE '^model +\* ' "$out/compare_text.out"; then
	bad "compare marks model, the same in both"
else
	ok "compare leaves equal fields unmarked"
fi
grep -qE '^tp +\* |^pp +\* |^zero +\* |^node +\* |^nodes +\* ' "$out/compare_text.out" &&
	ok "compare marks a differing setting" || bad "compare marks no differing setting"
grep -qE '^peak_per_gpu +[*-] +[0-9.]+ GiB' "$out/compare_text.out" &&
	ok "compare: peak_per_gpu in GiB" || bad "compare: peak_per_gpu not in GiB"
grep -qE '^step_s +\* +[0-9.]+ m?s ' "$out/compare_text.out" &&
	ok "compare: step_s in seconds" || bad "compare: step_s not in s or ms"
has compare_text out "TFLOP/s"
# shellcheck disable=SC2086
expect 0 compare_csv "$dssim" compare --db "$out/r.db" --format csv $ids
if grep -qE 'GiB|TFLOP/s| s,' "$out/compare_csv.out"; then
	bad "compare csv has units"
else
	ok "compare csv keeps raw numbers"
fi

# The page in a real browser: it loads, renders the charts and logs no console error.
skipped=
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$browser" ]; then
	"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1366,900 \
		--enable-logging=stderr --v=0 --screenshot="$out/report.png" \
		"file://$out/report.html" >"$out/chromium.out" 2>"$out/chromium.err"
	if [ -s "$out/report.png" ] && [ "$(wc -c <"$out/report.png")" -gt 20000 ]; then
		ok "chromium screenshot ($(wc -c <"$out/report.png" | tr -d ' ') bytes)"
	else
		bad "chromium screenshot missing or blank"; tail -5 "$out/chromium.err"
	fi
	if grep -q "CONSOLE" "$out/chromium.err"; then bad "console messages:"; grep CONSOLE "$out/chromium.err"; else ok "no console errors"; fi
	"$browser" --headless --no-sandbox --disable-gpu --dump-dom "file://$out/report.html" \
		>"$out/dom.out" 2>/dev/null
	has dom out "<svg"
	has dom out "Pareto front of cost against time"
else
	skipped="chromium is not installed (apt-get install chromium); CI runs it"
	echo "SKIP the page in headless chromium: $skipped"
fi

finish || exit 1
[ -z "$skipped" ] || exit 77
