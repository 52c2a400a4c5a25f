# packaging/package-test, sourced: the installed daemon, started, watched
# and stopped by systemd in the booted root, or, in a chroot, run with the
# unit's ExecStart, User, Group, UMask and LimitNOFILE.
# shellcheck shell=bash

UNIT=callvaultd.service
UNIT_FILE=/lib/systemd/system/callvaultd.service
CONFIG=/etc/callvault/callvaultd.toml
DAEMON_PID=

# unit_key prints the last value of KEY= in the installed unit file.
unit_key() {
	sed -n "s/^$1=//p" "$ROOT$UNIT_FILE" | tail -n 1
}

# service_started_by_postinst checks that installing enabled and started
# the service, as the service user, on the packaged config. The root shares
# this machine's network: where port 5060 is taken here, the start fails,
# and that is said, not failed.
service_started_by_postinst() {
	local pid
	[ "$(in_root systemctl is-enabled "$UNIT")" = enabled ] || fail "postinst did not enable $UNIT"
	if ! in_root systemctl is-active --quiet "$UNIT"; then
		grep -q ':5060: bind: address already in use' "$(daemon_log)" || fail_log "postinst did not start $UNIT" "$WORK/daemon.log"
		echo "$UNIT: enabled and started by postinst, and stopped: port 5060 of the packaged config is taken on this machine"
		return
	fi
	pid=$(in_root systemctl show -p MainPID --value "$UNIT")
	echo "$UNIT: enabled, started by postinst: MainPID $pid, user $(in_root stat -c %U "/proc/$pid"), $(console status --json | field listen)"
}

# start_daemon points the installed config at loopback and (re)starts the
# daemon on it, then finds its SIP port.
start_daemon() {
	configure_loopback "$ROOT$CONFIG"
	if [ "$MODE" = nspawn ]; then
		in_root systemctl restart "$UNIT" || fail_log "systemctl restart $UNIT" "$(daemon_log)"
		local pid
		pid=$(in_root systemctl show -p MainPID --value "$UNIT")
		echo "systemctl restart $UNIT: MainPID $pid, user $(in_root stat -c %U "/proc/$pid"); $(in_root systemd-analyze security "$UNIT" --no-pager | tail -n 1 | sed 's/^→ //')"
	else
		spawn_exec_start
	fi
	wait_for "the control socket to answer" 30 console status
	sip_port
}

# spawn_exec_start runs the installed unit's ExecStart in the chroot as
# the unit's User and Group, with its UMask and LimitNOFILE and a clean
# environment, as systemd would.
spawn_exec_start() {
	local exec_start user group umask nofile
	exec_start=$(unit_key ExecStart)
	[ -n "$exec_start" ] || fail "no ExecStart in the installed $UNIT_FILE"
	user=$(unit_key User) group=$(unit_key Group) umask=$(unit_key UMask)
	nofile=$(open_files_limit "$(unit_key LimitNOFILE)")
	# shellcheck disable=SC2086 # ExecStart is split into words, as systemd does
	(umask "$umask" && ulimit -n "$nofile" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 CALLVAULT_LOG=info \
		chroot --userspec="$user:$group" "$ROOT" $exec_start) >"$WORK/daemon.log" 2>&1 &
	DAEMON_PID=$!
	echo "chroot --userspec=$user:$group $exec_start: pid $DAEMON_PID, UMask=$umask, LimitNOFILE=$nofile"
}

# open_files_limit prints the unit's LimitNOFILE, or this machine's hard
# limit where that is lower (and says so).
open_files_limit() {
	local hard
	hard=$(ulimit -Hn)
	if [ "$hard" != unlimited ] && [ "$hard" -lt "$1" ]; then
		echo "LimitNOFILE=$1 is above this machine's hard limit: $hard open files" >&2
		echo "$hard"
		return
	fi
	echo "$1"
}

# stop_daemon stops the daemon with SIGTERM (systemctl stop: the unit's
# KillSignal) and checks it exited 0; its log is then in
# $WORK/daemon.log.
stop_daemon() {
	local rc=0 id result status
	if [ "$MODE" = nspawn ]; then
		id=$(in_root systemctl show -p InvocationID --value "$UNIT")
		[ "$(unit_key KillSignal)" = SIGTERM ] || fail "the unit's KillSignal is $(unit_key KillSignal), not SIGTERM"
		in_root systemctl stop "$UNIT"
		result=$(in_root systemctl show -p Result --value "$UNIT")
		status=$(in_root systemctl show -p ExecMainStatus --value "$UNIT")
		journal "$id"
		if [ "$result" != success ] || [ "$status" != 0 ]; then
			fail_log "systemctl stop: Result=$result, ExecMainStatus=$status" "$WORK/daemon.log"
		fi
		echo "systemctl stop $UNIT (SIGTERM): Result=$result, exit $status"
		return
	fi
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	[ "$rc" = 0 ] || fail_log "callvaultd exited $rc after SIGTERM" "$WORK/daemon.log"
	echo "kill -TERM: callvaultd exited 0"
}

# journal writes the daemon's log of one run of the unit (INVOCATION_ID)
# to $WORK/daemon.log, waiting up to 5 s for its last line to reach the
# journal.
journal() {
	local deadline=$((SECONDS + 5))
	while :; do
		in_root journalctl --no-pager -o cat "_SYSTEMD_INVOCATION_ID=$1" >"$WORK/daemon.log" 2>&1
		grep -q 'msg=stopped' "$WORK/daemon.log" || [ "$SECONDS" -ge "$deadline" ] || {
			sleep 0.1
			continue
		}
		return 0
	done
}

# daemon_alive fails once the daemon has stopped or failed.
daemon_alive() {
	if [ "$MODE" = nspawn ]; then
		case "$(in_root systemctl show -p SubState --value "$UNIT")" in
		failed | dead | auto-restart | exited) return 1 ;;
		esac
		return 0
	fi
	[ -z "$DAEMON_PID" ] || kill -0 "$DAEMON_PID" 2>/dev/null
}

# daemon_log prints the name of a file with the daemon's log so far.
daemon_log() {
	if [ "$MODE" = nspawn ]; then
		in_root journalctl --no-pager -o cat -u "$UNIT" >"$WORK/daemon.log" 2>&1
	fi
	echo "$WORK/daemon.log"
}

# kill_daemon kills a daemon run in the chroot (cleanup).
kill_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -KILL "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}
