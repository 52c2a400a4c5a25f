# packaging/package-test, sourced: timing and failing, the console's JSON,
# the TOML config, and the gateway (sipp and the RTP legs).
# shellcheck shell=bash

export LC_ALL=C
export PATH="$PATH:/usr/local/go/bin"
REPO=$(pwd)
STEPS=()
STEP_NAME=
declare -A TOTAG=()

# step starts a timed step; done_step ends it and prints its time.
step() {
	STEP_NAME=$1
	STEP_T0=$EPOCHREALTIME
	printf '\n== %s\n' "$1"
}

done_step() {
	local took
	took=$(elapsed "$STEP_T0")
	STEPS+=("$(printf '%7.1f s  %s' "$took" "$STEP_NAME")")
	printf -- '-- %.1f s\n' "$took"
}

# elapsed prints the seconds since T (an $EPOCHREALTIME).
elapsed() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

fail() {
	echo "package-test: FAILED${STEP_NAME:+ in \"$STEP_NAME\"}: $*" >&2
	exit 1
}

# fail_log fails with MESSAGE after the end of LOG.
fail_log() {
	{
		echo "--- the end of $2:"
		tail -n 40 "$2" 2>/dev/null
		echo "---"
	} >&2
	fail "$1"
}

# wait_for runs a command until it succeeds, for at most SECONDS, and
# fails the run naming WHAT if it never does or the daemon dies meanwhile.
wait_for() {
	local what=$1 secs=$2 deadline=$((SECONDS + $2))
	shift 2
	until "$@" >/dev/null 2>&1; do
		daemon_alive || fail_log "callvaultd stopped while waiting for $what" "$(daemon_log)"
		[ "$SECONDS" -lt "$deadline" ] || fail "waited $secs s for $what"
		sleep 0.1
	done
}

# console runs the installed console in the root, as root.
console() {
	in_root /usr/bin/callvault -socket "$SOCKET" "$@"
}

call_live() { console calls --json | grep -q "\"id\": *\"$1\""; }
search_has() { console search --json | grep -q "\"call_id\": *\"$1\""; }

# field prints the first value of a JSON key on stdin (the console's
# --json output, one key a line): a string's content, or a number.
field() {
	sed -n -e "s/^ *\"$1\": *\"\(.*\)\",\{0,1\}$/\1/p" -e "s/^ *\"$1\": *\([-0-9.]*\),\{0,1\}$/\1/p" | head -n 1
}

# set_key sets KEY = VALUE in [SECTION] of a TOML file where the key is
# written already, and fails where it is not.
set_key() {
	local section=$1 key=$2 value=$3 file=$4
	awk -v s="$section" -v k="$key" -v v="$value" '
		/^\[/ { cur = $0; gsub(/^\[|\].*$/, "", cur) }
		cur == s && $0 ~ "^" k " *=" { $0 = k " = " v; done = 1 }
		{ print }
		END { exit !done }' "$file" >"$file.new" || fail "no $key in [$section] of $file"
	cat "$file.new" >"$file"
	rm -f "$file.new"
}

# configure_loopback points the installed configuration at loopback: SIP
# on a port the daemon picks, RTP on the claimed range, and the gateway as
# the only source allowed to record.
configure_loopback() {
	claim_rtp_range
	set_key sip listen '"127.0.0.1:0"' "$1"
	set_key sip allow "[\"$GATEWAY_IP\"]" "$1"
	set_key rtp bind '"127.0.0.1"' "$1"
	set_key rtp ports "\"$RTP_PORTS\"" "$1"
}

# claim_rtp_range takes, once, a 100-port range of 20000-59999 that no
# end-to-end test holds, by the flock the tests take on it
# (internal/testaudio.RTPRange), for the rest of the run.
claim_rtp_range() {
	local n start=$(($$ % 400)) i
	[ -z "${RTP_PORTS:-}" ] || return 0
	for ((i = 0; i < 400; i++)); do
		n=$(((start + i) % 400))
		exec {RTP_LOCK}>"${TMPDIR:-/tmp}/callvault-rtp-$n.lock"
		if flock -n "$RTP_LOCK"; then
			RTP_PORTS="$((20000 + n * 100))-$((20000 + n * 100 + 99))"
			return
		fi
		exec {RTP_LOCK}>&-
	done
	fail "every RTP range of 20000-59999 is held"
}

# sip_port asks the daemon which port it took for SIP on 127.0.0.1.
sip_port() {
	SIP_PORT=$(console status --json | sed -n 's/^ *"listen": *"127\.0\.0\.1:\([0-9]*\)".*/\1/p' | head -n 1)
	[ -n "$SIP_PORT" ] || fail "status --json names no SIP address on 127.0.0.1"
	echo "SIP on 127.0.0.1:$SIP_PORT (UDP and TCP), RTP on 127.0.0.1:$RTP_PORTS, only $GATEWAY_IP may record"
}

# sipp_run plays a scenario of daemon/testdata/sipp as the gateway, from
# $GATEWAY_IP over TCP, for the Call-ID CALL with the extra -key
# arguments, and prints what its <log> actions wrote.
sipp_run() {
	local scenario=$1 call=$2 dir
	shift 2
	dir="$WORK/sipp/${scenario%.xml}-${call%%@*}"
	mkdir -p "$dir"
	(cd "$dir" && sipp -sf "$REPO/$SCENARIOS/$scenario" -m 1 -l 1 -r 1 -t t1 -nostdin -i "$GATEWAY_IP" \
		-cid_str "$call" -key fromtag "pt$$" "$@" \
		-timeout 30s -timeout_error -recv_timeout 10s \
		-trace_err -error_file errors.log -trace_logs -log_file actions.log \
		"127.0.0.1:$SIP_PORT" >sipp.out 2>&1) || {
		cat "$dir/errors.log" >>"$dir/sipp.out" 2>/dev/null
		fail_log "sipp $scenario for $call" "$dir/sipp.out"
	}
	cat "$dir/actions.log" 2>/dev/null || true
}

build_rtplegs() {
	go build -o "$WORK/rtplegs" ./packaging/package-test.d/rtplegs
}

# place_call sets a recording session up with sipp (the caller and callee
# are the metadata's participants) and streams SECONDS of two tones on its
# legs.
place_call() {
	local call=$1 caller=$2 callee=$3 seconds=$4 log
	log=$(sipp_run cube-invite.xml "$call" -key caller "$caller" -key callee "$callee" -key codecpt 0 -key codecname PCMU)
	TOTAG[$call]=$(sed -n 's/^TOTAG \([^ ]*\) .*/\1/p' <<<"$log" | head -n 1)
	[ -n "${TOTAG[$call]}" ] || fail "sipp logged no To tag for $call"
	wait_for "call $call to be live" 10 call_live "$call"
	console calls --json | "$WORK/rtplegs" -call "$call" -from "$GATEWAY_IP" -seconds "$seconds"
}

# hang_up sends the call's BYE and waits until the recording is found.
hang_up() {
	sipp_run bye.xml "$1" -key totag "${TOTAG[$1]}" >/dev/null
	wait_for "the recording of $1 to be searchable" 20 search_has "$1"
}
