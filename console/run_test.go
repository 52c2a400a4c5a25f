package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/control/controltest"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

var audio = bytes.Repeat([]byte("ID3\x03mp3frame"), 5000)

func serve(t *testing.T) (*controltest.Backend, string) {
	t.Helper()
	b := controltest.New()
	b.SetStatus(control.Status{Version: "0.1.0", Started: t0, UptimeSeconds: 93784, Listen: "0.0.0.0:5060",
		CallsTotal: 1200, Rejected: 3, CPS: 1.25, Draining: false,
		Disk:    control.Disk{Path: "/var/lib/callvault", TotalBytes: 100 << 30, FreeBytes: 40 << 30},
		Process: control.Process{Goroutines: 57, OpenFiles: 23, RSSBytes: 61_341_696, SIPConnections: 2},
		Config:  control.ConfigState{Reloads: 2, ReloadedAt: t0.Add(25 * time.Hour)}})
	b.SetCalls([]control.Call{{ID: "3c26f0a8-1f2e-4d9b-9a3c-77d2b1e9c0aa@10.0.0.1", RecordID: "2026000000003",
		Start: t0, User: "jdoe", Extension: "2501", Remote: "+15558201320", Direction: "OUT",
		Legs: []control.Leg{{Label: "1", Packets: 1520}, {Label: "2", Packets: 1498}}}})
	b.AddRecording(control.Recording{ID: "2026000000001", Start: t0, DurationMS: 138000, User: "jdoe",
		FullName: "John Doe", Extension: "2501", Remote: "+15558201320", Direction: "OUT", Status: "complete",
		File: "records/2026/03/02/2026000000001.mp3.enc", Codec: "PCMU", Size: int64(len(audio)),
		CallID: "abc@gw", Participants: []control.Participant{{AOR: "sip:2501@pbx", Name: "John Doe"}}}, audio)
	b.AddRecording(control.Recording{ID: "2026000000002", Start: t0.Add(24 * time.Hour), DurationMS: 61400,
		User: "asmith", Extension: "2502", Remote: "+15550000000", Direction: "IN", Status: "recovered",
		Codec: "PCMA", Size: 2048}, []byte("short"))
	return b, controltest.Serve(t, b)
}

// cv runs the CLI against socket and returns its output and error.
func cv(t *testing.T, socket string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), append([]string{"-socket", socket}, args...), &out, &errb)
	return out.String(), errb.String(), err
}

func mustRun(t *testing.T, socket string, args ...string) string {
	t.Helper()
	out, stderr, err := cv(t, socket, args...)
	if err != nil {
		t.Fatalf("callvault %s: %v (stderr %q)", strings.Join(args, " "), err, stderr)
	}
	return out
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, got)
		}
	}
}

func TestStatus(t *testing.T) {
	_, sock := serve(t) // the table: testdata/golden/status*.txt
	var st control.Status
	if err := json.Unmarshal([]byte(mustRun(t, sock, "status", "--json")), &st); err != nil {
		t.Fatalf("status --json: %v", err)
	}
	if st.Version != "0.1.0" || st.LiveCalls != 1 || st.Disk.FreeBytes != 40<<30 ||
		st.Process.Goroutines != 57 || st.Config.Reloads != 2 {
		t.Errorf("status --json = %+v", st)
	}
}

func TestCalls(t *testing.T) {
	_, sock := serve(t) // the table: testdata/golden/calls*.txt
	var calls []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, sock, "calls", "--json")), &calls); err != nil {
		t.Fatalf("calls --json: %v", err)
	}
	if len(calls) != 1 || calls[0]["record_id"] != "2026000000003" {
		t.Errorf("calls --json = %v", calls)
	}
}

var contractFields = []string{"id", "start", "duration_ms", "user", "full_name", "extension", "remote",
	"direction", "status", "file", "codec", "size"}

