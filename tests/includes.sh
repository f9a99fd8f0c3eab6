#!/bin/sh
# includes.sh: the pipeline shows in the includes (STYLE.md rule 4). A module may include only
# headers of its own stage or an earlier one; main.c, at the end, may include anything. Also:
# only the store knows SQLite, report/ reads only through the store, the headers of sim/ form
# no cycle, the engine's modules know nothing of transformers, and no .c file passes 800 lines.
set -u
top_src=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top_src/sim" || exit 1

# A prefix family (store_read.c, sweep_spec.c, store_int.h) is in its module's stage.
stage_of() {
	case "$1" in
	xalloc | diag | units | json | outfile | bug | cost | walltime) echo 0 ;;
	yamltree | hfconfig | preset | hardware | scenario_types | schema | scenario | canonical) echo 1 ;;
	calibration | scenario_check | scenario_profile | scenario_int | scenario_speculative | schema_parse) echo 1 ;;
	schema_serving_rows) echo 1 ;;
	model | layout | compute | kernels | collective | memory | memory_* | requests | forward) echo 2 ;;
	overhead | speculative) echo 2 ;;
	schedule | schedule_* | graph | step | step_*) echo 3 ;;
	queue | memtrack | engine | engine_int | engine_append) echo 4 ;;
	serve | serve_slo | serve_pools | serve_int | serve_pools_* | serve_static | serve_admit | serve_state | serve_summary) echo 4 ;;  # drives the engine: after it
	result | run | output | output_* | trace | validate | table | calibrate) echo 5 ;;
	store | store_* | sweep | sweep_*) echo 5 ;;
	*) echo 99 ;;
	esac
}

includes() {
	[ -f "$1" ] || return 0
	sed -n 's/^#include "\([a-z_]*\)\.h".*/\1/p' "$1"
}

pass=0
fail=0
for c in *.c *.h; do
	mod=${c%.*}
	case $mod in main | main_*) continue ;; esac
	s=$(stage_of "$mod")
	if [ "$s" = 99 ]; then
		echo "FAIL sim/$c: module not placed in a pipeline stage (add it to tests/includes.sh)"
		fail=$((fail + 1))
		continue
	fi
	for inc in $(includes "$c"); do
		[ "$inc" = config ] && continue
		is=$(stage_of "$inc")
		if [ "$is" -gt "$s" ]; then
			echo "FAIL sim/$c (stage $s) includes $inc.h (stage $is)"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done
done

# (a) Only the store knows SQLite (STYLE.md rule 16): no other file of the program includes
# sqlite3.h or calls sqlite3_*. The store's own tests may look at the file directly.
for c in "$top_src"/sim/*.[ch] "$top_src"/report/*.[ch] "$top_src"/bench/*.[ch]; do
	[ -f "$c" ] || continue
	case $(basename "$c") in store.c | store_*.c) continue ;; esac
	if grep -Eq '^#include <sqlite3\.h>|sqlite3_[a-z0-9_]*[[:space:]]*\(' "$c"; then
		echo "FAIL ${c#"$top_src"/}: uses SQLite; only sim/store*.c may"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done

# (b) report/ reads only the database, through the store (DESIGN.md): besides its own headers,
# the store, the table formatter and the foundations (the cost formulas among them).
for c in "$top_src"/report/*.c "$top_src"/report/*.h; do
	for inc in $(includes "$c"); do
		case $inc in
		report | report_* | store | table | xalloc | diag | cost) pass=$((pass + 1)) ;;
		*)
			echo "FAIL report/$(basename "$c") includes $inc.h:" \
				"a report reads only the database"
			fail=$((fail + 1))
			;;
		esac
	done
done

# (c) No include cycle among the modules of sim/: a module is its .c and .h (schema.c including
# scenario.h while scenario.c includes schema.h is a cycle); a depth-first search over their
# #include "x.h" lines prints each cycle once, as its modules in order. main*.c are left out:
# the command line sits on top and nothing includes it.
# A prefix family (store_read.c, store_int.h) is one module with its prefix.
module_of() {
	case $1 in
	store_* | sweep_* | memory_* | scenario_check | scenario_profile | serve_slo | serve_pools | serve_pools_* | serve_static | serve_admit | serve_state) echo "${1%%_*}" ;;
	*_int) echo "${1%_int}" ;;
	*) echo "$1" ;;
	esac
}
cycles=$(for f in *.c *.h; do
	m=$(module_of "${f%.*}")
	case $m in main | main_*) continue ;; esac
	for inc in $(includes "$f"); do
		[ -f "$inc.h" ] || continue
		i=$(module_of "$inc")
		[ "$i" != "$m" ] && echo "$m $i"
	done
done | sort -u | awk '
	{ out[$1] = out[$1] " " $2; node[$1] = 1; node[$2] = 1 }
	function dfs(u,    n, k, i, v, c, w) {
		colour[u] = 1
		stack[++depth] = u
		n = split(out[u], next_, " ")
		for (k = 1; k <= n; k++) nexts[u, k] = next_[k]
		count[u] = n
		for (i = 1; i <= count[u]; i++) {
			v = nexts[u, i]
			if (colour[v] == 1) {
				c = ""
				for (w = depth; w >= 1; w--) {
					c = stack[w] (c == "" ? "" : " " c)
					if (stack[w] == v) break
				}
				print c
			} else if (colour[v] == 0) {
				dfs(v)
			}
		}
		depth--
		colour[u] = 2
	}
	END { for (u in node) if (colour[u] == 0) dfs(u) }' | sort -u)
if [ -n "$cycles" ]; then
	echo "$cycles" | while read -r cycle; do
		echo "FAIL include cycle among sim/ modules: $cycle -> ${cycle%% *}"
	done
	fail=$((fail + $(echo "$cycles" | wc -l)))
fi
pass=$((pass + 1))

# (d) The engine's modules know nothing of transformers: engine, graph, queue and memtrack
# include none of the model, scenario, step, serve or forward headers, directly or through
# the headers they include.
for m in engine engine_append graph queue memtrack; do
	seen=" "
	todo=$(includes "$m.c"; includes "$m.h")
	while :; do
		set -- $todo
		[ $# -eq 0 ] && break
		inc=$1
		shift
		todo=$*
		case $seen in *" $inc "*) continue ;; esac
		seen="$seen$inc "
		[ -f "$inc.h" ] && todo="$todo $(includes "$inc.h")"
	done
	bad=""
	for t in model scenario step serve forward; do
		case $seen in *" $t "*) bad="$bad $t.h" ;; esac
	done
	if [ -n "$bad" ]; then
		echo "FAIL sim/$m knows of transformers: it includes$bad"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done

# (e) Small files (STYLE.md rule 5): no .c file over 800 lines; past that, split along a prefix
# family with a private x_int.h.
for c in "$top_src"/sim/*.c "$top_src"/report/*.c; do
	n=$(wc -l <"$c")
	if [ "$n" -gt 800 ]; then
		echo "FAIL ${c#"$top_src"/}: $n lines; split it along a prefix family (HACKING.md)"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
