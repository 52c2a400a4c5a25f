package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/control/controltest"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func sampleRecording(id string, start time.Time, user, ext, dir string) control.Recording {
	return control.Recording{
		ID: id, Start: start, DurationMS: 138000, User: user, FullName: "John Doe",
		Extension: ext, Remote: "+15558201320", Direction: dir, Status: control.RecordingComplete,
		File: "records/2026/03/02/" + id + ".mp3.enc", Codec: "PCMU", Size: 552000,
	}
}

// setup serves a populated backend and returns it with a client.
func setup(t *testing.T) (*controltest.Backend, *control.Client, string) {
	t.Helper()
	b := controltest.New()
	b.SetStatus(control.Status{Version: "0.1.0", Started: t0, UptimeSeconds: 42, Listen: "0.0.0.0:5060",
		CallsTotal: 10, Rejected: 1, CPS: 0.5, Disk: control.Disk{Path: "/var/lib/callvault", TotalBytes: 100, FreeBytes: 40}})
	b.SetCalls([]control.Call{{ID: "abc@gw", RecordID: "2026000000003", Start: t0, Source: "10.0.0.1:5060",
		Transport: "TCP", User: "jdoe", Extension: "2501", Remote: "+15558201320", Direction: "OUT",
		Participants: []control.Participant{{AOR: "sip:2501@pbx", Name: "John"}},
		Legs:         []control.Leg{{Label: "1", Port: 16384, Codec: "PCMU", Packets: 50, Bytes: 8000}}}})
	b.AddRecording(sampleRecording("2026000000001", t0, "jdoe", "2501", "OUT"), []byte("ID3 mp3 one"))
	b.AddRecording(sampleRecording("2026000000002", t0.Add(time.Hour), "asmith", "2502", "IN"), bytes.Repeat([]byte("x"), 100000))
	path := controltest.Serve(t, b)
	return b, &control.Client{Socket: path}, path
}

func TestStatusAndCalls(t *testing.T) {
	_, c, _ := setup(t)
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if st.Version != "0.1.0" || st.LiveCalls != 1 || st.Disk.FreeBytes != 40 || !st.Started.Equal(t0) {
		t.Errorf("status = %+v", st)
	}
	calls, err := c.Calls(ctx)
	if err != nil {
		t.Fatalf("calls: %v", err)
	}
	if len(calls) != 1 || calls[0].Legs[0].Packets != 50 || calls[0].Participants[0].AOR != "sip:2501@pbx" {
		t.Errorf("calls = %+v", calls)
	}
}

func TestSearch(t *testing.T) {
	b, c, _ := setup(t)
	ctx := context.Background()
	recs, err := c.Search(ctx, control.Query{})
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if len(recs) != 2 || recs[0].ID != "2026000000002" {
		t.Errorf("search all = %+v", recs)
	}
	// The handler asks for one more than the page: is there a next page?
	if got := b.LastQuery().Limit; got != control.DefaultLimit+1 {
		t.Errorf("backend limit = %d, want default %d + 1", got, control.DefaultLimit)
	}
	q := control.Query{From: t0.Add(-time.Minute), To: t0.Add(time.Minute), User: "jdoe", Extension: "2501",
		Remote: "+15558201320", Direction: "OUT", Limit: 5}
	recs, err = c.Search(ctx, q)
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if len(recs) != 1 || recs[0].ID != "2026000000001" {
		t.Errorf("search filtered = %+v", recs)
	}
	got := b.LastQuery()
	if !got.From.Equal(q.From) || !got.To.Equal(q.To) || got.User != q.User || got.Extension != q.Extension ||
		got.Remote != q.Remote || got.Direction != q.Direction || got.Limit != q.Limit+1 {
		t.Errorf("backend query = %+v, want %+v", got, q)
	}
}

func TestRecording(t *testing.T) {
	_, c, _ := setup(t)
	rec, err := c.Recording(context.Background(), "2026000000001")
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	if rec.User != "jdoe" || rec.Size != 552000 {
		t.Errorf("recording = %+v", rec)
	}
	_, err = c.Recording(context.Background(), "2026000000099")
	if !errors.Is(err, control.ErrNotFound) || !strings.Contains(err.Error(), "2026000000099") {
		t.Errorf("missing recording: err = %v, want not found naming the id", err)
	}
}

func TestRecordingJSONContract(t *testing.T) {
	local := time.FixedZone("CET", 3600)
	rec := sampleRecording("2026000000001", t0.In(local), "jdoe", "2501", "OUT")
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"id", "start", "duration_ms", "user", "full_name", "extension", "remote",
		"direction", "status", "file", "codec", "size"}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("recording JSON keys = %v, want %v", keys, want)
	}
	if m["start"] != "2026-03-02T09:30:00Z" {
		t.Errorf("start = %v, want RFC 3339 UTC", m["start"])
	}
}

