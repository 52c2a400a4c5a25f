package siprec

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
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
	// Admission bounds who may open sessions, how fast and how many.
	Admission Admission
	// Streams bounds the TCP and TLS connections.
	Streams StreamLimits
	// TLS serves Listeners.TLS; with ClientAuth set to
	// tls.RequireAndVerifyClientCert only clients with a certificate that
	// chains to its ClientCAs may connect (mutual TLS).
	TLS *tls.Config
	// Timers are the dialog timers the server runs: 2xx retransmission over
	// UDP, the ACK wait and the session timer. The zero value is the RFC's.
	Timers Timers
}

// Listeners are the sockets Serve answers SIP on; any may be nil. TCP and
// TLS are plain TCP listeners: Serve bounds their connections and, for
// TLS, runs the handshake.
type Listeners struct {
	UDP net.PacketConn
	TCP net.Listener
	TLS net.Listener
}

// Server is a SIPREC recording server: it accepts recording sessions from
// recording clients and tells a Recorder about them. Create it with
// NewServer, run it with Serve and stop it with Shutdown, then by ending
// Serve's context.
type Server struct {
	cfg Config
	rec Recorder
	log *slog.Logger

	ua     *sipgo.UserAgent
	sip    *sipgo.Server
	client *sipgo.Client // sends our BYEs
	// udpAddr is the UDP listener's address, which our requests over UDP
	// leave from; set by Serve before it serves.
	udpAddr sip.Addr
	// endParallel bounds the Recorder.End calls one Shutdown or Serve runs
	// at once.
	endParallel int

	gate *gate // allow-list and per-source session rate
	// streams are the bounded TCP and TLS listeners, set by Serve (mu).
	streams []*streamListener

	baseCtx    context.Context // cancelled when Serve stops
	cancelBase context.CancelFunc
	served     atomic.Bool
	idSeq      atomic.Uint64 // seeds o= session ids

	mu      sync.Mutex
	dialogs map[string]*dialog // live sessions
	// closing holds the dialogs we ended while their Recorder.End runs or
	// our BYE awaits its answer, so that the client's BYE still finds them.
	closing  map[string]*dialog
	busy     int           // Recorder.End calls and BYEs in flight
	settled  chan struct{} // closed when busy drops to 0; nil until waited for
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
	sipLog := SipgoLogger(log)
	s := &Server{cfg: cfg, rec: rec, log: log}
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog),
			sip.WithTransportLayerTransports(s.streamTransports())),
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
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(sipLog))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("new siprec server: %w", err)
	}
	s.ua, s.sip, s.client = ua, srv, client
	s.endParallel = max(8, 4*runtime.GOMAXPROCS(0))
	s.dialogs = make(map[string]*dialog)
	s.closing = make(map[string]*dialog)
	s.gate = newGate(cfg.Admission)
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	s.idSeq.Store(uint64(time.Now().Unix()))
	srv.OnInvite(s.onInvite)
	srv.OnAck(s.onAck)
	srv.OnBye(s.onBye)
	srv.OnCancel(s.onCancel)
	srv.OnUpdate(func(req *sip.Request, tx sip.ServerTransaction) {
		s.refreshTarget(req)
		s.onUpdate(req, tx)
	})
	srv.OnInfo(s.onInfo)
	srv.OnOptions(s.onOptions)
	srv.OnNoRoute(s.onNoRoute)
	return s, nil
}