func TestSearch(t *testing.T) {
	b, sock := serve(t) // the table: testdata/golden/search*.txt
	var recs []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, sock, "search", "--json", "--user", "jdoe")), &recs); err != nil {
		t.Fatalf("search --json: %v", err)
	}
	if len(recs) != 1 {
		t.Fatalf("search --json --user jdoe = %v", recs)
	}
	for _, f := range contractFields {
		if _, ok := recs[0][f]; !ok {
			t.Errorf("search --json lacks %q: %v", f, recs[0])
		}
	}
	if recs[0]["start"] != "2026-03-02T09:30:00Z" {
		t.Errorf("start = %v, want RFC 3339 UTC", recs[0]["start"])
	}

	mustRun(t, sock, "search", "--from", "2026-03-01", "--to", "2026-03-02", "--ext", "2501",
		"--remote", "+15558201320", "--direction", "out", "--limit", "7")
	q := b.LastQuery()
	wantFrom := time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)
	wantTo := time.Date(2026, 3, 3, 0, 0, 0, -1, time.Local) // a date alone as --to includes that day: To is inclusive
	if !q.From.Equal(wantFrom) || !q.To.Equal(wantTo) || q.Extension != "2501" || q.Remote != "+15558201320" ||
		q.Direction != "OUT" || q.Limit != 7+1 { // the handler asks one more: is there a next page?
		t.Errorf("query = %+v", q)
	}
	for _, tv := range []string{"2026-03-01T10:00:00+01:00", "2026-03-01 10:00", "2026-03-01T10:00"} {
		mustRun(t, sock, "search", "--from", tv)
	}
	if got := b.LastQuery().From; !got.Equal(time.Date(2026, 3, 1, 10, 0, 0, 0, time.Local)) {
		t.Errorf("--from 2026-03-01T10:00 = %v, want local time", got)
	}
	if out := mustRun(t, sock, "search", "--json", "--user", "nobody"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty search --json = %q, want []", out)
	}
}

func TestShow(t *testing.T) {
	_, sock := serve(t) // the table: testdata/golden/show*.txt
	var rec map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, sock, "show", "--json", "2026000000001")), &rec); err != nil {
		t.Fatalf("show --json: %v", err)
	}
	for _, f := range contractFields {
		if _, ok := rec[f]; !ok {
			t.Errorf("show --json lacks %q", f)
		}
	}
	_, _, err := cv(t, sock, "show", "2026000000099")
	if err == nil || !strings.Contains(err.Error(), "not found") || exitCode(err) != 1 {
		t.Errorf("show missing: err = %v, want not found with exit 1", err)
	}
}

func TestExport(t *testing.T) {
	_, sock := serve(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "call.mp3")
	_, stderr, err := cv(t, sock, "export", "2026000000001", "-o", file)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	got, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(got, audio) {
		t.Fatalf("exported file: %d bytes, %v; want %d bytes", len(got), err, len(audio))
	}
	contains(t, "export stderr", stderr, "wrote 60000 bytes to "+file)
	assertOnly(t, dir, "call.mp3")

	out := mustRun(t, sock, "export", "-o", "-", "2026000000002")
	if out != "short" {
		t.Errorf("export -o - wrote %q", out)
	}
}

func TestExportFailureLeavesNoFile(t *testing.T) {
	b, sock := serve(t)
	b.FailExport("2026000000001", 30000, errors.New("segment 2: message authentication failed"))
	dir := t.TempDir()
	file := filepath.Join(dir, "call.mp3")
	_, _, err := cv(t, sock, "export", "2026000000001", "-o", file)
	if err == nil || !strings.Contains(err.Error(), "message authentication failed") {
		t.Errorf("export: err = %v, want the daemon's reason", err)
	}
	_, _, err = cv(t, sock, "export", "2026000000099", "-o", file)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("export missing: err = %v, want not found", err)
	}
	assertOnly(t, dir)
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("files in %s = %v, want %v", dir, got, names)
	}
}

