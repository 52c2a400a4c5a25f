package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// auditT0 is the time of the first entry under testClock.
var auditT0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// testClock makes s's audit log stamp entry i (from 0) at auditT0 + i
// minutes.
func testClock(s *Store) {
	var n atomic.Int64
	s.audit().now = func() time.Time {
		return auditT0.Add(time.Duration(n.Add(1)-1) * time.Minute)
	}
}

// openAuditTest opens a store in dir with the test clock.
func openAuditTest(t testing.TB, dir string) *Store {
	t.Helper()
	s := openTest(t, dir)
	testClock(s)
	return s
}

// auditPath is the log of the store in dir.
func auditPath(dir string) string { return filepath.Join(dir, "audit", "audit.log") }

// appendAudit appends n entries for record ids id(i), i from 0.
func appendAudit(t testing.TB, s *Store, n int, id func(i int) string) []AuditEntry {
	t.Helper()
	var out []AuditEntry
	for i := range n {
		e, err := s.AuditAppend(AuditEntry{Action: AuditRecordingExported, ID: id(i), Actor: "alice", UID: 1001, Detail: "to call.mp3"})
		if err != nil {
			t.Fatalf("AuditAppend %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

func someID(i int) string { return fmt.Sprintf("20260000000%02d", i%3+1) }

// auditLines reads the log's lines, newlines removed.
func auditLines(t testing.TB, dir string) [][]byte {
	t.Helper()
	b := readFile(t, auditPath(dir))
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

// allAudit returns every entry AuditEntries gives for q.
func allAudit(t testing.TB, s *Store, q AuditQuery) []AuditEntry {
	t.Helper()
	var out []AuditEntry
	if err := s.AuditEntries(q, func(e AuditEntry) error { out = append(out, e); return nil }); err != nil {
		t.Fatalf("AuditEntries: %v", err)
	}
	return out
}

func verifyAudit(t testing.TB, s *Store) AuditReport {
	t.Helper()
	rep, err := s.AuditVerify()
	if err != nil {
		t.Fatalf("AuditVerify: %v", err)
	}
	return rep
}

func wantIntact(t testing.TB, rep AuditReport, entries int) {
	t.Helper()
	if rep.FirstBroken != 0 || rep.Problem != "" || rep.Entries != entries {
		t.Fatalf("report %+v, want intact with %d entries", rep, entries)
	}
}

func TestAuditAppendAndRead(t *testing.T) {
	dir := t.TempDir()
	s := openAuditTest(t, dir)
	got := appendAudit(t, s, 3, someID)
	lines := auditLines(t, dir)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	prev := ""
	for i, e := range got {
		if e.Seq != uint64(i+1) || e.Prev != prev || !e.Time.Equal(auditT0.Add(time.Duration(i)*time.Minute)) || e.Time.Location() != time.UTC {
			t.Errorf("entry %d: %+v (want prev %q)", i, e, prev)
		}
		want, _ := json.Marshal(e)
		if !bytes.Equal(lines[i], want) {
			t.Errorf("line %d = %s, want %s", i+1, lines[i], want)
		}
		prev = lineHash(lines[i])
	}
	if !strings.HasPrefix(string(lines[0]), `{"seq":1,"time":"2026-11-28T09:00:00Z","action":"recording.exported","id":"2026000000001","actor":"alice","uid":1001,"detail":"to call.mp3","prev":""}`) {
		t.Errorf("line 1 = %s", lines[0])
	}
	head, ok, err := s.auditHead()
	if err != nil || !ok {
		t.Fatalf("head: %v %v", ok, err)
	}
	if want := (AuditHead{Seq: 3, Hash: prev, Size: int64(len(readFile(t, auditPath(dir))))}); head != want {
		t.Errorf("head %+v, want %+v", head, want)
	}
	if read := allAudit(t, s, AuditQuery{}); !equalEntries(read, got) {
		t.Errorf("AuditEntries %+v, want %+v", read, got)
	}
	rep := verifyAudit(t, s)
	wantIntact(t, rep, 3)
	if rep.Head != head {
		t.Errorf("report head %+v, want %+v", rep.Head, head)
	}
	for path, want := range map[string]os.FileMode{filepath.Dir(auditPath(dir)): 0o700, auditPath(dir): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
}

func equalEntries(a, b []AuditEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Seq != b[i].Seq || !a[i].Time.Equal(b[i].Time) || a[i].Action != b[i].Action || a[i].ID != b[i].ID ||
			a[i].Actor != b[i].Actor || a[i].UID != b[i].UID || a[i].Detail != b[i].Detail || a[i].Prev != b[i].Prev {
			return false
		}
	}
	return true
}

func TestAuditAppendChecksAndClips(t *testing.T) {
	s := openAuditTest(t, t.TempDir())
	if _, err := s.AuditAppend(AuditEntry{Actor: "alice"}); err == nil {
		t.Error("an entry without an action was appended")
	}
	if _, err := s.AuditAppend(AuditEntry{Action: AuditUserAdded}); err == nil {
		t.Error("an entry without an actor was appended")
	}
	e, err := s.AuditAppend(AuditEntry{Action: AuditUserChanged, Actor: ActorSystem, UID: -1,
		Detail: strings.Repeat("é<", 1000)})
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 1 || len(e.Detail) > maxAuditDetail || !strings.HasPrefix(e.Detail, "é<é<") {
		t.Errorf("entry %d, detail of %d bytes", e.Seq, len(e.Detail))
	}
	if line := auditLines(t, s.Dir())[0]; len(line) > maxAuditLine {
		t.Errorf("line of %d bytes, bound %d", len(line), maxAuditLine)
	}
	wantIntact(t, verifyAudit(t, s), 1)
}

func TestAuditConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	s := openAuditTest(t, dir)
	const goroutines, each = 50, 20
	var (
		mu  sync.Mutex
		got = map[uint64]AuditEntry{}
		wg  sync.WaitGroup
	)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e, err := s.AuditAppend(AuditEntry{Action: AuditRecordingCreated, ID: fmt.Sprintf("g%d-%d", g, i), Actor: ActorSystem, UID: -1})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if _, dup := got[e.Seq]; dup {
					t.Errorf("seq %d twice", e.Seq)
				}
				got[e.Seq] = e
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != goroutines*each {
		t.Fatalf("%d entries, want %d", len(got), goroutines*each)
	}
	read := allAudit(t, s, AuditQuery{})
	ids := map[string]bool{}
	for i, e := range read {
		if e.Seq != uint64(i+1) || !equalEntries([]AuditEntry{e}, []AuditEntry{got[e.Seq]}) {
			t.Fatalf("line %d: %+v, returned %+v", i+1, e, got[e.Seq])
		}
		if i > 0 && e.Time.Before(read[i-1].Time) {
			t.Errorf("entry %d is older than entry %d", e.Seq, e.Seq-1)
		}
		ids[e.ID] = true
	}
	if len(ids) != goroutines*each {
		t.Errorf("%d distinct ids, want %d", len(ids), goroutines*each)
	}
	wantIntact(t, verifyAudit(t, s), goroutines*each)
}

// editAudit changes the byte at offset k after the first occurrence of
// marker in line n (from 1) of the log in dir to c.
func editAudit(t *testing.T, dir string, n int, marker string, k int, c byte) {
	t.Helper()
	b := readFile(t, auditPath(dir))
	start := 0
	for range n - 1 {
		start += bytes.IndexByte(b[start:], '\n') + 1
	}
	i := bytes.Index(b[start:], []byte(marker))
	if i < 0 {
		t.Fatalf("no %q in line %d", marker, n)
	}
	at := start + i + k
	if b[at] == c {
		t.Fatalf("byte %d of line %d is already %q", at-start, n, c)
	}
	b[at] = c
	if err := os.WriteFile(auditPath(dir), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAuditVerifyEditedByte is the test: one byte edited in line N
// is reported with entry N, wherever the byte is.
func TestAuditVerifyEditedByte(t *testing.T) {
	edits := []struct {
		name   string
		marker string
		k      int
		c      byte
	}{
		{"action", `"action":"`, len(`"action":"`), 'R'},
		{"detail", `"detail":"`, len(`"detail":"`) + 3, 'X'},
		{"uid", `"uid":`, len(`"uid":`), '2'},
		{"time", `"time":"`, len(`"time":"`) + 3, '7'},
		{"seq", `"seq":`, len(`"seq":`), '8'},
		{"prev", `"prev":"`, len(`"prev":"`) + 5, 'g'},
		{"key case", `"actor"`, 1, 'A'},
		{"json", `{"seq"`, 0, '['},
		{"space", `,"id"`, 0, ' '},
	}
	for _, n := range []int{1, 4, 10} {
		for _, ed := range edits {
			if ed.name == "prev" && n == 1 {
				continue // entry 1's prev is empty
			}
			t.Run(fmt.Sprintf("%s/entry%d", ed.name, n), func(t *testing.T) {
				dir := t.TempDir()
				s := openAuditTest(t, dir)
				appendAudit(t, s, 10, someID)
				if ed.name == "prev" {
					// a hex digit for a hex digit: still a well-formed hash
					b := auditLines(t, dir)[n-1]
					i := bytes.Index(b, []byte(ed.marker)) + ed.k
					ed.c = "123456789abcdef0"[strings.IndexByte("0123456789abcdef", b[i])]
				}
				editAudit(t, dir, n, ed.marker, ed.k, ed.c)
				rep := verifyAudit(t, s)
				if rep.FirstBroken != uint64(n) || rep.Problem == "" {
					t.Errorf("report %+v, want entry %d broken", rep, n)
				}
			})
		}
	}
}

func TestAuditVerifyOffline(t *testing.T) {
	dir := t.TempDir()
	s := openAuditTest(t, dir)
	appendAudit(t, s, 6, someID)
	s.Close()
	rep, err := VerifyAudit(Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	wantIntact(t, rep, 6)
	editAudit(t, dir, 3, `"actor":"`, len(`"actor":"`), 'b')
	rep, err = VerifyAudit(Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if rep.FirstBroken != 3 {
		t.Errorf("report %+v, want entry 3 broken", rep)
	}
}

// cutAudit truncates the log in dir to size.
func cutAudit(t *testing.T, dir string, size int) {
	t.Helper()
	if err := os.Truncate(auditPath(dir), int64(size)); err != nil {
		t.Fatal(err)
	}
}

func TestAuditVerifyLastLineDeleted(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func(lastStart, size int) int
	}{
		{"whole line", func(lastStart, _ int) int { return lastStart }},
		{"half the line", func(lastStart, size int) int { return (lastStart + size) / 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openAuditTest(t, dir)
			appendAudit(t, s, 5, someID)
			s.Close()
			b := readFile(t, auditPath(dir))
			lastStart := bytes.LastIndexByte(b[:len(b)-1], '\n') + 1
			cutAudit(t, dir, tc.cut(lastStart, len(b)))

			rep, err := VerifyAudit(Config{Dir: dir}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if rep.FirstBroken != 5 || rep.Head.Seq != 5 {
				t.Errorf("report %+v, want entry 5 broken", rep)
			}

			// Reopened, the log records the break and goes on; verify
			// keeps reporting it.
			s = openAuditTest(t, dir)
			if err := s.OpenAudit(); err != nil {
				t.Fatal(err)
			}
			e := appendAudit(t, s, 1, someID)[0]
			if e.Seq != 6 {
				t.Errorf("next entry %d, want 6", e.Seq)
			}
			read := allAudit(t, s, AuditQuery{})
			if len(read) != 6 || read[4].Action != AuditResumed || read[4].Actor != ActorSystem || read[4].UID != -1 {
				t.Fatalf("entries after reopening: %+v", read)
			}
			rep = verifyAudit(t, s)
			if rep.FirstBroken != 5 || !strings.Contains(rep.Problem, "entry 5 records a break") {
				t.Errorf("report %+v, want entry 5 reported", rep)
			}
		})
	}
}

func TestAuditTornTail(t *testing.T) {
	dir := t.TempDir()
	s := openAuditTest(t, dir)
	got := appendAudit(t, s, 5, someID)
	s.closeAsCrash()
	size := len(readFile(t, auditPath(dir)))
	torn := []byte(`{"seq":6,"time":"2026-11-28T09:0`)
	f, err := os.OpenFile(auditPath(dir), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(torn)
	f.Close()

	rep, err := VerifyAudit(Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if rep.FirstBroken != 0 || rep.TornBytes != int64(len(torn)) || rep.Entries != 5 {
		t.Errorf("report %+v, want intact with %d torn bytes", rep, len(torn))
	}
	if n := len(readFile(t, auditPath(dir))); n != size+len(torn) {
		t.Errorf("offline verify changed the log: %d bytes", n)
	}

	s = openAuditTest(t, dir)
	if err := s.OpenAudit(); err != nil {
		t.Fatal(err)
	}
	if n := len(readFile(t, auditPath(dir))); n != size {
		t.Errorf("log of %d bytes after OpenAudit, want %d", n, size)
	}
	if kept := readFile(t, fmt.Sprintf("%s.torn-%d", auditPath(dir), size)); !bytes.Equal(kept, torn) {
		t.Errorf("torn tail kept as %q", kept)
	}
	e := appendAudit(t, s, 1, someID)[0]
	if e.Seq != 6 || e.Prev != lineHash(auditLines(t, dir)[4]) {
		t.Errorf("entry after the cut: %+v", e)
	}
	wantIntact(t, verifyAudit(t, s), 6)
	if read := allAudit(t, s, AuditQuery{}); !equalEntries(read[:5], got) {
		t.Errorf("entries before the cut changed: %+v", read)
	}
}

// TestAuditAheadOfHead: a crash after a batch's fsync and before its head
// leaves the log ahead of its head; that is no break.
func TestAuditAheadOfHead(t *testing.T) {
	dir := t.TempDir()
	s := openAuditTest(t, dir)
	appendAudit(t, s, 4, someID)
	head, _, err := s.auditHead()
	if err != nil {
		t.Fatal(err)
	}
	appendAudit(t, s, 2, someID)
	if err := s.setAuditHead(head); err != nil { // as if the last head write never happened
		t.Fatal(err)
	}
	s.closeAsCrash()
	rep, err := VerifyAudit(Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	wantIntact(t, rep, 6)
	s = openAuditTest(t, dir)
	if e := appendAudit(t, s, 1, someID)[0]; e.Seq != 7 {
		t.Errorf("next entry %d, want 7", e.Seq)
	}
	wantIntact(t, verifyAudit(t, s), 7)
}

// TestAuditRewrittenLog: a log rewritten whole, with a consistent chain,
// is caught by the head.
func TestAuditRewrittenLog(t *testing.T) {
	dir := t.TempDir()
	s := openAuditTest(t, dir)
	appendAudit(t, s, 3, someID)
	s.Close()
	other := t.TempDir()
	s2 := openAuditTest(t, other)
	appendAudit(t, s2, 3, func(int) string { return "2026000000099" })
	s2.Close()
	if err := os.WriteFile(auditPath(dir), readFile(t, auditPath(other)), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyAudit(Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if rep.FirstBroken != 3 {
		t.Errorf("report %+v, want entry 3 broken", rep)
	}
}

func TestAuditReopenContinues(t *testing.T) {
	dir := t.TempDir()
	s := openAuditTest(t, dir)
	appendAudit(t, s, 3, someID)
	s.Close()
	s = openAuditTest(t, dir)
	e := appendAudit(t, s, 1, someID)[0]
	if e.Seq != 4 || e.Prev != lineHash(auditLines(t, dir)[2]) {
		t.Errorf("entry after reopening: %+v", e)
	}
	wantIntact(t, verifyAudit(t, s), 4)
}

func TestAuditEntriesFilter(t *testing.T) {
	s := openAuditTest(t, t.TempDir())
	appendAudit(t, s, 9, someID) // ids 1,2,3,1,2,3,…; entry i at auditT0 + i-1 minutes
	at := func(seq int) time.Time { return auditT0.Add(time.Duration(seq-1) * time.Minute) }
	seqs := func(es []AuditEntry) (out []uint64) {
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    AuditQuery
		want []uint64
	}{
		{"all", AuditQuery{}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"id", AuditQuery{ID: "2026000000002"}, []uint64{2, 5, 8}},
		{"from inclusive", AuditQuery{From: at(7)}, []uint64{7, 8, 9}},
		{"to inclusive", AuditQuery{To: at(2)}, []uint64{1, 2}},
		{"between", AuditQuery{From: at(3), To: at(5).Add(time.Second)}, []uint64{3, 4, 5}},
		{"id and time", AuditQuery{ID: "2026000000001", From: at(2), To: at(7)}, []uint64{4, 7}},
		{"other zone", AuditQuery{From: at(9).In(testZone)}, []uint64{9}},
		{"none", AuditQuery{ID: "2026000000004"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := seqs(allAudit(t, s, tc.q)); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("entries %v, want %v", got, tc.want)
			}
		})
	}
	stop := errors.New("enough")
	n := 0
	err := s.AuditEntries(AuditQuery{}, func(AuditEntry) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn's error: %v after %d entries", err, n)
	}
}

func TestAuditEmptyAndClosed(t *testing.T) {
	s := openAuditTest(t, t.TempDir())
	wantIntact(t, verifyAudit(t, s), 0)
	if got := allAudit(t, s, AuditQuery{}); len(got) != 0 {
		t.Errorf("entries of an empty log: %+v", got)
	}
	appendAudit(t, s, 1, someID)
	s.Close()
	if _, err := s.AuditAppend(AuditEntry{Action: AuditKeyRotated, Actor: ActorSystem, UID: -1}); !errors.Is(err, ErrClosed) {
		t.Errorf("append to a closed store: %v", err)
	}
	if _, err := s.AuditVerify(); !errors.Is(err, ErrClosed) {
		t.Errorf("verify of a closed store: %v", err)
	}
}

// BenchmarkAuditAppend measures an append (write, fsync, head in the
// index) alone and with 64 appenders at once, as recordings sealed by the
// hundred each second would; entries/batch is what one fsync carried.
func BenchmarkAuditAppend(b *testing.B) {
	e := AuditEntry{Action: AuditRecordingCreated, ID: "2026000001344", Actor: ActorSystem, UID: -1}
	report := func(b *testing.B, s *Store) {
		l := s.audit()
		l.writeMu.Lock()
		defer l.writeMu.Unlock()
		if l.batches > 0 {
			b.ReportMetric(float64(l.entries)/float64(l.batches), "entries/batch")
		}
	}
	b.Run("serial", func(b *testing.B) {
		s := openTest(b, b.TempDir())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.AuditAppend(e); err != nil {
				b.Fatal(err)
			}
		}
		report(b, s)
	})
	b.Run("parallel64", func(b *testing.B) {
		s := openTest(b, b.TempDir())
		b.ReportAllocs()
		b.SetParallelism(32) // 64 goroutines on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.AuditAppend(e); err != nil {
					b.Error(err)
					return
				}
			}
		})
		report(b, s)
	})
}

// TestAuditTornTailLongLog: the torn tail of a log longer than the first
// window recovery reads, with a garbage line that does end in a newline.
func TestAuditTornTailLongLog(t *testing.T) {
	dir := t.TempDir()
	s := openAuditTest(t, dir)
	for range 200 {
		if _, err := s.AuditAppend(AuditEntry{Action: AuditUserChanged, Actor: "root", UID: 0, Detail: strings.Repeat("d", 900)}); err != nil {
			t.Fatal(err)
		}
	}
	s.closeAsCrash()
	size := len(readFile(t, auditPath(dir)))
	torn := append(bytes.Repeat([]byte{0}, 100<<10), '\n') // blocks of a batch never written
	torn = append(torn, `{"seq":202,`...)
	f, err := os.OpenFile(auditPath(dir), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(torn)
	f.Close()
	rep, err := VerifyAudit(Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if rep.FirstBroken != 0 || rep.TornBytes != int64(len(torn)) {
		t.Errorf("report %+v, want intact with %d torn bytes", rep, len(torn))
	}
	s = openAuditTest(t, dir)
	if e := appendAudit(t, s, 1, someID)[0]; e.Seq != 201 {
		t.Errorf("next entry %d, want 201", e.Seq)
	}
	if n := len(readFile(t, auditPath(dir))); n <= size || n > size+maxAuditLine {
		t.Errorf("log of %d bytes, was %d before the torn tail", n, size)
	}
	wantIntact(t, verifyAudit(t, s), 201)
}

// TestAuditFailedWrite: a batch whose write fails is not in the log, its
// callers get the error, and the next append reopens the log and goes on.
func TestAuditFailedWrite(t *testing.T) {
	dir := t.TempDir()
	s := openAuditTest(t, dir)
	appendAudit(t, s, 2, someID)
	l := s.audit()
	ro, err := os.Open(auditPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	l.writeMu.Lock()
	l.f.Close()
	l.f = ro // every write fails
	l.writeMu.Unlock()
	if _, err := s.AuditAppend(AuditEntry{Action: AuditRecordingErased, Actor: "alice", UID: 1001}); err == nil {
		t.Fatal("append through a read-only file succeeded")
	}
	if e := appendAudit(t, s, 1, someID)[0]; e.Seq != 3 {
		t.Errorf("entry after the failed write: %d, want 3", e.Seq)
	}
	wantIntact(t, verifyAudit(t, s), 3)
}

func TestAuditModesTightened(t *testing.T) {
	dir := t.TempDir()
	s := openAuditTest(t, dir)
	appendAudit(t, s, 1, someID)
	s.Close()
	os.Chmod(filepath.Dir(auditPath(dir)), 0o755)
	os.Chmod(auditPath(dir), 0o644)
	s = openAuditTest(t, dir)
	if err := s.OpenAudit(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{filepath.Dir(auditPath(dir)): 0o700, auditPath(dir): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
}
