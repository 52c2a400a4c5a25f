package recorder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/atomicfile"
	"github.com/callvault/callvault/vault"
)

// Retention: the hourly purge removes what its retention no longer keeps
// (a user's own months, else [retention] months; 0 keeps for ever),
// never what is under legal hold, and never while the clock is not to be
// trusted: a jump of the wall clock by more than a day, against the
// monotonic clock while running or backwards against the latest time a
// purge saw, pauses purging and raises the clock_jump alarm until the
// daemon restarts with a clock that agrees.

// AlarmClockJump names the alarm of a paused purge.
const AlarmClockJump = "clock_jump"

// clockJumpLimit is how far the wall clock may move against the
// monotonic one, or backwards against the last purge, before purging
// stops.
const clockJumpLimit = 24 * time.Hour

// purgePage is how many candidates a purge reads at a time.
const purgePage = 500

// retention is the purge's state.
type retention struct {
	months int    // [retention] months; 0: for ever
	state  string // <data>/purge.json: the latest wall time a purge ran at
	alarms *alarmBoard
	remove func(context.Context, vault.Recording) error // the recording's copies off the box

	mu     sync.Mutex
	last   time.Time // the previous clock check (monotonic reading kept)
	paused string    // why purging is paused; "" when it is not
}

// purgeState is <data>/purge.json.
type purgeState struct {
	Highwater time.Time `json:"highwater"`
}

func newRetention(o Options, alarms *alarmBoard, now time.Time) *retention {
	rt := &retention{months: o.RetentionMonths, alarms: alarms, remove: o.RemoveCopies}
	if o.DataDir == "" {
		return rt
	}
	rt.state = filepath.Join(o.DataDir, "purge.json")
	var st purgeState
	if b, err := os.ReadFile(rt.state); err == nil && json.Unmarshal(b, &st) == nil && now.Before(st.Highwater.Add(-clockJumpLimit)) {
		rt.pause(fmt.Sprintf("the clock reads %s, more than a day before the last purge at %s: purging is paused until the clock is right and callvaultd restarts",
			now.UTC().Format(time.RFC3339), st.Highwater.UTC().Format(time.RFC3339)))
	}
	return rt
}

func (rt *retention) pause(why string) {
	rt.mu.Lock()
	first := rt.paused == ""
	if first {
		rt.paused = why
	}
	rt.mu.Unlock()
	if first {
		rt.alarms.raise(AlarmClockJump, why)
	}
}

// CheckClock compares how far the wall clock and the monotonic clock have
// moved since the previous check (now must come from time.Now, which
// carries both); run every second.
func (r *Recorder) CheckClock(now time.Time) {
	rt := r.retention
	rt.mu.Lock()
	last := rt.last
	rt.last = now
	rt.mu.Unlock()
	if last.IsZero() {
		return
	}
	if d, ok := jumped(now.Round(0).Sub(last.Round(0)), now.Sub(last)); ok {
		rt.pause(fmt.Sprintf("the wall clock jumped by %s: purging is paused until the clock is right and callvaultd restarts", d.Round(time.Second)))
	}
}

// jumped reports whether the wall clock moved more than clockJumpLimit
// away from the monotonic clock, and by how much.
func jumped(wall, mono time.Duration) (time.Duration, bool) {
	d := wall - mono
	return d, d > clockJumpLimit || d < -clockJumpLimit
}

// PurgeRequest is an explicit purge (Before set) or the retention's
// (Before zero), or a dry run of either.
type PurgeRequest = control.PurgeRequest

