package siprec

import (
	"context"
	"sync"
)

// shutdownCode and shutdownText are the Reason of the BYEs Shutdown sends.
const (
	shutdownCode = 503
	shutdownText = "recorder shutting down"
)

// Shutdown drains the server. From its call on, every new INVITE gets 503
// with a Retry-After, as after Drain, while requests in existing dialogs
// are still served. It hangs up every live session, those still being
// admitted included once they are: BYE with Reason: SIP;cause=503;
// text="recorder shutting down", and Recorder.End(s, "shutdown"), several
// sessions at a time. It returns nil once every session has ended and
// every BYE has its answer or has timed out, or ctx.Err() when ctx is done
// first; the Recorder.End calls running then go on.
//
// The daemon stops in this order: Shutdown with a deadline below the
// service manager's stop timeout; then cancel Serve's context and wait for
// Serve to return (it ends what is left, without BYE, and waits for every
// Recorder.End still running); then close the index.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Drain()
	admitted := make(chan struct{})
	go func() {
		// No INVITE starts being admitted once draining.
		s.inflight.Wait()
		close(admitted)
	}()
	hangup := func(d *dialog) { s.hangup(d, shutdownCode, shutdownText, "shutdown") }
	live := s.live()
	s.log.Info("sip shutdown: ending sessions", "sessions", len(live))
	if err := s.each(ctx, live, hangup); err != nil {
		return err
	}
	if err := wait(ctx, admitted); err != nil {
		return err
	}
	if err := s.each(ctx, s.live(), hangup); err != nil {
		return err
	}
	return wait(ctx, s.settledCh())
}

// each calls fn for every dialog of ds, at most s.endParallel at a time,
// and returns when all calls have returned. When ctx is done first it
// returns ctx.Err() at once: the calls running go on, the others are not
// made.
func (s *Server) each(ctx context.Context, ds []*dialog, fn func(*dialog)) error {
	slots := make(chan struct{}, s.endParallel)
	var wg sync.WaitGroup
	for _, d := range ds {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-slots }()
			fn(d)
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return wait(ctx, done)
}

// settledCh returns a channel closed once every Recorder.End the server
// started has returned and every BYE it sent has its answer or has failed.
func (s *Server) settledCh() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if s.settled == nil {
		s.settled = make(chan struct{})
	}
	return s.settled
}

// wait waits for done to be closed or ctx to be done (then ctx.Err()).
func wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