// Serve answers SIP on the listeners until ctx is done or a listener
// fails. It then closes the listeners, waits for INVITEs being admitted,
// ends every live session with Recorder.End(s, "shutdown"), several at a
// time and without BYE, and returns once every Recorder.End has returned,
// those Hangup and Shutdown started included: after Serve, the recorder
// gets no more calls. It returns nil after ctx is done. Serve may be
// called once.
func (s *Server) Serve(ctx context.Context, ls Listeners) error {
	if ls.UDP == nil && ls.TCP == nil && ls.TLS == nil {
		return errors.New("serve sip: no listener")
	}
	if ls.TLS != nil && s.cfg.TLS == nil {
		return errors.New("serve sip: a TLS listener without a TLS configuration")
	}
	if !s.served.CompareAndSwap(false, true) {
		return errors.New("serve sip: already served")
	}
	errc := make(chan error, 3)
	var wg sync.WaitGroup
	var closers []io.Closer
	if udp := ls.UDP; udp != nil {
		host, port, err := sip.ParseAddr(udp.LocalAddr().String())
		if err != nil {
			return fmt.Errorf("serve sip udp %s: %w", udp.LocalAddr(), err)
		}
		s.udpAddr = sip.Addr{IP: net.ParseIP(host), Port: port, Hostname: host}
		g := newUDPGuard(udp, s.cfg.UserAgent, s.gate, s.log)
		s.log.Info("sip listening", "transport", "UDP", "addr", udp.LocalAddr().String())
		closers = append(closers, udp)
		wg.Go(func() {
			err := s.sip.ServeUDP(g)
			errc <- fmt.Errorf("serve sip udp %s: stopped: %w", udp.LocalAddr(), errOrClosed(err))
		})
	}
	for _, l := range []struct {
		name  string
		ln    net.Listener
		tls   *tls.Config
		serve func(net.Listener) error
	}{{"TCP", ls.TCP, nil, s.sip.ServeTCP}, {"TLS", ls.TLS, s.cfg.TLS, s.sip.ServeTLS}} {
		if l.ln == nil {
			continue
		}
		sl := newStreamListener(l.ln, s.cfg.Streams, l.tls, s.log)
		sl.userAgent = s.cfg.UserAgent
		s.mu.Lock()
		s.streams = append(s.streams, sl)
		s.mu.Unlock()
		closers = append(closers, sl)
		s.log.Info("sip listening", "transport", l.name, "addr", l.ln.Addr().String())
		wg.Go(func() {
			err := l.serve(sl)
			errc <- fmt.Errorf("serve sip %s %s: stopped: %w", strings.ToLower(l.name), l.ln.Addr(), errOrClosed(err))
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
	for _, c := range closers {
		c.Close()
	}
	wg.Wait()
	s.inflight.Wait()
	s.each(context.Background(), s.live(), func(d *dialog) { s.end(d, "shutdown") })
	// Our BYEs still in flight were abandoned with baseCtx; closing the
	// transports releases one stuck in a write.
	s.ua.Close()
	<-s.settledCh()
	if err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// EdgeCounts are the TCP and TLS connections open now and what the
// listeners and the session rates turned away since the server started.
type EdgeCounts struct {
	// Connections are open now.
	Connections int
	// ConnectionsRefused were closed at once: over max_connections or the
	// source's source_connections.
	ConnectionsRefused int64
	// TLSHandshakesFailed failed their TLS handshake (a client
	// certificate refused, no shared version or suite, a timeout); peers
	// that closed before one are not counted.
	TLSHandshakesFailed int64
	// SessionsOverSourceRate and SessionsOverMaxCPS are the new sessions
	// (over any transport) refused for their source's rate and for the
	// server's; a retransmission of a refused INVITE is not counted again.
	SessionsOverSourceRate, SessionsOverMaxCPS int64
}

// Edge returns the connections open now and what the TCP and TLS
// listeners and the session rates turned away so far.
func (s *Server) Edge() EdgeCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c EdgeCounts
	for _, l := range s.streams {
		c.Connections += l.Open()
		c.ConnectionsRefused += l.refused.Load()
		c.TLSHandshakesFailed += l.failed.Load()
	}
	c.SessionsOverSourceRate, c.SessionsOverMaxCPS = s.gate.overRate.Load(), s.gate.overCPS.Load()
	return c
}

// SetAllow replaces the allow-list (Admission.Allow) while serving.
func (s *Server) SetAllow(prefixes []netip.Prefix) { s.gate.setAllow(prefixes) }

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

// lookup finds the dialog of an in-dialog request: a live one, or one
// still closing.
func (s *Server) lookup(key string) *dialog {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.dialogs[key]; d != nil {
		return d
	}
	return s.closing[key]
}

// live returns the live dialogs.
func (s *Server) live() []*dialog {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := make([]*dialog, 0, len(s.dialogs))
	for _, d := range s.dialogs {
		ds = append(ds, d)
	}
	return ds
}

// end ends d's session once, from our side, without BYE: it takes d out of
// the table and calls Recorder.End, with d.mu released so that the
// client's requests are answered meanwhile.
func (s *Server) end(d *dialog, reason string) {
	d.mu.Lock()
	snap, ok := s.finish(d, true)
	d.mu.Unlock()
	if ok {
		s.endSession(d, snap, reason)
	}
}

// endLocked ends d's session once, with d.mu held: for a session the
// client ends (BYE, CANCEL) or whose INVITE failed, which is forgotten
// once End returns.
func (s *Server) endLocked(d *dialog, reason string) {
	if snap, ok := s.finish(d, false); ok {
		s.endSession(d, snap, reason)
	}
}

// finish marks d ended and takes it out of the live table; with d.mu held.
// It returns the session to give Recorder.End, and false when d had
// already ended. A dialog the recorder ends (linger) stays in the closing
// table until endSession, and sendBye if any, are done with it: the
// client's BYE that crosses ours is then answered 200, not 481.
func (s *Server) finish(d *dialog, linger bool) (Session, bool) {
	if d.ended {
		return Session{}, false
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
	s.beginLocked(d, linger)
	s.mu.Unlock()
	return d.sess, true
}

// endSession calls Recorder.End for a finished dialog.
func (s *Server) endSession(d *dialog, snap Session, reason string) {
	defer s.done(d)
	d.log.Info("recording session ended", "reason", reason, "duration", time.Since(snap.Started).Round(time.Millisecond).String())
	s.rec.End(&snap, reason)
}

// beginLocked counts a Recorder.End or a BYE of d about to run and, when
// d lingers, keeps d in the closing table until the matching done; with
// s.mu held.
func (s *Server) beginLocked(d *dialog, linger bool) {
	s.busy++
	if linger {
		d.holds++
		s.closing[d.key] = d
	}
}

// done undoes a beginLocked. The last hold on a dialog forgets it; the
// last Recorder.End or BYE wakes those waiting on settledCh.
func (s *Server) done(d *dialog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.holds > 0 {
		if d.holds--; d.holds == 0 {
			delete(s.closing, d.key)
		}
	}
	if s.busy--; s.busy == 0 && s.settled != nil {
		close(s.settled)
		s.settled = nil
	}
}