// Purge removes, oldest first, the recordings the request selects that no
// hold keeps: with Before, every recording that started before it (an
// admin's purge); without, those whose retention has run out at now.
// Each leaves a tombstone and an audit entry with ctx's caller.
func (r *Recorder) Purge(ctx context.Context, req PurgeRequest) (control.PurgeResult, error) {
	rt := r.retention
	res := control.PurgeResult{DryRun: req.DryRun}
	rt.mu.Lock()
	paused := rt.paused
	rt.mu.Unlock()
	if paused != "" {
		return res, fmt.Errorf("%w: purge paused: %s", control.ErrNotAllowed, paused)
	}
	now := r.now()
	months := r.retentionOf()
	cutoff, reason := req.Before, req.Reason
	if cutoff.IsZero() {
		if rt.months == 0 && len(months) == 0 {
			return res, nil // everything is kept for ever
		}
		// Candidates: those that started before the shortest retention
		// began; each is checked against its own.
		shortest := rt.months
		for _, m := range months {
			if shortest == 0 || m < shortest {
				shortest = m
			}
		}
		cutoff = now.AddDate(0, -shortest, 0).Add(time.Nanosecond)
		if reason == "" {
			reason = "retention"
		}
	}
	after := vault.Position{}
	for ctx.Err() == nil {
		recs, err := r.store.StartedBefore(cutoff, after, purgePage)
		if err != nil {
			return res, err
		}
		var gone []vault.Recording
		for _, rec := range recs {
			after = vault.PositionOf(rec)
			if req.Before.IsZero() && !expired(rec, months, rt.months, now) {
				continue
			}
			if rec.Hold != nil {
				res.Held = append(res.Held, rec.ID)
				continue
			}
			if !req.DryRun {
				if err := r.purgeOne(ctx, rec, reason); err != nil {
					r.forgetSecrets(gone)
					return res, err
				}
				gone = append(gone, rec)
			}
			res.Purged = append(res.Purged, rec.ID)
		}
		r.forgetSecrets(gone)
		if len(recs) < purgePage {
			break
		}
	}
	if !req.DryRun && req.Before.IsZero() {
		rt.saveHighwater(now)
	}
	return res, ctx.Err()
}

// purgeOne removes one recording: its copies, then the recording, then
// the audit entry.
func (r *Recorder) purgeOne(ctx context.Context, rec vault.Recording, reason string) error {
	if rt := r.retention; rt.remove != nil {
		if err := rt.remove(ctx, rec); err != nil {
			return fmt.Errorf("purge %s: its copies: %w", rec.ID, err)
		}
	}
	actor, _ := actorOf(ctx)
	err := r.store.Remove(rec.ID, vault.Tombstone{Action: vault.AuditRecordingPurged, Reason: reason, Actor: actor, Time: r.now().UTC()})
	if errors.Is(err, vault.ErrHeld) {
		return nil // held since the scan
	}
	if err != nil {
		return err
	}
	return r.audit(ctx, vault.AuditRecordingPurged, rec.ID, reason)
}

// forgetSecrets destroys the erasure secrets of purged recordings, so
// that a backup of their files cannot be decrypted either; a failure is
// logged (the recordings are gone from the box already).
func (r *Recorder) forgetSecrets(recs []vault.Recording) {
	if len(recs) == 0 {
		return
	}
	if err := r.store.ForgetSecrets(recs); err != nil {
		r.log.Warn("erasure secrets of purged recordings not all destroyed", "recordings", len(recs), "err", err)
	}
}

// retentionOf gives the users' own retentions, by username.
func (r *Recorder) retentionOf() map[string]int {
	out := map[string]int{}
	for _, u := range r.users.list() {
		if u.RetentionMonths > 0 {
			out[u.Username] = u.RetentionMonths
		}
	}
	return out
}

// expired reports whether rec's retention has run out at now: its
// owner's months, else the global ones; 0 keeps it for ever.
func expired(rec vault.Recording, users map[string]int, global int, now time.Time) bool {
	months := global
	if m, ok := users[rec.User]; ok {
		months = m
	}
	return months > 0 && !rec.Start.AddDate(0, months, 0).After(now)
}

// saveHighwater keeps the latest time a purge ran at, so that a clock set
// back more than a day is seen at the next start.
func (rt *retention) saveHighwater(now time.Time) {
	if rt.state == "" {
		return
	}
	b, _ := json.Marshal(purgeState{Highwater: now.UTC()})
	if err := atomicfile.WriteBytes(rt.state, b, 0o600); err != nil {
		rt.alarms.log.Warn("purge state not kept", "err", err)
	}
}