func TestUsers(t *testing.T) {
	_, sock := serve(t) // the tables: testdata/golden/users*.txt
	out := mustRun(t, sock, "users", "add", "john_doe", "--name", "John Doe", "--ext", "2501,2502", "--mode", "live-keep")
	contains(t, "users add", out, "added user john_doe")
	mustRun(t, sock, "users", "add", "--ext", "2503", "asmith") // flags first, default mode
	out = mustRun(t, sock, "users", "add", "sales", "--ext", "2600", "--direction", "out", "--external", "only")
	contains(t, "users add with filters", out, "always, outbound only, external only")
	contains(t, "users list with filters", mustRun(t, sock, "users", "list"), "always, outbound only, external only")
	out = mustRun(t, sock, "users", "edit", "sales", "--mode", "on-demand", "--direction", "both")
	contains(t, "users edit", out, "updated user sales", "on-demand, both directions, external only", "ext 2600")
	if _, _, err := cv(t, sock, "users", "edit", "nobody", "--mode", "always"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("users edit of an unknown user: %v", err)
	}
	if _, _, err := cv(t, sock, "users", "edit", "sales"); err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Errorf("users edit with no flag: %v", err)
	}
	if _, _, err := cv(t, sock, "users", "add", "x", "--ext", "2700", "--direction", "sideways"); err == nil ||
		!strings.Contains(err.Error(), `direction "sideways"`) {
		t.Errorf("a bad direction: err = %v", err)
	}
	_, _, err := cv(t, sock, "users", "add", "john_doe", "--ext", "2509")
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("add twice: err = %v, want exists", err)
	}

	var users []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, sock, "users", "list", "--json")), &users); err != nil {
		t.Fatalf("users list --json: %v", err)
	}
	if len(users) != 3 || users[0]["username"] != "john_doe" || users[0]["full_name"] != "John Doe" ||
		users[0]["mode"] != "live-keep" || len(users[0]["extensions"].([]any)) != 2 {
		t.Errorf("users list --json = %v", users)
	}
	contains(t, "users rm", mustRun(t, sock, "users", "rm", "john_doe"), "removed user john_doe")
	_, _, err = cv(t, sock, "users", "rm", "john_doe")
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("rm twice: err = %v, want not found", err)
	}
}

