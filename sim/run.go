package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/callvault/callvault/sim/pace"
	"github.com/callvault/callvault/sim/report"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// simulator is one run: the SIP user agent, the RTP pacer and what the
// calls found.
type simulator struct {
	cfg    config
	run    uint64 // tells this run's ids from another's
	log    *slog.Logger
	ua     *sipgo.UserAgent
	dc     *sipgo.DialogClientCache
	pacer  *pace.Pacer
	ports  *pace.Ports
	cycles cycleCache

	mu      sync.Mutex
	results []callResult
}

// maxUDPDatagram is the largest UDP payload over IPv4.
const maxUDPDatagram = 65507

// sipgo's logger and UDP size limit are process-wide: they are set once,
// and a run only changes the level and where the lines go.
var (
	sipGlobals sync.Once
	logLevel   slog.LevelVar
	logSink    swapWriter
	logger     *slog.Logger
)

// setupLogging sends the simulator's and sipgo's log lines to out:
// errors only, or warnings too when verbose.
func setupLogging(verbose bool, out io.Writer) *slog.Logger {
	level := slog.LevelError
	if verbose {
		level = slog.LevelWarn
	}
	logLevel.Set(level)
	logSink.set(out)
	sipGlobals.Do(func() {
		logger = slog.New(slog.NewTextHandler(&logSink, &slog.HandlerOptions{Level: &logLevel}))
		sip.SetDefaultLogger(logger)
		// A SIPREC INVITE (2-3 KB) is larger than sipgo lets a UDP
		// datagram be (its MTU less 200 bytes); gateways send it over
		// UDP all the same when told to, fragmented, and so does the
		// simulator.
		sip.UDPMTUSize = maxUDPDatagram + 200
	})
	return logger
}

// swapWriter is an io.Writer whose destination can change.
type swapWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *swapWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}

func (s *swapWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// newSimulator sets up the user agent (a client, and a server for the
// requests the recorder sends inside a dialog: BYE, OPTIONS).
func newSimulator(cfg config, logOut io.Writer) (*simulator, error) {
	log := setupLogging(cfg.Verbose, logOut)
	s := &simulator{cfg: cfg, log: log, pacer: pace.New(cfg.Pacers, 0)}
	var b [8]byte
	rand.Read(b[:])
	s.run = binary.BigEndian.Uint64(b[:])
	var err error
	if s.ports, err = pace.NewPorts(cfg.LocalIP, cfg.RTPLo, cfg.RTPHi); err != nil {
		return nil, err
	}
	opts := []sipgo.UserAgentOption{sipgo.WithUserAgent("callvault-sim"), sipgo.WithUserAgentHostname(cfg.LocalIP.String())}
	if cfg.Transport == "tls" {
		tc, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sipgo.WithUserAgenTLSConfig(tc))
	}
	if s.ua, err = sipgo.NewUA(opts...); err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	client, err := sipgo.NewClient(s.ua, sipgo.WithClientHostname(cfg.LocalIP.String()), sipgo.WithClientLogger(log))
	if err != nil {
		return nil, fmt.Errorf("sip client: %w", err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Host: cfg.LocalIP.String()}}
	s.dc = sipgo.NewDialogClientCache(client, contact)
	srv, err := sipgo.NewServer(s.ua, sipgo.WithServerLogger(log))
	if err != nil {
		return nil, fmt.Errorf("sip server: %w", err)
	}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := s.dc.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	return s, nil
}

// tlsConfig trusts -ca, or anything with -tls-insecure, else the system's
// roots.
func tlsConfig(cfg config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.TLSInsecure}
	if cfg.CA != "" {
		pem, err := os.ReadFile(cfg.CA)
		if err != nil {
			return nil, fmt.Errorf("-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-ca %s: no PEM certificate", cfg.CA)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// close releases the user agent.
func (s *simulator) close() { s.ua.Close() }

// placeAll places cfg.Total calls, at most cfg.Calls at once, starting
// one every 1/cfg.Rate seconds (later when all slots are busy), and
// returns when every call has hung up. ctx's end stops new calls and
// hangs up the live ones.
func (s *simulator) placeAll(ctx context.Context) {
	pctx, stopPacer := context.WithCancel(context.Background())
	pacerDone := make(chan struct{})
	go func() { s.pacer.Run(pctx); close(pacerDone) }()
	defer func() { stopPacer(); <-pacerDone }()

	slots := make(chan struct{}, s.cfg.Calls)
	interval := time.Duration(float64(time.Second) / s.cfg.Rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	start := time.Now()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range s.cfg.Total {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		wg.Go(func() {
			defer func() { <-slots }()
			r := s.call(ctx, i)
			s.mu.Lock()
			s.results = append(s.results, r)
			s.mu.Unlock()
		})
	}
}

// report sums the calls up.
func (s *simulator) report(wall time.Duration) *report.Report {
	r := &report.Report{Target: s.cfg.Target, Transport: s.cfg.Transport, Codec: s.cfg.Codec.Name, SRTP: s.cfg.SRTP,
		WallSeconds: wall.Round(10 * time.Millisecond).Seconds()}
	var setups []time.Duration
	for _, c := range s.results {
		r.Attempted++
		if c.answered {
			r.Answered++
			setups = append(setups, c.setup)
		}
		if c.failure != "" {
			r.Failed++
			if r.Failures == nil {
				r.Failures = map[string]int{}
			}
			r.Failures[c.failure]++
		}
		if c.byeErr != nil {
			r.ByeFailed++
		}
	}
	r.SetSetup(setups)
	t := s.pacer.Totals()
	r.Packets = report.Packets{Intended: t.Intended, Sent: t.Sent, Skipped: t.Skipped, Failed: t.Failed, Late: t.Late, SentShare: t.SentShare()}
	return r
}

// run places the calls, then checks cfg.Verify recordings, and returns
// the report.
func run(ctx context.Context, cfg config, logOut io.Writer) (*report.Report, error) {
	s, err := newSimulator(cfg, logOut)
	if err != nil {
		return nil, err
	}
	defer s.close()
	began := time.Now()
	s.placeAll(ctx)
	r := s.report(time.Since(began))
	if cfg.Verify > 0 && ctx.Err() == nil {
		checks, err := s.verify(ctx, began)
		r.Verify = checks
		if err != nil {
			return r, fmt.Errorf("verify: %w", err)
		}
	}
	return r, nil
}
