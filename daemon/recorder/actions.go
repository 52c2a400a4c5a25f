package recorder

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/vocab"
	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/vault"
)

// A Live Keep call that ends before its keep is parked: its media is
// stopped, its file waits on disk (encrypted, never in memory), and it is
// sealed if keep comes within the grace, else destroyed, data key first.
type parked struct {
	c       *call
	reason  string
	res     media.Result
	stopErr error
	timer   *time.Timer
}

// park holds an ended Live Keep call for r.keepGrace.
func (r *Recorder) park(c *call, reason string, res media.Result, stopErr error) {
	p := &parked{c: c, reason: reason, res: res, stopErr: stopErr}
	r.mu.Lock()
	r.parked[c.w.ID()] = p
	p.timer = time.AfterFunc(r.keepGrace, func() { r.expire(c.w.ID()) })
	r.mu.Unlock()
	c.log.Info("live keep call ended before its keep: waiting for it", "grace", r.keepGrace.String(), "reason", reason)
}

// unpark takes a parked call out of the waiting list; nil when it is not
// there (kept or destroyed already).
func (r *Recorder) unpark(id string) *parked {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.parked[id]
	if p != nil {
		delete(r.parked, id)
		p.timer.Stop()
	}
	return p
}

// expire destroys a parked call whose grace ran out.
func (r *Recorder) expire(id string) {
	if p := r.unpark(id); p != nil {
		r.destroy(p.c, "no keep before the grace ran out")
	}
}

// destroy removes an unkept Live Keep call for good and counts it.
func (r *Recorder) destroy(c *call, why string) {
	if err := c.w.Destroy(); err != nil {
		c.log.Error("destroy live keep call", "err", err)
		return
	}
	r.unkept.Add(1)
	r.audit(context.Background(), vault.AuditRecordingDeleted, c.w.ID(), "live keep call not kept: "+why)
	c.log.Info("live keep call not kept: destroyed, its data key first", "why", why)
	view := c.view(r.users.byExtension)
	r.events.publish(control.Event{Type: control.EventRecordingDestroyed, Time: r.now().UTC(), Call: &view})
}

// DestroyUnkept destroys every parked Live Keep call now: the daemon is
// stopping, and nobody can keep them any more.
func (r *Recorder) DestroyUnkept() {
	r.mu.Lock()
	ids := make([]string, 0, len(r.parked))
	for id := range r.parked {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	for _, id := range ids {
		if p := r.unpark(id); p != nil {
			r.destroy(p.c, "the daemon stopped before a keep")
		}
	}
}

// Record applies a record action to the live call whose owner has the
// extension target, or whose record id is target; keep also finds a Live
// Keep call that ended within its grace. It fails with control.ErrNotFound
// when there is no such call, and control.ErrNotAllowed when the owner's
// mode has no use for the action.
func (r *Recorder) Record(target, action string) (control.RecordResult, error) {
	if _, err := ParseAction(action); err != nil {
		return control.RecordResult{}, fmt.Errorf("%w: %w", control.ErrInvalid, err)
	}
	c := r.findLive(target)
	if c == nil {
		if action == vocab.ActionKeep {
			if p := r.findParked(target); p != nil {
				return r.keepParked(p)
			}
		}
		return control.RecordResult{}, fmt.Errorf("%w: no live call of extension or record id %s", control.ErrNotFound, target)
	}
	c.mu.Lock()
	opens := action == vocab.ActionStart && c.mode.mode == vocab.ModeOnDemand && !c.mode.open
	c.mu.Unlock()
	if opens {
		if err := r.startAllowed(); err != nil {
			return control.RecordResult{}, fmt.Errorf("%w: %w", control.ErrNotAllowed, err)
		}
	}
	now := r.now()
	c.mu.Lock()
	eff, err := c.mode.apply(action)
	state := c.mode.state()
	if err == nil {
		switch eff {
		case effectOpen:
			c.rec.Open(now)
		case effectClose:
			c.rec.Close(now)
		case effectPause:
			c.rec.Pause(now)
		case effectResume:
			c.rec.Resume(now)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return control.RecordResult{}, fmt.Errorf("%w: %w", control.ErrNotAllowed, err)
	}
	if eff == effectKeep {
		r.describe(c)                      // the draft without keep_pending...
		if err := c.w.Sync(); err != nil { // ...on disk before we say kept
			c.log.Warn("sync the kept draft", "err", err)
		}
	}
	if eff != effectNone {
		c.log.Info("record action", "action", action, "state", state)
	}
	view := c.view(r.users.byExtension)
	r.events.publish(eventCall(control.EventCallUpdated, now, view))
	return control.RecordResult{Action: action, State: state, Call: view}, nil
}

// keepParked seals a Live Keep call kept within its grace.
func (r *Recorder) keepParked(p *parked) (control.RecordResult, error) {
	if r.unpark(p.c.w.ID()) == nil {
		return control.RecordResult{}, fmt.Errorf("%w: the call ended and its grace ran out", control.ErrNotFound)
	}
	p.c.mu.Lock()
	p.c.mode.apply(vocab.ActionKeep)
	p.c.mu.Unlock()
	p.c.log.Info("record action", "action", vocab.ActionKeep, "state", vocab.StateKept, "after_end", true)
	view := p.c.view(r.users.byExtension)
	r.conclude(p.c, p.reason, p.res, p.stopErr)
	return control.RecordResult{Action: vocab.ActionKeep, State: vocab.StateKept, Call: view}, nil
}

// findLive is the live call of record id target, else the newest live
// call whose owner has the extension target.
func (r *Recorder) findLive(target string) *call {
	var found *call
	for _, c := range r.live() {
		if c.w.ID() == target {
			return c
		}
		c.mu.Lock()
		md := c.session.Metadata
		c.mu.Unlock()
		if p := classify(md, r.users.byExtension); p.Extension == target && (found == nil || c.start.After(found.start)) {
			found = c
		}
	}
	return found
}

// findParked is the parked call of record id target, else the newest one
// of the owner with extension target.
func (r *Recorder) findParked(target string) *parked {
	r.mu.Lock()
	ps := make([]*parked, 0, len(r.parked))
	for _, p := range r.parked {
		ps = append(ps, p)
	}
	r.mu.Unlock()
	slices.SortFunc(ps, func(a, b *parked) int { return b.c.start.Compare(a.c.start) })
	for _, p := range ps {
		if p.c.w.ID() == target {
			return p
		}
	}
	for _, p := range ps {
		p.c.mu.Lock()
		md := p.c.session.Metadata
		p.c.mu.Unlock()
		if classify(md, r.users.byExtension).Extension == target {
			return p
		}
	}
	return nil
}
