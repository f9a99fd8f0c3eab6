# lib.sh: what the shell tests share (sourced after setting `suite`): the tree, the dssim
# binary, a scratch directory tests/out/$suite, and checks that print one line each.
# A test ends with `finish`, which prints "N passed, N failed" and sets the exit status.
top_src=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
top_build=${TOP_BUILDDIR:-$top_src}
dssim="$top_build/dssim"
out="$top_build/tests/out/$suite"
rm -rf "$out"
mkdir -p "$out"
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# expect STATUS NAME CMD...: run CMD, compare its exit status, keep stdout/stderr in $out.
expect() {
	want=$1 name=$2
	shift 2
	"$@" >"$out/$name.out" 2>"$out/$name.err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name (exit $got)"; else bad "$name: exit $got, expected $want"; cat "$out/$name.err"; fi
}

# has NAME STREAM TEXT: the saved output contains TEXT.
has() {
	if grep -qF -- "$3" "$out/$1.$2"; then ok "$1 $2 has '$3'"; else bad "$1 $2 lacks '$3'"; fi
}

# wait_until CMD...: run CMD every 0.05 s until it succeeds, for 30 s at most (a slow build, a
# loaded machine); 0 when it did. For a signal sent once a background run is far enough.
wait_until() {
	tries=0
	until "$@"; do
		sleep 0.05
		tries=$((tries + 1))
		[ $tries -lt 600 ] || return 1
	done
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
