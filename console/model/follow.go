package model

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// Backoff is how Follow waits between attempts: First after the first
// failure, doubling up to Max. Zero fields take the defaults (1 s, 5 s);
// Wait and Now, when set, replace the timer and the clock (tests).
type Backoff struct {
	First time.Duration
	Max   time.Duration
	// Wait waits d or until ctx is done (then it returns ctx's error).
	Wait func(ctx context.Context, d time.Duration) error
	Now  func() time.Time
}

// DefaultBackoff waits 1 s, then 2, 4 and 5 s at most.
var DefaultBackoff = Backoff{First: time.Second, Max: 5 * time.Second}

func (b Backoff) withDefaults() Backoff {
	if b.First <= 0 {
		b.First = DefaultBackoff.First
	}
	if b.Max < b.First {
		b.Max = max(DefaultBackoff.Max, b.First)
	}
	if b.Wait == nil {
		b.Wait = sleep
	}
	if b.Now == nil {
		b.Now = time.Now
	}
	return b
}

// next is the wait after one of delay.
func (b Backoff) next(delay time.Duration) time.Duration { return min(2*delay, b.Max) }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Follow keeps m up to date from c's event stream until ctx is done, and
// returns ctx's error. When the stream cannot open or breaks (the daemon
// restarts, a line does not decode) it marks m retrying with the error,
// waits as b says and connects again by itself; the new stream's snapshot
// brings m back.
func Follow(ctx context.Context, c *control.Client, m *Model, b Backoff) error {
	b = b.withDefaults()
	delay := b.First
	for {
		err := follow(ctx, c, m, b, &delay)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("the daemon ended the event stream")
		}
		now := b.Now()
		m.SetRetrying(err, now, now.Add(delay))
		if err := b.Wait(ctx, delay); err != nil {
			return err
		}
		delay = b.next(delay)
	}
}

// follow reads one stream to its end; once it opens, the backoff starts
// over.
func follow(ctx context.Context, c *control.Client, m *Model, b Backoff, delay *time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := c.Events(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	m.SetConnected(b.Now())
	*delay = b.First
	for {
		ev, err := s.Next()
		if err != nil {
			return err
		}
		m.Apply(ev)
	}
}