func TestExport(t *testing.T) {
	_, c, _ := setup(t)
	var buf bytes.Buffer
	if err := c.Export(context.Background(), "2026000000002", &buf); err != nil {
		t.Fatalf("export: %v", err)
	}
	if buf.Len() != 100000 {
		t.Errorf("exported %d bytes, want 100000", buf.Len())
	}
}

func TestExportFailures(t *testing.T) {
	b, c, path := setup(t)
	b.FailExport("2026000000002", 50000, errors.New("segment 3: message authentication failed"))
	var buf bytes.Buffer
	err := c.Export(context.Background(), "2026000000002", &buf)
	if err == nil || !strings.Contains(err.Error(), "message authentication failed") {
		t.Errorf("mid-stream failure: err = %v, want the trailer's message", err)
	}
	b.FailExport("2026000000001", 0, errors.New("key unavailable"))
	err = c.Export(context.Background(), "2026000000001", io.Discard)
	var ce *control.Error
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusInternalServerError || ce.Message != "key unavailable" {
		t.Errorf("failure before audio: err = %#v, want a 500 with the message", err)
	}
	err = c.Export(context.Background(), "2026000000099", io.Discard)
	if !errors.Is(err, control.ErrNotFound) {
		t.Errorf("missing recording: err = %v, want not found", err)
	}

	// The raw response: 200, audio/mpeg, the trailer declared and set.
	resp := get(t, path, "/v1/recordings/2026000000002/audio")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/mpeg" || len(body) != 50000 {
		t.Errorf("raw export: status %d, type %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	if got := resp.Trailer.Get(control.TrailerError); got == "" {
		t.Errorf("trailer %s not set", control.TrailerError)
	}
}

