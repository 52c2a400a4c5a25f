package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/control/controltest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenZone is the local time zone of every test of this package. The
// console prints times in the local zone and has no option to choose it,
// so the tests fix time.Local (before any goroutine runs): the goldens are
// the same on every machine, and the zone is not UTC so that local and UTC
// renderings differ where both are printed.
var goldenZone = time.FixedZone("UTC+1", 3600)

func TestMain(m *testing.M) {
	time.Local = goldenZone
	os.Exit(m.Run())
}

const goldenDir = "testdata/golden"

// goldenCase is one command line whose whole output is kept in
// testdata/golden/<name>.txt.
type goldenCase struct {
	name  string
	setup func(t *testing.T, b *controltest.Backend) // on top of goldenServe's rows; nil: none
	args  []string
	// noSocket runs the command without -socket: help shows the flag's
	// default, which would otherwise be the test's socket path.
	noSocket bool
}

var goldenCases = []goldenCase{
	{name: "status", args: []string{"status"}},
	{name: "status_alarms", setup: alarmStatus, args: []string{"status"}},
	{name: "storage_status", setup: alarmStatus, args: []string{"storage", "status"}},
	{name: "storage_none", args: []string{"storage", "status"}},
	{name: "hold_add", args: []string{"hold", "add", "2026000000004", "--reason", "case 2026-114"}},
	{name: "hold_no_reason", args: []string{"hold", "add", "--user", "asmith"}},
	{name: "purge_dry_run", args: []string{"purge", "--dry-run"}},
	{name: "purge_before_no_reason", args: []string{"purge", "--before", "2026-01-01"}},
	{name: "audit", setup: auditTrail, args: []string{"audit", "--id", "2026000000004"}},
	{name: "audit_verify", setup: auditTrail, args: []string{"audit", "verify"}},
	{name: "audit_verify_broken", setup: func(t *testing.T, b *controltest.Backend) {
		auditTrail(t, b)
		b.SetAuditReport(control.AuditReport{Entries: 2, FirstBroken: 3, Problem: "entry 3: prev is not the SHA-256 of entry 2", HeadSeq: 3})
	}, args: []string{"audit", "verify"}},
	{name: "calls", args: []string{"calls"}},
	{name: "calls_none", setup: func(_ *testing.T, b *controltest.Backend) { b.SetCalls(nil) }, args: []string{"calls"}},
	{name: "search", args: []string{"search"}},
	{name: "search_none", args: []string{"search", "--user", "nobody"}},
	{name: "search_remote_partial", args: []string{"search", "--remote", "8201"}},
	{name: "search_min_duration", args: []string{"search", "--min-duration", "1m"}},
	{name: "search_more", args: []string{"search", "--limit", "2", "--from", "2026-03-02 00:00"}},
	{name: "search_more_last_page", args: []string{"search", "--limit", "2", "--from", "2026-03-02 00:00", "--cursor", "MDE3NzI0NTEwMDAwMDAwMDAwMDAvMjAyNjAwMDAwMDAwNA"}},
	{name: "search_bad_min_duration", args: []string{"search", "--min-duration", "soon"}},
	{name: "show", args: []string{"show", "2026000000004"}},
	{name: "show_sparse", args: []string{"show", "2026000000002"}},
	{name: "users_none", args: []string{"users", "list"}},
	{name: "users", setup: addUsers, args: []string{"users", "list"}},
	{name: "verify_one", args: []string{"verify", "2026000000001"}},
	{name: "verify_truncated", setup: truncated, args: []string{"verify", "2026000000002"}},
	{name: "verify_all", setup: damaged, args: []string{"verify", "--all"}},
	{name: "usage_bad_flag", args: []string{"status", "--verbose"}},
	{name: "usage_bad_global_flag", args: []string{"--verbose", "status"}},
	{name: "help", args: []string{"help"}, noSocket: true},
	{name: "search_help", args: []string{"search", "-h"}, noSocket: true},
	// calc needs no daemon: without -socket it must not try one.
	{name: "calc_table", args: []string{"calc", "table"}, noSocket: true},
	{name: "calc_disk", args: []string{"calc", "disk", "--agents", "20", "--hours", "6", "--months", "6"}, noSocket: true},
	{name: "calc_disk_json", args: []string{"calc", "disk", "--agents", "2", "--hours", "2", "--service", "24x7", "--months", "48", "--json"}, noSocket: true},
	{name: "calc_channels", args: []string{"calc", "channels", "--bhca", "1200", "--duration", "180"}, noSocket: true},
	{name: "calc_channels_cps", args: []string{"calc", "channels", "--bhca", "12000", "--duration", "120", "--gos", "0.001"}, noSocket: true},
	{name: "usage_calc", args: []string{"calc", "disk", "--agents", "4", "--hours", "6", "--service", "5x8", "--months", "6"}, noSocket: true},
}

