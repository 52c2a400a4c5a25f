package media

import (
	"fmt"
	"net"
	"net/netip"
)

// LegOptions configures one RTP leg.
type LegOptions struct {
	// Codecs maps payload types to SDP encoding names, as AddLeg takes
	// them. Names NewDecoder knows are decoded; "CN" (and payload type 13
	// when unlisted) is comfort noise, recorded as silence of its length;
	// "telephone-event" is never audio. Other payload types are ignored.
	Codecs map[uint8]string
	// Source is where the SDP says the leg's RTP comes from (c= address, m=
	// port). A zero or unspecified address (0.0.0.0, hold) or port 0 means
	// unknown: the leg latches on its first source.
	Source netip.AddrPort
	// Latch accepts the first source seen instead of Source (gateways
	// behind NAT) and keeps it.
	Latch bool
	// SRTP, when set, decrypts the leg's packets (SDES keys).
	SRTP *SRTPParams
}

// source is a leg's source discipline: the one transport address its
// packets may come from, announced or latched.
type source struct {
	want    netip.AddrPort // announced; valid only when known
	latch   bool           // latch on the first source even when want is known
	latched netip.AddrPort // the source latched on, when valid
}

// newSource returns the discipline for a leg announced at want.
func newSource(want netip.AddrPort, latch bool) source {
	return source{want: known(want), latch: latch}
}

// known returns a, unmapped, when it names a specific address and port,
// and the zero AddrPort otherwise.
func known(a netip.AddrPort) netip.AddrPort {
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	if !a.Addr().IsValid() || a.Addr().IsUnspecified() || a.Port() == 0 {
		return netip.AddrPort{}
	}
	return a
}

// latching reports whether the leg takes its source from its packets.
func (s *source) latching() bool { return s.latch || !s.want.IsValid() }

// allows reports whether a packet from from may be looked at. Before a
// latching leg has latched, every source may (the first acceptable packet
// latches).
func (s *source) allows(from netip.AddrPort) bool {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	switch {
	case s.latched.IsValid():
		return from == s.latched
	case s.latching():
		return true
	}
	return from == s.want
}

// accept latches on from if the leg latches and has not yet.
func (s *source) accept(from netip.AddrPort) {
	if s.latching() && !s.latched.IsValid() {
		s.latched = known(from)
	}
}

// current returns the address the leg takes packets from: latched or
// announced, zero while unknown.
func (s *source) current() netip.AddrPort {
	if s.latched.IsValid() {
		return s.latched
	}
	if s.latch {
		return netip.AddrPort{}
	}
	return s.want
}

// move applies a new announced source (a re-INVITE): told of no address,
// or of another one than before, the leg forgets the source it latched on.
func (s *source) move(want netip.AddrPort) {
	want = known(want)
	if want != s.want || !want.IsValid() {
		s.latched = netip.AddrPort{}
	}
	s.want = want
}

// A LegConn is the socket a leg's datagrams come from: a PortPool's
// *PortConn (read, on Linux, by one of the pool's pollers) or any
// net.PacketConn (read by a goroutine of the leg's own).
type LegConn interface {
	LocalAddr() net.Addr
	Close() error
}

// AddLegWith adds an RTP leg read from conn, configured by o, and starts
// its reader. At least one codec of o.Codecs must be supported. Packets
// from any other source than the leg's (o.Source, or the one it latched
// on) are dropped and counted (LegStats.ForeignSource). On success the
// recording owns conn and closes it (and gives its PortPool port back) in
// Stop; on error conn stays the caller's.
func (r *Recording) AddLegWith(label string, conn LegConn, o LegOptions) error {
	if conn == nil {
		return fmt.Errorf("add leg %q: nil conn", label)
	}
	_, err := r.addLeg(label, conn, o)
	return err
}

// AddLeg adds an RTP leg read from conn that latches on its first source:
// AddLegWith with only codecs set.
func (r *Recording) AddLeg(label string, conn LegConn, codecs map[uint8]string) error {
	return r.AddLegWith(label, conn, LegOptions{Codecs: codecs})
}

// SetSource tells the leg labelled label that its RTP now comes from src
// (a re-INVITE moved the stream). A leg told of an unknown address (hold),
// or a latching leg told of another address than before, latches again on
// its next usable packet; a latching leg told the same address again keeps
// the source it latched on.
func (r *Recording) SetSource(label string, src netip.AddrPort) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("set source of leg %q: %w", label, errStopped)
	}
	l := r.legByLabel(label)
	if l == nil {
		return fmt.Errorf("set source of leg %q: no such leg", label)
	}
	l.src.move(src)
	l.stats.Source = l.src.current()
	return nil
}
