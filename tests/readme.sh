#!/bin/sh
# readme.sh: every example in README.md that shows a dssim command and what it printed (a fenced
# block whose first line is `$ ./dssim ...`) still prints it. The command runs from the top of
# the tree; each line of the block but a `...` (where the README leaves lines out) must be a
# whole line of what it writes, standard error included. Prints one line per example and
# "N passed, N failed".
set -u
suite=readme
. "$(dirname "$0")/lib.sh"

DSSIM_DATA=${DSSIM_DATA:-$top_src}
export DSSIM_DATA
cd "$top_src" || exit 1

# Split the examples out: block N's command to $out/N.cmd, its lines to $out/N.want.
awk -v dir="$out" '
	/^```/ {
		if (inside) { inside = 0; close(want); next }
		opening = 1; next
	}
	opening {
		opening = 0
		if ($0 ~ /^\$ \.\/dssim /) {
			n++; inside = 1
			want = dir "/" n ".want"
			printf "" > want
			print substr($0, 3) > (dir "/" n ".cmd")
			close(dir "/" n ".cmd")
			next
		}
	}
	inside && $0 != "..." { print > want }
' README.md

examples=0
for cmdfile in "$out"/*.cmd; do
	[ -f "$cmdfile" ] || continue
	examples=$((examples + 1))
	n=${cmdfile%.cmd}
	cmd=$(cat "$cmdfile")
	# The README's command with the built binary: the words after ./dssim, unquoted as the
	# README writes them (no example quotes an argument).
	# shellcheck disable=SC2086
	"$dssim" ${cmd#./dssim } >"$n.got" 2>&1
	missing=$(grep -vxF -f "$n.got" "$n.want")
	if [ -z "$missing" ]; then
		ok "README example: $cmd"
	else
		bad "README example: $cmd prints otherwise now; the README's lines not printed:"
		printf '%s\n' "$missing"
	fi
done
[ "$examples" -gt 0 ] && ok "$examples examples found" || bad "no \$ ./dssim example in README.md"
finish
