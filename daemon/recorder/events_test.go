package recorder

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/control/controltest"
)

func statsEvent(n int) control.Event {
	return control.Event{Type: control.EventStats, Time: time.Unix(int64(n), 0).UTC(), Stats: &control.Stats{LiveCalls: n}}
}

// take reads what ch holds now, without waiting.
func take(ch <-chan control.Event) []control.Event {
	var out []control.Event
	for {
		select {
		case ev := <-ch:
			out = append(out, ev)
		default:
			return out
		}
	}
}

func TestHubMarksDrops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := NewHub()
	ch := h.subscribeSize(ctx, 2)
	for i := 1; i <= 4; i++ { // 3 and 4 find the channel full
		h.publish(statsEvent(i))
	}
	got := take(ch)
	if len(got) != 2 || got[0].Stats.LiveCalls != 1 || got[1].Stats.LiveCalls != 2 {
		t.Fatalf("first events = %+v, want stats 1 and 2", got)
	}
	h.publish(statsEvent(5))
	got = take(ch)
	if len(got) != 2 || got[0].Type != control.EventResync || got[1].Stats == nil || got[1].Stats.LiveCalls != 5 {
		t.Fatalf("after the drop = %+v, want resync then stats 5", got)
	}
	h.publish(statsEvent(6))
	if got = take(ch); len(got) != 1 || got[0].Type != control.EventStats {
		t.Fatalf("then = %+v, want stats 6 alone: one resync per drop", got)
	}
}

func TestHubMarkerTakesTheLastSlot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := NewHub()
	ch := h.subscribeSize(ctx, 1)
	h.publish(statsEvent(1))
	h.publish(statsEvent(2)) // dropped
	<-ch
	h.publish(statsEvent(3)) // the marker fits, 3 does not: dropped again
	if got := take(ch); len(got) != 1 || got[0].Type != control.EventResync {
		t.Fatalf("got %+v, want the resync marker alone", got)
	}
	h.publish(statsEvent(4))
	if got := take(ch); len(got) != 1 || got[0].Type != control.EventResync {
		t.Fatalf("got %+v, want a second resync marker: 3 was lost after the first", got)
	}
}

func TestHubSubscribersAreIndependent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := NewHub()
	slow := h.subscribeSize(ctx, 1)
	fast := h.subscribeSize(ctx, 8)
	h.publish(statsEvent(1))
	h.publish(statsEvent(2))
	h.publish(statsEvent(3))
	if got := take(fast); len(got) != 3 {
		t.Errorf("fast subscriber got %d events, want 3", len(got))
	}
	<-slow
	h.publish(statsEvent(4))
	if got := take(slow); len(got) != 1 || got[0].Type != control.EventResync {
		t.Errorf("slow subscriber got %+v, want a resync marker", got)
	}
}

// hubBackend serves controltest's state with the recorder's Hub, as the
// daemon's backend does.
type hubBackend struct {
	*controltest.Backend
	hub *Hub
}

func (b hubBackend) Subscribe(ctx context.Context) <-chan control.Event { return b.hub.subscribe(ctx) }

// TestSlowStreamResyncs floods a stream whose client does not read, so
// that the socket, then the subscription's buffer, fill up; the client
// then reads and must find numbered events without a hole, and a resync
// followed by a snapshot where events were lost.
func TestSlowStreamResyncs(t *testing.T) {
	b := hubBackend{Backend: controltest.New(), hub: NewHub()}
	b.SetCalls([]control.Call{{ID: "one@gw", RecordID: "2026000000001"}})
	c := &control.Client{Socket: controltest.Serve(t, b)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := c.Events(ctx)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	defer s.Close()
	pad := strings.Repeat("x", 1000)
	for i := range 8000 { // 8 MB: more than socket buffers and the channel hold
		b.hub.publish(control.Event{Type: control.EventCallUpdated, Call: &control.Call{ID: fmt.Sprint(i), Source: pad}})
	}
	// Publish on, as the daemon's stats ticker does, so the marker goes out
	// once the stream drains.
	tick := make(chan struct{})
	go func() {
		defer close(tick)
		for i := 0; ctx.Err() == nil; i++ {
			b.hub.publish(statsEvent(i))
			time.Sleep(10 * time.Millisecond)
		}
	}()
	defer func() { cancel(); <-tick }()
	var prev control.Event
	for want := uint64(1); ; want++ {
		ev, err := s.Next()
		if err != nil {
			t.Fatalf("event %d: %v", want, err)
		}
		if ev.Seq != want {
			t.Fatalf("event seq %d, want %d", ev.Seq, want)
		}
		if want == 1 && (ev.Type != control.EventSnapshot || ev.Snapshot == nil || len(ev.Snapshot.Calls) != 1) {
			t.Fatalf("first event = %+v, want a snapshot with the live call", ev)
		}
		if prev.Type == control.EventResync {
			if ev.Type != control.EventSnapshot || ev.Snapshot == nil {
				t.Fatalf("after resync: %+v, want a snapshot", ev)
			}
			return
		}
		prev = ev
	}
}