// actorOf is the user name and uid of ctx's caller, or the daemon's.
func actorOf(ctx context.Context) (string, int) {
	if c, ok := control.CallerFrom(ctx); ok {
		return c.User, int(c.UID)
	}
	return vault.ActorSystem, -1
}

func (b *backend) Purge(ctx context.Context, req control.PurgeRequest) (control.PurgeResult, error) {
	return b.rec.Purge(ctx, req)
}

// Hold puts the recordings req selects under legal hold, or releases
// them; each change is audited.
func (b *backend) Hold(ctx context.Context, req control.HoldRequest) ([]control.Recording, error) {
	ids, err := b.holdTargets(req)
	if err != nil {
		return nil, err
	}
	actor, _ := actorOf(ctx)
	var out []control.Recording
	for _, id := range ids {
		var h *vault.Hold
		action := vault.AuditRecordingReleased
		if !req.Release {
			h, action = &vault.Hold{Reason: req.Reason, Since: b.rec.now().UTC(), Actor: actor}, vault.AuditRecordingHeld
		}
		rec, err := b.store.SetHold(id, h)
		if err != nil {
			return out, mapVaultErr(err, id)
		}
		if err := b.rec.audit(ctx, action, id, req.Reason); err != nil {
			return out, err
		}
		out = append(out, wireRecording(rec))
	}
	return out, nil
}

// holdTargets are the ids a hold request names or selects.
func (b *backend) holdTargets(req control.HoldRequest) ([]string, error) {
	ids := append([]string(nil), req.IDs...)
	for _, id := range req.IDs {
		if _, err := b.store.Get(id); err != nil {
			return nil, mapVaultErr(err, id)
		}
	}
	if req.User == "" && req.From.IsZero() && req.To.IsZero() {
		return ids, nil
	}
	q := vault.Query{User: req.User, From: req.From, To: req.To, Limit: 1000}
	for {
		recs, err := b.store.Search(q)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		if len(recs) < q.Limit {
			return ids, nil
		}
		q.After = vault.PositionOf(recs[len(recs)-1])
	}
}

// Erase destroys one recording on request: its copies off the box, then
// its data key, file and index entry (vault.Store.Erase), and audits it
// with ctx's caller and the reason. A held recording is refused.
func (b *backend) Erase(ctx context.Context, req control.EraseRequest) error {
	rec, err := b.store.Get(req.ID)
	if err != nil {
		return b.mapGone(err, req.ID)
	}
	if rec.Hold != nil {
		return fmt.Errorf("%w: recording %s is under legal hold since %s (%s): release it first",
			control.ErrNotAllowed, rec.ID, rec.Hold.Since.Format(time.RFC3339), rec.Hold.Reason)
	}
	if rt := b.rec.retention; rt.remove != nil {
		if err := rt.remove(ctx, rec); err != nil {
			return fmt.Errorf("erase %s: its copies: %w", rec.ID, err)
		}
	}
	actor, _ := actorOf(ctx)
	if err := b.store.Erase(rec.ID, vault.Tombstone{Reason: req.Reason, Actor: actor, Time: b.rec.now().UTC()}); err != nil {
		if errors.Is(err, vault.ErrHeld) {
			return fmt.Errorf("%w: %w", control.ErrNotAllowed, err)
		}
		return err
	}
	return b.rec.audit(ctx, vault.AuditRecordingErased, rec.ID, req.Reason)
}

// mapGone is mapVaultErr, and for a recording that is gone, its tombstone:
// when, why and by whom it was removed.
func (b *backend) mapGone(err error, id string) error {
	if errors.Is(err, vault.ErrNotFound) {
		if ts, ok, _ := b.store.TombstoneOf(id); ok {
			return fmt.Errorf("%w: recording %s was %s on %s by %s: %s", control.ErrNotFound, id,
				strings.TrimPrefix(ts.Action, "recording."), ts.Time.Format(time.RFC3339), ts.Actor, ts.Reason)
		}
	}
	return mapVaultErr(err, id)
}
