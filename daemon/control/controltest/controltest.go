// Package controltest provides an in-memory control.Backend and a helper
// that serves it on a unix socket, for tests of control API clients (the
// callvault CLI and console) and of the handler itself.
package controltest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// Backend is an in-memory control.Backend. Its methods are safe for
// concurrent use.
type Backend struct {
	mu         sync.Mutex
	status     control.Status
	calls      []control.Call
	recs       []control.Recording
	audio      map[string][]byte
	exportFail map[string]exportFail
	checks     map[string]control.Check
	users      []control.User
	lastQuery  control.Query
	states     map[string]string // record state by call id, after Record
	audit      []control.AuditEntry
	auditRep   control.AuditReport
	subs       map[chan control.Event]context.Context
	gone       chan struct{}
}

type exportFail struct {
	after int
	err   error
}

// New returns an empty backend.
func New() *Backend {
	return &Backend{
		audio:      make(map[string][]byte),
		exportFail: make(map[string]exportFail),
		checks:     make(map[string]control.Check),
		subs:       make(map[chan control.Event]context.Context),
		gone:       make(chan struct{}, 64),
	}
}

// SetStatus sets what Status returns.
func (b *Backend) SetStatus(st control.Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = st
}

// SetCalls sets the live calls.
func (b *Backend) SetCalls(calls []control.Call) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = slices.Clone(calls)
}

// AddRecording stores a recording and its decrypted audio.
func (b *Backend) AddRecording(r control.Recording, audio []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recs = append(b.recs, r)
	b.audio[r.ID] = slices.Clone(audio)
}

// FailExport makes Export of id write the first after bytes, then fail
// with err.
func (b *Backend) FailExport(id string, after int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exportFail[id] = exportFail{after: after, err: err}
}

// SetCheck sets what Verify reports for c.ID; a recording without one
// verifies intact. A damaged check (anything but intact) also makes Export
// of that id fail before writing, with control.ErrDamaged, as the daemon's.
func (b *Backend) SetCheck(c control.Check) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checks[c.ID] = c
}

// LastQuery returns the query of the last Search.
func (b *Backend) LastQuery() control.Query {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastQuery
}

// Publish sends ev to every subscriber, waiting for each to take it or go
// away. Other methods wait meanwhile.
func (b *Backend) Publish(ev control.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch, ctx := range b.subs {
		select {
		case ch <- ev:
		case <-ctx.Done():
		}
	}
}

// Unsubscribed receives a value each time a subscription ends.
func (b *Backend) Unsubscribed() <-chan struct{} { return b.gone }

// Status implements control.Backend.
func (b *Backend) Status(ctx context.Context) (control.Status, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.status
	st.LiveCalls = len(b.calls)
	return st, nil
}

// Calls implements control.Backend.
func (b *Backend) Calls(ctx context.Context) ([]control.Call, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls), nil
}

