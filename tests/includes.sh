#!/bin/sh
# includes.sh: the pipeline shows in the includes (STYLE.md rule 4). A module may include only
# headers of its own stage or an earlier one; main.c, at the end, may include anything.
set -u
top_src=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top_src/sim" || exit 1

stage_of() {
	case "$1" in
	xalloc | diag | units | json) echo 0 ;;
	yamltree | schema | hfconfig | scenario) echo 1 ;;
	model | hardware | layout | compute | collective | memory | requests | forward) echo 2 ;;
	schedule | graph | step) echo 3 ;;
	queue | memtrack | engine | serve) echo 4 ;;
	result | output | trace | validate | store | sweep) echo 5 ;;
	*) echo 99 ;;
	esac
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
	for inc in $(sed -n 's/^#include "\([a-z_]*\)\.h".*/\1/p' "$c"); do
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
# report/ reads only the database (DESIGN.md): besides its own headers, only the foundations.
for c in "$top_src"/report/*.c "$top_src"/report/*.h; do
	for inc in $(sed -n 's/^#include "\([a-z_]*\)\.h".*/\1/p' "$c"); do
		case $inc in
		table | report | xalloc | json) pass=$((pass + 1)) ;;
		*)
			echo "FAIL report/$(basename "$c") includes $inc.h: a report reads only the database"
			fail=$((fail + 1))
			;;
		esac
	done
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