// TestGolden runs each command line against the controltest backend and
// compares what a user would see with its golden file. Rewrite them with
// go test ./console -run TestGolden -update.
func TestGolden(t *testing.T) {
	want := make(map[string]bool)
	for _, gc := range goldenCases {
		file := gc.name + ".txt"
		want[file] = true
		t.Run(gc.name, func(t *testing.T) {
			b, sock := goldenServe(t)
			if gc.setup != nil {
				gc.setup(t, b)
			}
			if gc.noSocket {
				sock = ""
			}
			got := transcript(t, sock, gc.args...)
			checkGolden(t, filepath.Join(goldenDir, file), got)
		})
	}
	// A golden file no case writes is a stale truth.
	ents, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatalf("golden files: %v", err)
	}
	for _, e := range ents {
		if !want[e.Name()] {
			t.Errorf("%s: no golden case writes it; remove it", filepath.Join(goldenDir, e.Name()))
		}
	}
}

// transcript runs the CLI with args (after -socket socket, unless socket
// is "") and renders what a terminal would show: "$ callvault ARGS", the
// whole stdout, then, when there is any, "--- stderr" with stderr and the
// error line as main prints it, and "--- exit status N".
func transcript(t *testing.T, socket string, args ...string) string {
	t.Helper()
	full := args
	if socket != "" {
		full = append([]string{"-socket", socket}, args...)
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), full, &out, &errb)
	stdout, stderr := out.String(), errb.String()
	var b strings.Builder
	fmt.Fprintf(&b, "$ callvault %s\n", strings.Join(args, " "))
	b.WriteString(stdout)
	if stderr != "" || err != nil {
		b.WriteString("--- stderr\n")
		b.WriteString(stderr)
	}
	if err != nil {
		fmt.Fprintf(&b, "callvault: %v\n--- exit status %d\n", err, exitCode(err))
	}
	return b.String()
}

// checkGolden compares got with the golden file at path, or with -update
// writes it.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./console -run TestGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (- want, + got); if the new output is right, run go test ./console -run TestGolden -update\n%s\ngot:\n%s",
			path, lineDiff(string(want), got), got)
	}
}

// lineDiff is a line-by-line diff of want and got (a longest common
// subsequence; the files are a few dozen lines): "  " marks a common line,
// "- " one only in want, "+ " one only in got. A line that ends in white
// space is quoted, so that the difference shows.
func lineDiff(want, got string) string {
	lines := func(s string) []string {
		l := strings.SplitAfter(s, "\n")
		if l[len(l)-1] == "" {
			l = l[:len(l)-1]
		}
		return l
	}
	a, b := lines(want), lines(got)
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	show := func(s string) string {
		if strings.TrimSpace(s) != "" && strings.TrimRight(s, " \t\n") != strings.TrimSuffix(s, "\n") {
			return fmt.Sprintf("%q", s) // trailing white space
		}
		return strings.TrimSuffix(s, "\n")
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			fmt.Fprintf(&out, "  %s\n", show(a[i]))
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(&out, "- %s\n", show(a[i]))
			i++
		default:
			fmt.Fprintf(&out, "+ %s\n", show(b[j]))
			j++
		}
	}
	return out.String()
}

func TestLineDiff(t *testing.T) {
	got := lineDiff("a\nb\nc\n", "a\nB\nc\nd\n")
	want := "  a\n- b\n+ B\n  c\n+ d\n"
	if got != want {
		t.Errorf("lineDiff:\n%s\nwant:\n%s", got, want)
	}
	if got := lineDiff("x\n", "x \n"); !strings.Contains(got, `"x \n"`) {
		t.Errorf("trailing blank not shown: %q", got)
	}
}

