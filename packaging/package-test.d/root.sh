# packaging/package-test, sourced: the throwaway Debian root: the cached
# debootstrap, booting it with systemd-nspawn or mounting it for chroot,
# running commands in it, and taking it all down.
# shellcheck shell=bash

NSPAWN_PID=
LEADER=
WORK=

# make_root unpacks the cached root into $ROOT, bootstrapping it first when
# there is no cache (under a lock, so that two runs do it once).
make_root() {
	mkdir -p "$CACHE_DIR" "$ROOT"
	(
		flock 9
		[ -s "$ROOT_TAR" ] || bootstrap_cache
	) 9>"$CACHE_DIR/.debootstrap.lock"
	tar -C "$ROOT" --numeric-owner -xpf "$ROOT_TAR"
	echo "root: $ROOT ($(du -sh --apparent-size "$ROOT" | cut -f1))"
}

# bootstrap_cache runs debootstrap (minbase, with systemd so that the root
# can boot) into a fresh directory and tars it.
bootstrap_cache() {
	local mirror fresh
	mirror=$(debian_mirror)
	need_debs debootstrap
	fresh="$WORK/fresh"
	echo "no cached root: debootstrap --variant=minbase --include=systemd-sysv $SUITE from $mirror"
	debootstrap --variant=minbase --include=systemd-sysv "$SUITE" "$fresh" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
		fail_log "debootstrap failed" "$WORK/debootstrap.log"
	rm -f "$fresh/var/cache/apt/archives/"*.deb
	tar -C "$fresh" --numeric-owner -cf "$ROOT_TAR.new" .
	mv "$ROOT_TAR.new" "$ROOT_TAR"
	rm -rf --one-file-system "$fresh"
	echo "cached $ROOT_TAR ($(du -h "$ROOT_TAR" | cut -f1))"
}

# boot_root gives the root the mirror and DNS, then boots it with
# systemd-nspawn (MODE nspawn, or auto where it works) or mounts /proc,
# /sys and /dev in it for chroot. MODE_WHY says which and why.
boot_root() {
	local mirror why=
	mirror=$(debian_mirror)
	printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$SUITE" "$mirror" "$SUITE" >"$ROOT/etc/apt/sources.list"
	cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
	echo "mirror: $mirror"
	if [ "$MODE" != chroot ]; then
		need_debs systemd-container
		if nspawn_boot; then
			MODE=nspawn
			MODE_WHY="booted by systemd-nspawn, systemd as PID 1 running the unit"
			echo "$MODE_WHY"
			return
		fi
		[ "$MODE" = auto ] || fail "systemd-nspawn: $NSPAWN_WHY"
		echo "systemd-nspawn with systemd as PID 1 is not possible here: $NSPAWN_WHY"
		why=" (systemd-nspawn could not boot it)"
	fi
	[ "$MODE" = auto ] || why=" (PACKAGE_TEST_MODE=chroot)"
	MODE=chroot
	MODE_WHY="a chroot$why, the unit's ExecStart run as its User and Group"
	mount -t proc proc "$ROOT/proc"
	mount -t sysfs sysfs "$ROOT/sys"
	mount --bind /dev "$ROOT/dev"
	mount --bind /dev/pts "$ROOT/dev/pts"
	echo "$MODE_WHY"
}

# nspawn_boot boots the root with systemd as PID 1 and waits until the
# system runs; where it cannot, it takes down what it started, sets
# NSPAWN_WHY and fails.
nspawn_boot() {
	local state args=(--quiet --directory="$ROOT" --boot --register=no --console=passive)
	# Without systemd on the host no scope can be made for the container:
	# it stays in this process's cgroup.
	[ -d /run/systemd/system ] || args+=(--keep-unit)
	systemd-nspawn "${args[@]}" </dev/null >"$WORK/nspawn.log" 2>&1 &
	NSPAWN_PID=$!
	if ! find_leader; then
		power_off
		NSPAWN_WHY="systemd-nspawn exited: $(tail -n 3 "$WORK/nspawn.log" | paste -sd ' ')"
		return 1
	fi
	state=$(system_state) || true
	case "$state" in
	running) echo "systemd in the root: $state" ;;
	degraded) echo "systemd in the root: degraded: $(in_root systemctl --failed --plain --no-legend | awk '{ print $1 }' | paste -sd ' ')" ;;
	*)
		power_off
		NSPAWN_WHY="systemd in the root did not come up (${state:-no answer in 60 s})"
		return 1
		;;
	esac
}

# system_state waits, 60 s at most, until the container's systemd
# answers on its bus and has finished booting, and prints its state.
system_state() {
	local state deadline=$((SECONDS + 60))
	while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; do
		state=$(timeout 60 nsenter --target "$LEADER" --all --root --wd systemctl is-system-running --wait 2>&1) || true
		case "$state" in
		*"Failed to connect to bus"*) sleep 0.1 ;; # not listening yet
		*) break ;;
		esac
	done
	echo "$state"
}

# find_leader sets LEADER to the container's PID 1 as this machine sees
# it: the child of systemd-nspawn in a PID namespace of its own.
find_leader() {
	local p deadline=$((SECONDS + 10)) own
	own=$(readlink /proc/self/ns/pid)
	while kill -0 "$NSPAWN_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		for p in $(ps -o pid= --ppid "$NSPAWN_PID"); do
			if [ "$(readlink "/proc/$p/ns/pid" 2>/dev/null)" != "$own" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ]; then
				LEADER=$p
				return 0
			fi
		done
		sleep 0.1
	done
	return 1
}

