package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/sim/codec"
)

// config is a run as the flags describe it.
type config struct {
	Target      string // host:port of the recorder's SIP
	Transport   string // udp, tcp, tls
	TLSInsecure bool
	CA          string // PEM file of the CA that signed the recorder's certificate
	Calls       int    // at once
	Rate        float64
	Duration    time.Duration
	Total       int
	Codec       codec.Codec
	SRTP        bool
	OwnerLo     int // extensions of the recorded party, in turn
	OwnerHi     int
	Remote      string // pattern of the other party's number, # for digits of the call index
	LocalIP     netip.Addr
	RTPLo       int
	RTPHi       int
	Verify      int
	Socket      string
	JSON        bool
	Pacers      int
	Verbose     bool
}

const usageHead = `usage: callvault-sim -target HOST:PORT [flags]

callvault-sim places SIPREC recording sessions the way a Cisco CUBE forks
calls to a recorder: an INVITE with Require: siprec and a multipart body
(SDP with two labelled sendonly audio streams and RFC 7865 metadata naming
the two parties), ACK, then RTP on both legs - a tone of its own on each,
20 ms packets - for the call's duration, then BYE. It reports calls
answered and failed (by SIP status), setup latency (INVITE to 200 OK, p50
and p99) and the RTP packets sent against the schedule; with -verify N it
exports N of the recordings through callvaultd's control socket, decodes
them and checks each leg's tone and the duration.

Example, a first call against 'make run':
  callvault-sim -target 127.0.0.1:5060 -calls 1 -duration 10s -verify 1

Exit status: 0 when every call was answered and every check passed, 1
otherwise, 2 for a mistake in the flags.

Flags:
`

// parseFlags reads args (without the program name) into a config.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var codecName, owners, rtpPorts, localIP string
	fs := flag.NewFlagSet("callvault-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Target, "target", "", "the recorder's SIP address, HOST:PORT (required)")
	fs.StringVar(&c.Transport, "transport", "udp", "SIP transport: udp, tcp or tls")
	fs.BoolVar(&c.TLSInsecure, "tls-insecure", false, "tls: accept any recorder certificate")
	fs.StringVar(&c.CA, "ca", "", "tls: PEM file of the CA that signed the recorder's certificate")
	fs.IntVar(&c.Calls, "calls", 1, "calls up at once")
	fs.Float64Var(&c.Rate, "rate", 10, "new calls per second")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "length of each call (ACK to BYE)")
	fs.IntVar(&c.Total, "total", 0, "calls placed in all (default: -calls)")
	fs.StringVar(&codecName, "codec", "pcmu", "audio codec of both legs: pcmu, pcma or g729")
	fs.BoolVar(&c.SRTP, "srtp", false, "offer SRTP (RTP/SAVP, SDES "+"AES_CM_128_HMAC_SHA1_80) and encrypt both legs")
	fs.StringVar(&owners, "owners", "2000-2999", "extensions of the recorded party (the caller), LO-HI or one, used in turn")
	fs.StringVar(&c.Remote, "remote", "+1555#######", "the other party's number; each # becomes a digit of the call's index")
	fs.StringVar(&localIP, "local-ip", "", "address to send SIP and RTP from (default: the one that routes to -target)")
	fs.StringVar(&rtpPorts, "rtp-ports", "40000-55999", "local RTP ports, LO-HI (two even ports a call)")
	fs.IntVar(&c.Verify, "verify", 0, "after the run, export and check N of the recordings through the control socket")
	fs.StringVar(&c.Socket, "socket", "", "callvaultd's control socket, for -verify (default: $"+control.SocketEnv+", else "+control.DefaultSocket+")")
	fs.BoolVar(&c.JSON, "json", false, "print the report as JSON")
	fs.IntVar(&c.Pacers, "pacers", 2, "goroutines sending RTP")
	fs.BoolVar(&c.Verbose, "v", false, "log each failed call and the SIP stack's warnings to stderr")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, c.complete(codecName, owners, rtpPorts, localIP)
}

// complete checks the flags and fills what depends on several of them.
func (c *config) complete(codecName, owners, rtpPorts, localIP string) error {
	var err error
	if c.Target == "" {
		return errors.New("-target HOST:PORT is required")
	}
	if _, _, err := net.SplitHostPort(c.Target); err != nil {
		return fmt.Errorf("-target %q: want HOST:PORT", c.Target)
	}
	c.Transport = strings.ToLower(c.Transport)
	if c.Transport != "udp" && c.Transport != "tcp" && c.Transport != "tls" {
		return fmt.Errorf("-transport %q: want udp, tcp or tls", c.Transport)
	}
	if c.Calls < 1 || c.Rate <= 0 || c.Duration <= 0 || c.Total < 0 || c.Verify < 0 || c.Pacers < 1 {
		return errors.New("-calls, -rate, -duration and -pacers must be positive, -total and -verify not negative")
	}
	if c.Total == 0 {
		c.Total = c.Calls
	}
	if c.Codec, err = codec.Parse(codecName); err != nil {
		return fmt.Errorf("-codec: %w", err)
	}
	if c.OwnerLo, c.OwnerHi, err = parseRange(owners); err != nil {
		return fmt.Errorf("-owners: %w", err)
	}
	if c.RTPLo, c.RTPHi, err = parseRange(rtpPorts); err != nil {
		return fmt.Errorf("-rtp-ports: %w", err)
	}
	if c.RTPHi-c.RTPLo < 3 {
		return fmt.Errorf("-rtp-ports %s: too few ports for a call", rtpPorts)
	}
	if c.LocalIP, err = chooseLocalIP(localIP, c.Target); err != nil {
		return err
	}
	return nil
}

// parseRange reads "LO-HI" or a single number.
func parseRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		b = a
	}
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || lo < 0 || hi < lo {
		return 0, 0, fmt.Errorf("%q: want LO-HI", s)
	}
	return lo, hi, nil
}

// chooseLocalIP returns the address given, else the one the system would
// send to target from (a UDP "dial" only looks the route up).
func chooseLocalIP(given, target string) (netip.Addr, error) {
	if given != "" {
		a, err := netip.ParseAddr(given)
		if err != nil {
			return a, fmt.Errorf("-local-ip: %w", err)
		}
		return a, nil
	}
	conn, err := net.Dial("udp", target)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("no route to -target %s: %w (set -local-ip)", target, err)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// owner is call i's recorded extension.
func (c *config) owner(i int) string {
	return strconv.Itoa(c.OwnerLo + i%(c.OwnerHi-c.OwnerLo+1))
}

// remote is call i's other party: the pattern with its #s replaced by the
// last digits of i, zero-padded.
func (c *config) remote(i int) string {
	n := strings.Count(c.Remote, "#")
	if n == 0 {
		return c.Remote
	}
	digits := fmt.Sprintf("%0*d", n, i)
	digits = digits[len(digits)-n:]
	var b strings.Builder
	k := 0
	for _, r := range c.Remote {
		if r == '#' {
			b.WriteByte(digits[k])
			k++
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