// goldenServe is serve's backend with more rows, so that each table has
// several and shows its edge cases: a call over SRTP with dropped packets,
// one not yet recording, recordings without owner or with lost audio.
func goldenServe(t *testing.T) (*controltest.Backend, string) {
	t.Helper()
	b, sock := serve(t)
	b.SetCalls([]control.Call{
		{ID: "3c26f0a8-1f2e-4d9b-9a3c-77d2b1e9c0aa@10.0.0.1", RecordID: "2026000000003", Start: t0,
			User: "jdoe", Extension: "2501", Remote: "+15558201320", Direction: "OUT", Mode: "always", State: "paused",
			Legs: []control.Leg{{Label: "1", Packets: 1520}, {Label: "2", Packets: 1498}}},
		{ID: "b7e1@10.0.0.2", RecordID: "2026000000006", Start: t0.Add(5 * time.Minute),
			User: "asmith", Extension: "2502", Remote: "+15550000000", Direction: "IN", Mode: "live-keep", State: "waiting for keep",
			Legs: []control.Leg{
				{Label: "1", Codec: "PCMA", SRTP: true, Packets: 900, LegCounters: control.LegCounters{ForeignSSRC: 40, Late: 3}},
				{Label: "2", Codec: "PCMA", SRTP: true, Packets: 712, LegCounters: control.LegCounters{AuthFailed: 12}}}},
		{ID: "c@gw", Start: t0.Add(6*time.Minute + 30*time.Second)},
	})
	b.AddRecording(control.Recording{ID: "2026000000004", Start: t0.Add(2 * time.Hour), DurationMS: 3723499,
		User: "asmith", FullName: "Anna Smith", Extension: "2502", Remote: "+15550000000", Direction: "IN",
		Status: "complete", File: "records/2026/03/02/2026000000004_20260302123000_asmith_2502_+15550000000_IN.mp3.enc",
		Codec: "PCMA", Size: 15<<20 + 300<<10, CallID: "b7e1@10.0.0.2",
		SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Participants: []control.Participant{
			{AOR: "sip:2502@pbx", Name: "Anna Smith", Joined: t0.Add(2 * time.Hour)},
			{AOR: "sip:+15550000000@trunk"}},
		Legs: []control.RecordedLeg{
			{Label: "1", Codec: "PCMA", Packets: 186175, LegCounters: control.LegCounters{Late: 2, ForeignSource: 5000, Concealed: 7}},
			{Label: "2", Codec: "PCMA", Packets: 186170, LegCounters: control.LegCounters{AuthFailed: 12, Duplicates: 1, Ignored: 30}},
			{Label: "3", Packets: 0}},
		Lost:      []control.LostSpan{{AtMS: 61000, DurMS: 2500}, {AtMS: 3605250, DurMS: 40}},
		EndReason: "bye", Pauses: []control.Span{{AtMS: 95000, DurMS: 20500}},
		Copies: []control.Copy{
			{Target: "nas", State: "copied", Key: "site-a/node-0/records/2026/03/02/2026000000004_20260302123000_asmith_2502_+15550000000_IN.mp3.enc",
				SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", At: t0.Add(3 * time.Hour)},
			{Target: "archive", State: "failed", Attempts: 3, Error: "dial tcp 192.0.2.7:443: connect: connection refused", At: t0.Add(4 * time.Hour),
				NextTry: t0.Add(4*time.Hour + 40*time.Second)}},
		Evicted: t0.Add(5 * time.Hour), Hold: &control.Hold{Reason: "case 2026-114", Since: t0.Add(6 * time.Hour), Actor: "alice"}}, []byte("x"))
	b.AddRecording(control.Recording{ID: "2026000000005", Start: t0.Add(-10 * time.Hour), Status: "failed",
		Codec: "PCMU", File: "records/2026/03/02/2026000000005_20260302003000____.mp3.enc"}, nil)
	return b, sock
}

func auditTrail(_ *testing.T, b *controltest.Backend) {
	b.AddAudit(
		control.AuditEntry{Seq: 1, Time: t0, Action: "recording.created", ID: "2026000000004", Actor: "system", UID: -1,
			Detail: "complete, 3723499 ms", Prev: ""},
		control.AuditEntry{Seq: 2, Time: t0.Add(time.Hour), Action: "user.added", Actor: "root", UID: 0, Detail: "jdoe (John Doe): extensions 2501, mode always",
			Prev: "5e2bf57d3f40c4b6df69daf1936cb766f832374b4fc0259a7cbff06e2f70f269"},
		control.AuditEntry{Seq: 3, Time: t0.Add(2 * time.Hour), Action: "recording.exported", ID: "2026000000004", Actor: "alice", UID: 1001,
			Prev: "d2a84f4b8b650937ec8f73cd8be2c74add5a911ba64df27458ed8229da804a26"})
	b.SetAuditReport(control.AuditReport{Entries: 3, HeadSeq: 3})
}

func alarmStatus(_ *testing.T, b *controltest.Backend) {
	b.SetStatus(control.Status{Version: "0.1.0", Started: t0, UptimeSeconds: 59, Listen: "0.0.0.0:5060",
		TLSListen: "0.0.0.0:5061", CallsTotal: 7, Rejected: 2, CPS: 0.05, Draining: true, Recordings: 4,
		Disk: control.Disk{Path: "/var/lib/callvault", TotalBytes: 100 << 30, FreeBytes: 1 << 29, ReserveBytes: 1 << 30,
			Usage: &control.DiskUsage{RecordingsFiles: 81234, RecordingsBytes: 96 << 30, TodayBytes: 1 << 29,
				GrowthBytesPerDay: 3 << 29, GrowthDays: 7, DaysUntilFull: new(0.0)}},
		Storage: &control.Storage{Node: "node-0", KeepLocalSeconds: 30 * 86400, Backlog: 1520, BacklogBytes: 1600 << 20,
			OldestPending: t0.Add(-2 * time.Hour), Targets: []control.StorageTarget{
				{Name: "nas", Kind: "dir", State: "up", Copied: 8123, CopiedBytes: 8 << 30, BytesPerSecond: 3 << 20, LastCopy: t0},
				{Name: "archive", Kind: "s3", State: "down", RetryAt: t0.Add(40 * time.Second), Error: "dial tcp 192.0.2.7:443: connect: connection refused"}}},
		Process: control.Process{Goroutines: 2311, OpenFiles: 1034, RSSBytes: 412 << 20, SIPConnections: 1000,
			SIPConnectionsRefused: 48213, TLSHandshakesFailed: 1},
		Config: control.ConfigState{Reloads: 1, ReloadedAt: t0.Add(30 * time.Second),
			Error: `line 12: sip.allow: "10.0.0.0/33" is not an address or network`},
		CallsPerSecond: control.CallRate{Last1s: 0, Last5s: 0.05, Avg1m: 0.1, Avg15m: 0.02, Peak: 4, PeakAt: t0.Add(-3 * time.Minute)},
		License: control.License{Model: "channel", Count: 8, Used: 8, Evaluation: true,
			Error: "/var/lib/callvault/license.json: licence expired on 2026-02-28; the evaluation licence is in force"},
		Alarms: []control.Alarm{
			{Name: control.AlarmDiskLow, Active: true, Since: t0.Add(-time.Minute),
				Message: "512 MiB free, below the 1024 MiB reserve: new calls refused"},
			{Name: control.AlarmDiskFull, Active: true, Since: t0,
				Message: "below the 512 MiB floor: live calls sealed and hung up"}}})
}

func addUsers(t *testing.T, b *controltest.Backend) {
	for _, u := range []control.User{
		{Username: "john_doe", FullName: "John Doe", Extensions: []string{"2501", "2502"}, Mode: control.ModeLiveKeep},
		{Username: "asmith", Extensions: []string{"2503"}, Mode: control.ModeAlways},
		{Username: "mmueller", FullName: "Marie Müller", Extensions: []string{"2600"}, Mode: control.ModeOnDemand},
	} {
		if err := b.AddUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
}

func truncated(_ *testing.T, b *controltest.Backend) {
	b.SetCheck(control.Check{ID: "2026000000002", File: "records/2026/03/03/2026000000002_20260303103000_asmith_2502_+15550000000_IN.mp3.enc",
		Status: control.CheckTruncated, Detail: "no final segment after segment 4: recording truncated"})
}

// damaged makes verify --all meet every kind of file: intact, tampered,
// missing and unindexed (two, listed by file name, not by id).
func damaged(_ *testing.T, b *controltest.Backend) {
	b.SetCheck(control.Check{ID: "2026000000004", File: "records/2026/03/02/2026000000004_20260302123000_asmith_2502_+15550000000_IN.mp3.enc",
		Status: control.CheckTampered, Detail: "segment 3: authentication failed (tampered, reordered or from another file): recording corrupt"})
	b.SetCheck(control.Check{ID: "2026000000005", File: "records/2026/03/02/2026000000005_20260302003000____.mp3.enc",
		Status: control.CheckMissing, Detail: "recording file missing"})
	b.SetCheck(control.Check{ID: "2026000000009", File: "records/2026/03/04/2026000000009_20260304080000_jdoe_2501_+15558201320_OUT.mp3.enc",
		Status: control.CheckUnindexed, Detail: "not in the index; the file authenticates (a restart indexes it)"})
	b.SetCheck(control.Check{ID: "2026000000010", File: "records/2026/03/01/2026000000010_20260301170000_jdoe_2501_+15558201320_OUT.mp3.enc",
		Status: control.CheckUnindexed, Detail: "not in the index; segment 2: authentication failed (tampered, reordered or from another file): recording corrupt"})
}