func TestUsageErrors(t *testing.T) {
	_, sock := serve(t)
	tests := map[string]struct {
		args []string
		want string
	}{
		"no command":      {nil, "no terminal for the interactive console"},
		"unknown command": {[]string{"frobnicate"}, `unknown command "frobnicate"`},
		"record action":   {[]string{"record", "begin", "2501"}, `unknown action "begin"`},
		"record target":   {[]string{"record", "keep"}, "missing EXT|ID"},
		"license":         {[]string{"license", "renew"}, `unknown subcommand "renew"`},
		"calc":            {[]string{"calc"}, "calc: missing subcommand"},
		"show no id":      {[]string{"show"}, "show: missing recording ID"},
		"show two ids":    {[]string{"show", "1", "2"}, "too many arguments"},
		"export no id":    {[]string{"export", "-o", "x.mp3"}, "export: missing recording ID"},
		"export no -o":    {[]string{"export", "2026000000001"}, "missing -o FILE"},
		"bad direction":   {[]string{"search", "--direction", "sideways"}, `bad --direction value "sideways"`},
		"bad from":        {[]string{"search", "--from", "yesterday"}, `bad --from time "yesterday"`},
		"bad to":          {[]string{"search", "--to", "03/02/2026"}, `bad --to time "03/02/2026"`},
		"from after to":   {[]string{"search", "--from", "2026-03-02", "--to", "2026-03-01 10:00"}, "is after"},
		"bad limit":       {[]string{"search", "--limit", "0"}, "bad --limit value 0"},
		"limit word":      {[]string{"search", "--limit", "ten"}, "invalid value"},
		"search arg":      {[]string{"search", "jdoe"}, `unexpected argument "jdoe"`},
		"users no sub":    {[]string{"users"}, "missing subcommand"},
		"users bad sub":   {[]string{"users", "delete", "x"}, `unknown subcommand "delete"`},
		"add no ext":      {[]string{"users", "add", "jdoe", "--name", "J"}, "missing --ext"},
		"add bad ext":     {[]string{"users", "add", "jdoe", "--ext", "25a1"}, `extension "25a1"`},
		"add bad mode":    {[]string{"users", "add", "jdoe", "--ext", "1", "--mode", "never"}, `mode "never"`},
		"add bad name":    {[]string{"users", "add", "j doe", "--ext", "1"}, `username "j doe"`},
		"rm no name":      {[]string{"users", "rm"}, "missing USERNAME"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := cv(t, sock, tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if exitCode(err) != 2 {
				t.Errorf("exit code %d, want 2 (err %v)", exitCode(err), err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"search", "-h"}, {"users", "help"}} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "usage:") {
			t.Errorf("%v printed %q", args, out.String())
		}
	}
	var out, errb bytes.Buffer
	run(context.Background(), nil, &out, &errb)
	contains(t, "no command", errb.String(), "usage:", "status", "search", "export", "users add")
}

func TestSocketSelection(t *testing.T) {
	_, sock := serve(t)
	t.Setenv(control.SocketEnv, sock)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"status"}, &out, &errb); err != nil {
		t.Fatalf("status with %s set: %v", control.SocketEnv, err)
	}
	missing := filepath.Join(t.TempDir(), "none.sock")
	err := run(context.Background(), []string{"-socket", missing, "status"}, &out, &errb)
	want := "cannot reach callvaultd at " + missing + ": is the daemon running?"
	if err == nil || !strings.Contains(err.Error(), want) || exitCode(err) != 1 {
		t.Errorf("-socket over the env: err = %v, want %q with exit 1", err, want)
	}
	// -socket after the command works too.
	if err := run(context.Background(), []string{"status", "-socket", sock}, &out, &errb); err != nil {
		t.Errorf("status -socket: %v", err)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{formatDuration(0), "0:00"},
		{formatDuration(61499), "1:01"},
		{formatDuration(3600000), "60:00"},
		{formatBytes(512), "512 B"},
		{formatBytes(1536), "1.5 KiB"},
		{formatBytes(5 << 30), "5.0 GiB"},
		{formatUptime(59), "59s"},
		{formatUptime(86400 + 61), "1d 1m1s"},
		{shorten("abcdef", 4), "abc…"},
		{shorten("abc", 4), "abc"},
		{formatOffset(0), "0:00.000"},
		{formatOffset(12300), "0:12.300"},
		{formatOffset(3725001), "62:05.001"},
		{formatSeconds(2000), "2.0 s"},
		{formatSeconds(1400), "1.4 s"},
		{formatSeconds(40), "0.04 s"},
		{formatSeconds(3456), "3.456 s"},
		{formatSpans(nil), ""},
		{formatSpans([]control.LostSpan{{AtMS: 12300, DurMS: 2000}, {AtMS: 65000, DurMS: 1400}}),
			"2 stretches, 3.4 s: at 0:12.300 for 2.0 s, at 1:05.000 for 1.4 s"},
		{formatSpans([]control.LostSpan{{AtMS: 500, DurMS: 10000}}), "1 stretch, 10.0 s: at 0:00.500 for 10.0 s"},
		{srtpLegs(nil), "-"},
		{srtpLegs([]control.Leg{{Label: "1"}, {Label: "2"}}), "no"},
		{srtpLegs([]control.Leg{{Label: "1", SRTP: true}, {Label: "2", SRTP: true}}), "yes"},
		{srtpLegs([]control.Leg{{Label: "1", SRTP: true}, {Label: "2"}, {Label: "3", SRTP: true}}), "1,3"},
		{configState(control.ConfigState{}), "as started (no reloads)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	// Past maxLostShown stretches, show counts the rest.
	many := make([]control.LostSpan, maxLostShown+3)
	for i := range many {
		many[i] = control.LostSpan{AtMS: int64(i) * 60000, DurMS: 1000}
	}
	got := formatSpans(many)
	want := fmt.Sprintf("%d stretches, %d.0 s: at 0:00.000 for 1.0 s", len(many), len(many))
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, ", and 3 more (--json lists them)") ||
		strings.Count(got, " at ") != maxLostShown {
		t.Errorf("formatLost of %d stretches = %q", len(many), got)
	}
}

func TestRecord(t *testing.T) {
	_, sock := serve(t)
	out := mustRun(t, sock, "record", "pause", "2501")
	contains(t, "record pause", out, "pause 2501: paused (call with +15558201320, record 2026000000003)")
	var res control.RecordResult
	if err := json.Unmarshal([]byte(mustRun(t, sock, "record", "keep", "2026000000003", "--json")), &res); err != nil ||
		res.State != control.StateKept || res.Call.RecordID != "2026000000003" {
		t.Errorf("record keep --json = %+v, %v", res, err)
	}
	if _, _, err := cv(t, sock, "record", "start", "4444"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("record start of an extension without a call: %v, want not found", err)
	}
}