# power_off shuts the container down (SIGRTMIN+4 asks its systemd to power
# off), killing it after 20 s.
power_off() {
	local deadline=$((SECONDS + 20))
	[ -n "$NSPAWN_PID" ] || return 0
	[ -z "$LEADER" ] || kill -s RTMIN+4 "$LEADER" 2>/dev/null || true
	while kill -0 "$NSPAWN_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	if kill -0 "$NSPAWN_PID" 2>/dev/null; then
		echo "the container did not power off in 20 s: killed" >&2
		[ -z "$LEADER" ] || kill -KILL "$LEADER" 2>/dev/null
		kill -KILL "$NSPAWN_PID" 2>/dev/null
	fi
	wait "$NSPAWN_PID" 2>/dev/null || true
	NSPAWN_PID=''
	LEADER=''
}

# in_root runs a command in the root, as root, in a clean environment:
# in the booted container (once there is a LEADER), or in the chroot.
in_root() {
	local env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
	if [ -n "$LEADER" ]; then
		nsenter --target "$LEADER" --all --root --wd "${env[@]}" "$@"
	else
		chroot "$ROOT" "${env[@]}" "$@"
	fi
}

# apt_get runs apt-get -y in the root after an update (once), its output
# in $WORK/apt.log.
apt_get() {
	if [ -z "${APT_UPDATED:-}" ]; then
		in_root apt-get update -q >"$WORK/apt.log" 2>&1 || fail_log "apt-get update" "$WORK/apt.log"
		APT_UPDATED=yes
	fi
	in_root apt-get -y -q "$@" >"$WORK/apt.log" 2>&1 || fail_log "apt-get $*" "$WORK/apt.log"
}

key_sum() {
	sha256sum <"$ROOT/var/lib/callvault/keys/kek" | cut -d' ' -f1
}

recordings_on_disk() {
	find "$ROOT/var/lib/callvault/records" -name '*.mp3.enc' 2>/dev/null | wc -l
}

# expect_mode checks a path in the root has "MODE USER GROUP".
expect_mode() {
	local got
	got=$(in_root stat -c '%a %U %G' "$1")
	[ "$got" = "$2" ] || fail "$1 is $got, want $2"
	echo "$1: $got"
}

# debian_mirror prints the Debian mirror apt uses here (sources.list or
# deb822 .sources, the first URI ending in /debian), else deb.debian.org.
debian_mirror() {
	local uri
	uri=$({
		grep -hs '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
			sed 's/\[[^]]*\]//' | awk '{ print $2 }'
		grep -hs '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources | sed 's/^[[:space:]]*URIs://' | tr ' ' '\n'
	} | grep -E '^(https?|ftp)://[^[:space:]]+/debian/?$' | head -n 1) || true
	echo "${MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

# need_debs installs the Debian packages that are missing on this machine.
need_debs() {
	local p missing=()
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return
	echo "installing ${missing[*]}" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# kill_in_root kills every process of this machine's namespace whose root
# directory is below DIR (what runs in a chroot).
kill_in_root() {
	local p r
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		case "$r" in "$1"/*) kill -KILL "${p#/proc/}" 2>/dev/null || true ;; esac
	done
}

# kill_container kills a container that systemd-nspawn runs on ROOT: its
# PID 1 (and so every process in it), then systemd-nspawn.
kill_container() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = systemd-nspawn ] || continue
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "--directory=$1" || continue
		for c in $(ps -o pid= --ppid "${p#/proc/}"); do kill -KILL "$c" 2>/dev/null || true; done
		kill -KILL "${p#/proc/}" 2>/dev/null || true
	done
}

# mounts_under lists the mount points below DIR, deepest first.
mounts_under() {
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# remove_work undoes the mounts below a work dir (lazily where one is busy)
# and removes it, never crossing into another file system.
remove_work() {
	local m
	for m in $(mounts_under "$1"); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	if [ -n "$(mounts_under "$1")" ]; then
		echo "package-test: $1 still has mounts; not removed" >&2
		return 1
	fi
	[ "${KEEP_ROOT:-}" = yes ] && [ "$1" = "$WORK" ] && return 0
	rm -rf --one-file-system "$1"
}

# sweep_stale_roots removes the work dirs of runs that died unclean (their
# owner process is gone).
sweep_stale_roots() {
	local d owner
	for d in "$WORK_PREFIX"*; do
		[ -d "$d" ] || continue
		owner=$(cat "$d/owner" 2>/dev/null) || continue # being made by another run
		if ! kill -0 "$owner" 2>/dev/null; then
			echo "removing $d, left by a run that died"
			kill_container "$d/root"
			kill_in_root "$d"
			remove_work "$d" || true
		fi
	done
}

# cleanup stops the daemon and the container and whatever else runs in
# the root, undoes the mounts and removes the work dir, on every exit.
cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	kill_daemon
	power_off
	if [ -n "$WORK" ]; then
		kill_in_root "$WORK"
		remove_work "$WORK"
		[ "${KEEP_ROOT:-}" != yes ] || echo "KEEP_ROOT=yes: left $WORK (the root, daemon.log, apt.log, sipp/)"
	fi
	[ "$rc" = 0 ] || printf 'package-test failed after %.1f s\n' "$(elapsed "$T0")" >&2
	exit "$rc"
}
