package recorder

import (
	"context"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/vault"
)

// Hub fans events out to the control API's subscribers. A subscriber that
// falls behind loses events rather than slowing the recorder down, but
// never silently: once a send to it would have blocked, the next event it
// gets is a control.EventResync marker (then events again), so its stream
// can send a fresh snapshot in place of what was lost. The marker goes out
// with the first event published after the subscriber has room again; the
// stats event, once a second, bounds that wait.
type Hub struct {
	mu   sync.Mutex
	subs map[chan control.Event]*subscriber
}

// subscriber is one subscription's drop flag.
type subscriber struct {
	// dropped is set when an event could not be sent; a resync marker
	// must precede the next one.
	dropped bool
}

func NewHub() *Hub { return &Hub{subs: make(map[chan control.Event]*subscriber)} }

// Alarm publishes an alarm raised or cleared outside the recorder (the
// archiver's backlog).
func (h *Hub) Alarm(a control.Alarm) {
	h.publish(control.Event{Type: control.EventAlarm, Time: time.Now().UTC(), Alarm: &a})
}

// listened reports whether anyone follows the events.
func (h *Hub) listened() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0
}

func (h *Hub) publish(e control.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch, s := range h.subs {
		s.offer(ch, e)
	}
}

// offer sends e to ch without blocking; after a drop it sends the resync
// marker first, and e only if the marker went through.
func (s *subscriber) offer(ch chan control.Event, e control.Event) {
	if s.dropped {
		select {
		case ch <- control.Event{Type: control.EventResync, Time: e.Time}:
			s.dropped = false
		default:
			return
		}
	}
	select {
	case ch <- e:
	default:
		s.dropped = true
	}
}

// subscribe returns a channel of events that is closed when ctx is done.
func (h *Hub) subscribe(ctx context.Context) <-chan control.Event {
	return h.subscribeSize(ctx, 256)
}

func (h *Hub) subscribeSize(ctx context.Context, size int) <-chan control.Event {
	ch := make(chan control.Event, size)
	h.mu.Lock()
	h.subs[ch] = &subscriber{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, ch)
		close(ch)
		h.mu.Unlock()
	}()
	return ch
}

func eventCall(typ string, t time.Time, c control.Call) control.Event {
	return control.Event{Type: typ, Time: t, Call: &c}
}

func eventRecording(t time.Time, r vault.Recording) control.Event {
	w := wireRecording(r)
	return control.Event{Type: control.EventRecordingSealed, Time: t, Recording: &w}
}

func eventFailed(t time.Time, c control.Call, err error) control.Event {
	return control.Event{Type: control.EventRecordingFailed, Time: t, Call: &c, Error: err.Error()}
}

// wireRecording converts the index's record to the control API's.
func wireRecording(r vault.Recording) control.Recording {
	w := control.Recording{
		ID:         r.ID,
		Start:      r.Start.UTC(),
		DurationMS: r.DurationMS,
		User:       r.User,
		FullName:   r.FullName,
		Extension:  r.Extension,
		Remote:     r.Remote,
		Direction:  r.Direction,
		Status:     r.Status,
		File:       r.File,
		Codec:      r.Codec,
		Size:       r.Size,
		CallID:     r.CallID,
		SHA256:     r.SHA256,
		EndReason:  r.EndReason,
		UCMHalf:    r.UCMHalf,
	}
	for _, p := range r.Participants {
		w.Participants = append(w.Participants, control.Participant{AOR: p.AOR, Name: p.Name, Joined: p.Joined, Left: p.Left})
	}
	for _, l := range r.Legs {
		w.Legs = append(w.Legs, control.RecordedLeg{Label: l.Label, Codec: l.Codec, Packets: l.Packets, LegCounters: wireCounters(l)})
	}
	w.Lost = wireSpans(r.Lost)
	w.Pauses = wireSpans(r.Pauses)
	w.Windows = wireSpans(r.Windows)
	for _, c := range r.Copies {
		w.Copies = append(w.Copies, control.Copy(c))
	}
	w.Evicted = r.Evicted
	if r.Hold != nil {
		w.Hold = &control.Hold{Reason: r.Hold.Reason, Since: r.Hold.Since, Actor: r.Hold.Actor}
	}
	return w
}

// wireCounters gives a leg's drop and repair counters in the control
// API's words.
func wireCounters(l vault.LegSummary) control.LegCounters {
	return control.LegCounters{Late: l.Late, Duplicates: l.Duplicates, ForeignSource: l.ForeignSource,
		ForeignSSRC: l.ForeignSSRC, AuthFailed: l.AuthFailed, Ignored: l.Ignored, Concealed: l.Concealed, LostPackets: l.LostPackets}
}

// PublishStats sends the once-a-second stats event: live calls and their
// legs' counters, the call rate at now, the licence's use and the disk.
func (r *Recorder) PublishStats(now time.Time) {
	if !r.events.listened() {
		return // nobody follows the stream: nothing to gather
	}
	live := r.live()
	calls := make([]control.CallLegs, 0, len(live))
	for _, c := range live {
		calls = append(calls, c.legViews())
	}
	disk := r.diskView(now)
	r.events.publish(control.Event{Type: control.EventStats, Time: now.UTC(),
		Stats: &control.Stats{LiveCalls: len(live), CallsPerSecond: wireRate(r.stats.snapshot(now)),
			License: r.licenceView(), Disk: &disk, Calls: calls}})
}

// wireSpans gives index spans in the control API's words.
func wireSpans(in []vault.Span) []control.Span {
	var out []control.Span
	for _, s := range in {
		out = append(out, control.Span{AtMS: s.AtMS, DurMS: s.DurMS})
	}
	return out
}
