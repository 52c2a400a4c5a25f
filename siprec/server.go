package siprec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Config is the SIP side's configuration.
type Config struct {
	// MediaAddr is the address put in the c= line of SDP answers. When it is
	// the zero Addr, the server uses the local address the request arrived
	// on; on a wildcard listener, the Request-URI host if it is an IP
	// address, else the local address of the route back to the client.
	MediaAddr netip.Addr
	// UserAgent is sent in the Server header of responses ("" for none).
	UserAgent string
}

// Server is a SIPREC recording server: it accepts recording sessions from
// recording clients and tells a Recorder about them. Create it with
// NewServer and run it with Serve.
type Server struct {
	cfg Config
	rec Recorder
	log *slog.Logger

	ua  *sipgo.UserAgent
	sip *sipgo.Server

	baseCtx    context.Context // cancelled when Serve stops
	cancelBase context.CancelFunc
	served     atomic.Bool
	idSeq      atomic.Uint64 // seeds o= session ids

	mu       sync.Mutex
	dialogs  map[string]*dialog
	draining bool
	closed   bool
	inflight sync.WaitGroup // initial INVITEs being admitted
}

// NewServer returns a server that reports sessions to rec and logs to log.
func NewServer(cfg Config, rec Recorder, log *slog.Logger) (*Server, error) {
	if rec == nil {
		return nil, errors.New("new siprec server: nil recorder")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sipLog := slog.New(demoteInfo{log.With("component", "sipgo").Handler()})
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)),
	)
	if err != nil {
		return nil, fmt.Errorf("new siprec server: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("new siprec server: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		rec:     rec,
		log:     log,
		ua:      ua,
		sip:     srv,
		dialogs: make(map[string]*dialog),
	}
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	s.idSeq.Store(uint64(time.Now().Unix()))
	srv.OnInvite(s.onInvite)
	srv.OnAck(s.onAck)
	srv.OnBye(s.onBye)
	srv.OnCancel(s.onCancel)
	srv.OnUpdate(s.onUpdate)
	srv.OnInfo(s.onInfo)
	srv.OnOptions(s.onOptions)
	srv.OnNoRoute(s.onNoRoute)
	return s, nil
}

// Serve answers SIP on udp and tcp (either may be nil) until ctx is done or
// a listener fails. It then closes both listeners, waits for INVITEs being
// admitted, ends every live session with Recorder.End(s, "shutdown") and
// returns. It returns nil after ctx is done. Serve may be called once.
func (s *Server) Serve(ctx context.Context, udp net.PacketConn, tcp net.Listener) error {
	if udp == nil && tcp == nil {
		return errors.New("serve sip: no listener")
	}
	if !s.served.CompareAndSwap(false, true) {
		return errors.New("serve sip: already served")
	}
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	if udp != nil {
		g := newUDPGuard(udp, s.cfg.UserAgent, s.log)
		s.log.Info("sip listening", "transport", "UDP", "addr", udp.LocalAddr().String())
		wg.Go(func() {
			err := s.sip.ServeUDP(g)
			errc <- fmt.Errorf("serve sip udp %s: stopped: %w", udp.LocalAddr(), errOrClosed(err))
		})
	}
	if tcp != nil {
		s.log.Info("sip listening", "transport", "TCP", "addr", tcp.Addr().String())
		wg.Go(func() {
			err := s.sip.ServeTCP(tcp)
			errc <- fmt.Errorf("serve sip tcp %s: stopped: %w", tcp.Addr(), errOrClosed(err))
		})
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}

	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancelBase()
	if udp != nil {
		udp.Close()
	}
	if tcp != nil {
		tcp.Close()
	}
	wg.Wait()
	s.inflight.Wait()
	s.endAll("shutdown")
	s.ua.Close()
	if err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

func errOrClosed(err error) error {
	if err == nil {
		return net.ErrClosed
	}
	return err
}

// Drain stops admitting: from now on a new INVITE gets 503 Service
// Unavailable with a Retry-After. Requests in existing dialogs are served.
func (s *Server) Drain() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.log.Info("sip draining: new sessions refused")
}

// Sessions returns the number of live recording sessions (admitted and
// not yet ended).
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.dialogs)
}

// beginAdmit registers an initial INVITE about to be admitted. It returns
// false when the server is draining or stopping.
func (s *Server) beginAdmit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining || s.closed {
		return false
	}
	s.inflight.Add(1)
	return true
}

// register adds an admitted dialog to the table; false when the server
// stopped while the session was being admitted.
func (s *Server) register(d *dialog) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.dialogs[d.key] = d
	return true
}

func (s *Server) lookup(key string) *dialog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dialogs[key]
}

func (s *Server) endAll(reason string) {
	s.mu.Lock()
	live := make([]*dialog, 0, len(s.dialogs))
	for _, d := range s.dialogs {
		live = append(live, d)
	}
	s.mu.Unlock()
	for _, d := range live {
		s.end(d, reason)
	}
}

// end ends d's session once: it removes the dialog and calls Recorder.End.
func (s *Server) end(d *dialog, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s.endLocked(d, reason)
}

// endLocked is end with d.mu held.
func (s *Server) endLocked(d *dialog, reason string) {
	if d.ended {
		return
	}
	d.ended = true
	close(d.done)
	if d.expiry != nil {
		d.expiry.Stop()
	}
	s.mu.Lock()
	if s.dialogs[d.key] == d {
		delete(s.dialogs, d.key)
	}
	s.mu.Unlock()
	snap := d.sess
	d.log.Info("recording session ended", "reason", reason, "duration", time.Since(snap.Started).Round(time.Millisecond).String())
	s.rec.End(&snap, reason)
}

// demoteInfo logs sipgo's Info records at Debug: they are per-transaction
// chatter, not operator news.
type demoteInfo struct{ slog.Handler }

func (h demoteInfo) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		r.Level = slog.LevelDebug
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h demoteInfo) Enabled(ctx context.Context, l slog.Level) bool {
	if l == slog.LevelInfo {
		l = slog.LevelDebug
	}
	return h.Handler.Enabled(ctx, l)
}

func (h demoteInfo) WithAttrs(as []slog.Attr) slog.Handler {
	return demoteInfo{h.Handler.WithAttrs(as)}
}

func (h demoteInfo) WithGroup(name string) slog.Handler {
	return demoteInfo{h.Handler.WithGroup(name)}
}