// Search implements control.Backend with the daemon's semantics: newest
// first (by start, then id, descending), the remote matched on its digits
// anywhere (exactly when the query has no digit), a minimum duration, and
// the page after q.Cursor.
func (b *Backend) Search(ctx context.Context, q control.Query) ([]control.Recording, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastQuery = q
	var after control.Recording
	if q.Cursor != "" {
		start, id, err := control.ParseCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		after = control.Recording{Start: start, ID: id}
	}
	want := digits(q.Remote)
	var out []control.Recording
	for _, r := range b.recs {
		switch {
		case !q.From.IsZero() && r.Start.Before(q.From),
			!q.To.IsZero() && r.Start.After(q.To), // both bounds inclusive, as the vault's
			q.User != "" && r.User != q.User,
			q.Extension != "" && r.Extension != q.Extension,
			want != "" && !strings.Contains(digits(r.Remote), want),
			want == "" && q.Remote != "" && r.Remote != q.Remote,
			r.DurationMS < q.MinDurationMS,
			q.Direction != "" && r.Direction != q.Direction,
			q.Cursor != "" && newestFirst(r, after) <= 0:
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, newestFirst)
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// newestFirst orders recordings by start, then id, both descending.
func newestFirst(x, y control.Recording) int {
	return cmp.Or(cmp.Compare(y.Start.UnixNano(), x.Start.UnixNano()), strings.Compare(y.ID, x.ID))
}

// digits returns the digits of s.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// Recording implements control.Backend.
func (b *Backend) Recording(ctx context.Context, id string) (control.Recording, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.recs {
		if r.ID == id {
			return r, nil
		}
	}
	return control.Recording{}, fmt.Errorf("recording %s: %w", id, control.ErrNotFound)
}

// Export implements control.Backend.
func (b *Backend) Export(ctx context.Context, id string, w io.Writer) error {
	b.mu.Lock()
	audio, ok := b.audio[id]
	fail, failing := b.exportFail[id]
	check, checked := b.checks[id]
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("recording %s: %w", id, control.ErrNotFound)
	}
	if checked && check.Status != control.CheckIntact {
		return fmt.Errorf("recording %s: %w: %s", id, control.ErrDamaged, check.Status)
	}
	if failing {
		if _, err := w.Write(audio[:min(fail.after, len(audio))]); err != nil {
			return err
		}
		return fail.err
	}
	_, err := io.Copy(w, bytes.NewReader(audio))
	return err
}

// Verify implements control.Backend.
func (b *Backend) Verify(ctx context.Context, id string) (control.Check, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.checkLocked(id)
}

func (b *Backend) checkLocked(id string) (control.Check, error) {
	if c, ok := b.checks[id]; ok {
		return c, nil
	}
	for _, r := range b.recs {
		if r.ID == id {
			return control.Check{ID: id, File: r.File, Status: control.CheckIntact}, nil
		}
	}
	return control.Check{}, fmt.Errorf("recording %s: %w", id, control.ErrNotFound)
}

// VerifyAll implements control.Backend in the daemon's order: the
// recordings by id, then the checks set for ids that have no recording
// (unindexed files) by file name.
func (b *Backend) VerifyAll(ctx context.Context, fn func(control.Check) error) error {
	b.mu.Lock()
	var indexed, unindexed []control.Check
	seen := make(map[string]bool)
	for _, r := range b.recs {
		c, _ := b.checkLocked(r.ID)
		indexed = append(indexed, c)
		seen[r.ID] = true
	}
	for id, c := range b.checks {
		if !seen[id] {
			unindexed = append(unindexed, c)
		}
	}
	b.mu.Unlock()
	slices.SortStableFunc(indexed, func(x, y control.Check) int { return strings.Compare(x.ID, y.ID) })
	slices.SortFunc(unindexed, func(x, y control.Check) int {
		return cmp.Or(strings.Compare(x.File, y.File), strings.Compare(x.ID, y.ID))
	})
	out := append(indexed, unindexed...)
	for _, c := range out {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// Users implements control.Backend.
func (b *Backend) Users(ctx context.Context) ([]control.User, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.users), nil
}

// AddUser implements control.Backend.
func (b *Backend) AddUser(ctx context.Context, u control.User) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range b.users {
		if strings.EqualFold(o.Username, u.Username) {
			return fmt.Errorf("user %q: %w", u.Username, control.ErrExists)
		}
	}
	b.users = append(b.users, u)
	return nil
}

// Record implements control.Backend: the call is found by its owner's
// extension or its record id; the state follows the action without a
// mode (start and resume record, stop waits, pause pauses, keep keeps).
func (b *Backend) Record(ctx context.Context, req control.RecordRequest) (control.RecordResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.calls {
		if c.Extension != req.Target && c.RecordID != req.Target {
			continue
		}
		state := map[string]string{control.ActionStart: control.StateRecording, control.ActionResume: control.StateRecording,
			control.ActionStop: control.StateWaiting, control.ActionPause: control.StatePaused, control.ActionKeep: control.StateKept}[req.Action]
		if b.states == nil {
			b.states = map[string]string{}
		}
		b.states[c.ID] = state
		return control.RecordResult{Action: req.Action, State: state, Call: c}, nil
	}
	return control.RecordResult{}, fmt.Errorf("%w: no live call of extension or record id %s", control.ErrNotFound, req.Target)
}

// InstallLicense implements control.Backend: a file that decodes as a
// control.License is installed as it says; anything else is refused.
func (b *Backend) InstallLicense(ctx context.Context, file []byte) (control.License, error) {
	var lic control.License
	if err := json.Unmarshal(file, &lic); err != nil || lic.Model == "" {
		return control.License{}, fmt.Errorf("%w: not a licence file", control.ErrInvalid)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status.License = lic
	return lic, nil
}

// UpdateUser implements control.Backend.
func (b *Backend) UpdateUser(ctx context.Context, u control.User) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.IndexFunc(b.users, func(o control.User) bool { return o.Username == u.Username })
	if i < 0 {
		return fmt.Errorf("user %q: %w", u.Username, control.ErrNotFound)
	}
	b.users[i] = u
	return nil
}

// RemoveUser implements control.Backend.
func (b *Backend) RemoveUser(ctx context.Context, username string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.IndexFunc(b.users, func(u control.User) bool { return u.Username == username })
	if i < 0 {
		return fmt.Errorf("user %q: %w", username, control.ErrNotFound)
	}
	b.users = slices.Delete(b.users, i, i+1)
	return nil
}

// Subscribe implements control.Backend. Publish blocks until subscribers
// take the event, so tests see every event in order.
func (b *Backend) Subscribe(ctx context.Context) <-chan control.Event {
	ch := make(chan control.Event)
	b.mu.Lock()
	b.subs[ch] = ctx
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
		b.mu.Unlock()
		select {
		case b.gone <- struct{}{}:
		default:
		}
	}()
	return ch
}

