#!/bin/sh
# outputs.sh: every command that writes a file named on its command line (`dssim -t FILE`,
# `dssim report -o FILE`) against the files that must not be destroyed (sim/outfile.h): a FIFO
# (written in place, read by a background cat), a symlink (written through, still a link), a
# planted NAME.tmp symlink (never followed), an existing file (its mode kept), a directory and
# the command's own input (both refused with exit 2, the input intact), and, as root only, a
# character device (written in place). Prints one line per check and "N passed, N failed".
set -u
suite=outputs
. "$(dirname "$0")/lib.sh"

DSSIM_DATA=${DSSIM_DATA:-$top_src}
export DSSIM_DATA
cd "$top_src" || exit 1

# The inputs live in the scratch directory, so a failure can only damage copies.
cp scenarios/32b_zero3.yaml "$out/scenario.yaml"
"$dssim" sweep -q -j 1 tests/golden/train.yaml --db "$out/r.db" >/dev/null &&
	ok "a small database" || bad "sweep into $out/r.db"

# run_to KIND TARGET NAME: the command of KIND (trace or report) writing to TARGET.
run_to() {
	case $1 in
	trace) expect "$4" "$3" "$dssim" -t "$2" "$out/scenario.yaml" ;;
	report) expect "$4" "$3" "$dssim" report --db "$out/r.db" -o "$2" ;;
	esac
}

# What each kind writes, to recognise it.
mark_of() {
	case $1 in
	trace) echo '"traceEvents"' ;;
	report) echo 'dssim capacity report' ;;
	esac
}

for kind in trace report; do
	mark=$(mark_of $kind)
	d="$out/$kind"
	mkdir -p "$d"

	# A FIFO is written in place: the reader gets the output, the FIFO stays a FIFO.
	mkfifo "$d/fifo"
	cat "$d/fifo" >"$d/fifo.got" &
	reader=$!
	run_to $kind "$d/fifo" ${kind}_fifo 0
	# The reader ends at the writer's close; when dssim never opened the FIFO (or replaced it)
	# the reader is still waiting after 5 s and is stopped, so a regression cannot hang here.
	i=0
	while kill -0 "$reader" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill "$reader" 2>/dev/null
	wait "$reader" 2>/dev/null
	if grep -qF -- "$mark" "$d/fifo.got"; then ok "$kind: the FIFO's reader got the output"; else bad "$kind: nothing came through the FIFO"; fi
	if [ -p "$d/fifo" ]; then ok "$kind: the FIFO is still a FIFO"; else bad "$kind: the FIFO was replaced"; fi

	# A symlink is written through: the link stays, its target gets the output.
	echo old >"$d/real"
	ln -s real "$d/link"
	run_to $kind "$d/link" ${kind}_symlink 0
	if [ -L "$d/link" ]; then ok "$kind: the symlink is still a symlink"; else bad "$kind: the symlink was replaced"; fi
	if grep -qF -- "$mark" "$d/real"; then ok "$kind: the symlink's target got the output"; else bad "$kind: the symlink's target was not written"; fi

	# A planted NAME.tmp symlink is never followed: what it points to is untouched.
	echo precious >"$d/victim"
	ln -s victim "$d/out.tmp"
	run_to $kind "$d/out" ${kind}_planted 0
	if [ "$(cat "$d/victim")" = precious ]; then ok "$kind: a planted .tmp symlink is not followed"; else bad "$kind: the planted .tmp symlink's target was overwritten"; fi
	if [ -L "$d/out.tmp" ] && grep -qF -- "$mark" "$d/out"; then ok "$kind: the output is in place, the .tmp link untouched"; else bad "$kind: output or .tmp link wrong"; fi
	if ls "$d"/.dssim-* >/dev/null 2>&1; then bad "$kind: a temporary file was left behind"; else ok "$kind: no temporary file left"; fi

	# An existing file keeps its mode.
	chmod 640 "$d/out"
	run_to $kind "$d/out" ${kind}_mode 0
	mode=$(stat -c %a "$d/out")
	if [ "$mode" = 640 ]; then ok "$kind: the replaced file keeps mode 640"; else bad "$kind: mode $mode after replacing a 640 file"; fi

	# A directory is refused.
	mkdir "$d/dir"
	run_to $kind "$d/dir" ${kind}_dir 2
	has ${kind}_dir err "is a directory"

	# A character device is written in place (root only: mknod).
	if [ "$(id -u)" -eq 0 ] && mknod "$d/null" c 1 3 2>/dev/null; then
		run_to $kind "$d/null" ${kind}_device 0
		if [ -c "$d/null" ]; then ok "$kind: the device is still a device"; else bad "$kind: the device was replaced"; fi
	else
		echo "SKIP $kind: a character device (needs root for mknod)"
	fi
done

# The output is the command's own input: refused, the input intact.
cksum <"$out/scenario.yaml" >"$out/scenario.sum"
expect 2 trace_is_input "$dssim" -t "$out/scenario.yaml" "$out/scenario.yaml"
has trace_is_input err "is an input of this run"
if cksum <"$out/scenario.yaml" | cmp -s - "$out/scenario.sum"; then ok "trace: the scenario is intact"; else bad "trace: the scenario was changed"; fi
ln -s scenario.yaml "$out/scenario.link"
expect 2 trace_is_input_link "$dssim" -t "$out/scenario.link" "$out/scenario.yaml"
if cksum <"$out/scenario.yaml" | cmp -s - "$out/scenario.sum"; then ok "trace: the scenario is intact behind a link"; else bad "trace: the scenario was changed through a link"; fi
cksum <"$out/r.db" >"$out/db.sum"
expect 2 report_is_input "$dssim" report --db "$out/r.db" -o "$out/r.db"
has report_is_input err "is an input of this run"
ln -s r.db "$out/db.link"
expect 2 report_is_input_link "$dssim" report --db "$out/r.db" -o "$out/db.link"
if cksum <"$out/r.db" | cmp -s - "$out/db.sum"; then ok "report: the database is intact"; else bad "report: the database was changed"; fi

finish
