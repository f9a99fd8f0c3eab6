#!/bin/sh
# golden.sh: the text dssim prints, pinned — every shipped scenario, and top, compare and report
# on a small sweep database (tests/golden/train.yaml and serve.yaml, one worker so point ids are
# stable) — compared with the files in tests/golden/, each closing with the command's exit status.
# `golden.sh --refresh` (`make golden`) rewrites those files, so a change of output shows in review
# as a diff. What varies from run to run (the scratch directory, timings) is normalised by sed.
# Builds with sanitizers or fuzzing hooks skip (exit 77): they are for memory errors, not digits.
# Prints one line per check and closes with "N passed, N failed".
set -u
suite=golden
. "$(dirname "$0")/lib.sh"

refresh=no
[ "${1:-}" = "--refresh" ] && refresh=yes
golden="$top_src/tests/golden"

if [ "$refresh" = no ] && [ -n "${DSSIM_SAN_CFLAGS:-}" ]; then
	echo "skip golden files: built with '$DSSIM_SAN_CFLAGS'"
	exit 77
fi

cd "$top_src" || exit 1

# normalise: the scratch directory and the source tree become placeholders; a sweep's wall time,
# rate and share of SQLite writes become N.
normalise() {
	sed -e "s|$out|\$OUT|g" -e "s|$top_src|\$SRC|g" \
		-e 's| in [0-9.]* s, [0-9.]* points/s; SQLite writes [0-9.]*% of the time| in N s, N points/s; SQLite writes N% of the time|'
}

# golden NAME CMD...: run CMD (dssim's arguments) and compare "$ dssim ARGS", its stdout, its
# stderr (when any) and "exit: N" with tests/golden/NAME.txt, or write that file with --refresh.
golden() {
	name=$1
	shift
	"$dssim" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr"
	status=$?
	line="\$ dssim"
	for a in "$@"; do
		case $a in *" "*) line="$line '$a'" ;; *) line="$line $a" ;; esac
	done
	{
		echo "$line"
		cat "$out/$name.stdout"
		if [ -s "$out/$name.stderr" ]; then
			echo "stderr:"
			cat "$out/$name.stderr"
		fi
		echo "exit: $status"
	} | normalise >"$out/$name.txt"
	if [ "$refresh" = yes ]; then
		cp "$out/$name.txt" "$golden/$name.txt" && ok "wrote tests/golden/$name.txt" ||
			bad "cannot write tests/golden/$name.txt"
	elif [ ! -f "$golden/$name.txt" ]; then
		bad "$name: no tests/golden/$name.txt (make golden writes it)"
	elif diff -u "$golden/$name.txt" "$out/$name.txt" >"$out/$name.diff"; then
		ok "$name"
	else
		bad "$name differs from tests/golden/$name.txt (make golden refreshes it):"
		cat "$out/$name.diff"
	fi
}

for f in scenarios/*.yaml; do
	golden "scenario_$(basename "$f" .yaml)" "$f"
done

db="$out/golden.db"
golden sweep_train sweep -q -j 1 tests/golden/train.yaml --db "$db"
golden sweep_serve sweep -q -j 1 tests/golden/serve.yaml --db "$db"
golden top top --db "$db"
golden top_cost top --db "$db" --by usd_per_mtok -n 5
golden top_misfits top --db "$db" --where "not fits"
golden compare compare --db "$db" 21 9 3 26
golden compare_scenario compare --db "$db" scenarios/32b_zero3.yaml 21
golden report report --db "$db" --format text
golden report_2t report --db "$db" --format text --tokens 2T --target-rate 10/s

# A file in tests/golden/ that no command above writes is stale.
if [ "$refresh" = no ]; then
	for f in "$golden"/*.txt; do
		[ -f "$out/$(basename "$f")" ] || bad "tests/golden/$(basename "$f") is written by no check"
	done
fi

finish