// CloseSubscriptions ends every subscription, as a daemon does on
// shutdown.
func (b *Backend) CloseSubscriptions() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}

// Serve serves the control API from b on a unix socket in a temporary
// directory until the test ends, and returns the socket's path.
func Serve(t testing.TB, b control.Backend) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "control.sock")
	ln, err := control.Listen(path)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: control.NewHandler(b, nil)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return path
}

// AddAudit appends entries to the audit trail the backend serves.
func (b *Backend) AddAudit(entries ...control.AuditEntry) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.audit = append(b.audit, entries...)
}

// SetAuditReport sets what AuditVerify answers.
func (b *Backend) SetAuditReport(r control.AuditReport) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.auditRep = r
}

func (b *Backend) Audit(ctx context.Context, q control.AuditQuery, fn func(control.AuditEntry) error) error {
	b.mu.Lock()
	entries := slices.Clone(b.audit)
	b.mu.Unlock()
	for _, e := range entries {
		if (q.ID != "" && e.ID != q.ID) || (!q.From.IsZero() && e.Time.Before(q.From)) || (!q.To.IsZero() && e.Time.After(q.To)) {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) AuditVerify(ctx context.Context) (control.AuditReport, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rep := b.auditRep
	if rep.Entries == 0 {
		rep.Entries = len(b.audit)
	}
	return rep, nil
}

func (b *Backend) Purge(ctx context.Context, req control.PurgeRequest) (control.PurgeResult, error) {
	return control.PurgeResult{DryRun: req.DryRun, Purged: []string{}, Held: []string{}}, nil
}

func (b *Backend) Hold(ctx context.Context, req control.HoldRequest) ([]control.Recording, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []control.Recording
	for i, r := range b.recs {
		if slices.Contains(req.IDs, r.ID) || (req.User != "" && r.User == req.User) {
			if req.Release {
				b.recs[i].Hold = nil
			} else {
				b.recs[i].Hold = &control.Hold{Reason: req.Reason, Since: time.Now().UTC(), Actor: "test"}
			}
			out = append(out, b.recs[i])
		}
	}
	return out, nil
}

func (b *Backend) RotateKey(ctx context.Context) (control.KeyRotation, error) {
	return control.KeyRotation{Old: "0123456789abcdef", New: "fedcba9876543210"}, nil
}

func (b *Backend) Erase(ctx context.Context, req control.EraseRequest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.IndexFunc(b.recs, func(r control.Recording) bool { return r.ID == req.ID })
	if i < 0 {
		return fmt.Errorf("recording %s: %w", req.ID, control.ErrNotFound)
	}
	b.recs = slices.Delete(b.recs, i, i+1)
	return nil
}