func TestUsers(t *testing.T) {
	_, c, _ := setup(t)
	ctx := context.Background()
	users, err := c.Users(ctx)
	if err != nil || len(users) != 0 {
		t.Fatalf("users = %v, %v; want none", users, err)
	}
	u := control.User{Username: "john_doe", FullName: "John Doe", Extensions: []string{"2501", "+4930*1#"}}
	if err := c.AddUser(ctx, u); err != nil {
		t.Fatalf("add: %v", err)
	}
	err = c.AddUser(ctx, u)
	if !errors.Is(err, control.ErrExists) {
		t.Errorf("add twice: err = %v, want exists", err)
	}
	users, err = c.Users(ctx)
	if err != nil {
		t.Fatalf("users: %v", err)
	}
	u.Mode = control.ModeAlways // the default
	if len(users) != 1 || !reflect.DeepEqual(users[0], u) {
		t.Errorf("users = %+v, want [%+v]", users, u)
	}
	if err := c.RemoveUser(ctx, "john_doe"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if err := c.RemoveUser(ctx, "john_doe"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("remove twice: err = %v, want not found", err)
	}
}

func TestAddUserValidation(t *testing.T) {
	_, c, _ := setup(t)
	tests := map[string]struct {
		u    control.User
		want []string
	}{
		"empty username":  {control.User{Extensions: []string{"1"}}, []string{"username is empty"}},
		"bad username":    {control.User{Username: "a b", Extensions: []string{"1"}}, []string{`username "a b"`}},
		"no extension":    {control.User{Username: "a"}, []string{"no extension"}},
		"bad extension":   {control.User{Username: "a", Extensions: []string{"25x"}}, []string{`extension "25x"`}},
		"bad mode":        {control.User{Username: "a", Extensions: []string{"1"}, Mode: "sometimes"}, []string{`mode "sometimes"`}},
		"several at once": {control.User{Username: "a/b", Mode: "x"}, []string{"username", "no extension", "mode"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := c.AddUser(context.Background(), tt.u)
			if !errors.Is(err, control.ErrInvalid) {
				t.Fatalf("err = %v, want invalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestValidationErrors(t *testing.T) {
	_, _, path := setup(t)
	tests := map[string]struct {
		method, path, body string
		status             int
		want               string
	}{
		"limit word":      {"GET", "/v1/recordings?limit=ten", "", 400, `limit "ten"`},
		"limit zero":      {"GET", "/v1/recordings?limit=-1", "", 400, "limit -1"},
		"limit huge":      {"GET", "/v1/recordings?limit=1000000", "", 400, "limit 1000000"},
		"direction":       {"GET", "/v1/recordings?direction=sideways", "", 400, "direction"},
		"from":            {"GET", "/v1/recordings?from=yesterday", "", 400, `from "yesterday"`},
		"to before from":  {"GET", "/v1/recordings?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "", 400, "is after"},
		"unknown param":   {"GET", "/v1/recordings?usr=jdoe", "", 400, `unknown query parameter "usr"`},
		"lower direction": {"GET", "/v1/recordings?direction=in", "", 200, ""},
		"bad id":          {"GET", "/v1/recordings/a.b", "", 400, "malformed"},
		"missing id":      {"GET", "/v1/recordings/2026000000099", "", 404, "not found"},
		"bad json":        {"POST", "/v1/users", "{", 400, "user body"},
		"unknown field":   {"POST", "/v1/users", `{"username":"a","extensions":["1"],"role":"admin"}`, 400, "role"},
		"bad username rm": {"DELETE", "/v1/users/a%20b", "", 400, "username"},
		"wrong method":    {"PUT", "/v1/status", "", 405, ""},
		"no route":        {"GET", "/v2/status", "", 404, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			resp := do(t, path, tt.method, tt.path, tt.body)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.status, b)
			}
			if tt.want == "" {
				return
			}
			var eb struct{ Error string }
			if err := json.Unmarshal(b, &eb); err != nil {
				t.Fatalf("error body %q: %v", b, err)
			}
			if !strings.Contains(eb.Error, tt.want) {
				t.Errorf("error = %q, want it to mention %q", eb.Error, tt.want)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	b, c, _ := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := c.Events(ctx)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	if ev, err := s.Next(); err != nil || ev.Type != control.EventSnapshot || ev.Seq != 1 {
		t.Fatalf("first event = %+v, %v; want the snapshot, seq 1", ev, err)
	}
	want := []control.Event{
		{Type: control.EventCallStarted, Time: t0, Call: &control.Call{ID: "abc@gw", RecordID: "2026000000003"}},
		{Type: control.EventRecordingSealed, Time: t0, Recording: &control.Recording{ID: "2026000000003", Start: t0}},
		{Type: control.EventUserAdded, Time: t0, User: &control.User{Username: "jdoe"}},
	}
	go func() {
		for _, ev := range want {
			b.Publish(ev)
		}
	}()
	for i, w := range want {
		got, err := s.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got.Type != w.Type || !got.Time.Equal(w.Time) || (got.Call == nil) != (w.Call == nil) ||
			(got.Recording == nil) != (w.Recording == nil) || (got.User == nil) != (w.User == nil) {
			t.Errorf("event %d = %+v, want %+v", i, got, w)
		}
	}
	cancel()
	if _, err := s.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: err = %v, want context.Canceled", err)
	}
	select {
	case <-b.Unsubscribed():
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not notice the client going away")
	}
	s.Close()
}

func TestEventsEndWithDaemon(t *testing.T) {
	b, c, _ := setup(t)
	s, err := c.Events(context.Background())
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	defer s.Close()
	if ev, err := s.Next(); err != nil || ev.Type != control.EventSnapshot {
		t.Fatalf("first event = %+v, %v; want the snapshot", ev, err)
	}
	b.CloseSubscriptions()
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("err = %v, want io.EOF", err)
	}
}

func TestUnreachable(t *testing.T) {
	path := t.TempDir() + "/control.sock"
	c := &control.Client{Socket: path}
	_, err := c.Status(context.Background())
	want := "cannot reach callvaultd at " + path + ": is the daemon running? (connect: no such file or directory)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if !errors.Is(err, control.ErrUnavailable) {
		t.Errorf("err = %v, want it to match ErrUnavailable", err)
	}
}

func TestClientSocketFromEnv(t *testing.T) {
	_, _, path := setup(t)
	t.Setenv(control.SocketEnv, path)
	var c control.Client // the zero value
	if got := c.SocketPath(); got != path {
		t.Errorf("socket = %q, want %q", got, path)
	}
	if _, err := c.Status(context.Background()); err != nil {
		t.Errorf("status: %v", err)
	}
}

func TestClientDial(t *testing.T) {
	_, _, path := setup(t)
	dialled := 0
	c := &control.Client{Socket: "/nonexistent", Dial: func(ctx context.Context) (net.Conn, error) {
		dialled++
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatalf("status: %v", err)
	}
	if dialled == 0 {
		t.Error("Dial override not used")
	}
}

func do(t *testing.T, socket, method, path, body string) *http.Response {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}}
	t.Cleanup(hc.CloseIdleConnections)
	u, err := url.Parse("http://callvaultd" + path)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, u.String(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func get(t *testing.T, socket, path string) *http.Response { return do(t, socket, "GET", path, "") }
