// Package invite builds the SIPREC INVITE a Cisco CUBE sends when it forks
// a call to a recorder - the headers, the multipart body with the SDP offer
// (two labelled sendonly audio streams, optionally SRTP with SDES keys) and
// the RFC 7865 recording metadata - and reads the recorder's SDP answer.
// It is pure: the caller chooses ids, ports, keys and times.
package invite

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/callvault/callvault/sim/codec"
)

// Boundary separates the parts of the body; ContentType announces it.
const (
	Boundary    = "uniqueBoundary"
	ContentType = "multipart/mixed;boundary=" + Boundary
)

// SRTPSuite is the SDES crypto suite offered with SRTP (RFC 4568), and
// KeyLen the length of its inline key: a 16-byte master key then a
// 14-byte master salt.
const (
	SRTPSuite = "AES_CM_128_HMAC_SHA1_80"
	KeyLen    = 30
)

// Offer is one recording session as the gateway describes it.
type Offer struct {
	// Run tells this simulator run's ids from another's; Index is the
	// call's number within the run.
	Run   uint64
	Index int
	// Host is the gateway's address: in o=, c= and the participants' AORs.
	Host string
	// Owner is the recorded party's extension, the calling party here
	// (participant 1, sending stream 1); OwnerName its display name, or "".
	Owner, OwnerName string
	// Remote is the other party's number (participant 2, stream 2).
	Remote string
	// Ports are the RTP ports the two legs are sent from.
	Ports [2]int
	Codec codec.Codec
	// Keys, when set, make the streams SRTP (RTP/SAVP): each leg's
	// master key and salt, KeyLen bytes.
	Keys [2][]byte
	// Start is when the recorded call began.
	Start time.Time
	// Extension adds Cisco's <extensiondata> to the metadata.
	Extension bool
}

// SessionID is the Session-ID header value (RFC 7989) CUBE sends: 32 hex
// digits, and the "remote" UUID of a call not yet answered.
func (o Offer) SessionID() string {
	return fmt.Sprintf("%016x%08x%08x;remote=00000000000000000000000000000000", o.Run, uint32(o.Index), uint32(0xa0005000))
}

// CiscoGUID is the Cisco-Guid header value: four decimal words.
func (o Offer) CiscoGUID() string {
	return fmt.Sprintf("%010d-%010d-%010d-%010d", uint32(o.Run>>32), uint32(o.Run), uint32(o.Index), uint32(0x4cc8c35c))
}

// id is a metadata id (16 bytes, base64 as CUBE writes them) of the
// element kind for this call.
func (o Offer) id(kind byte) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], o.Run)
	binary.BigEndian.PutUint32(b[8:12], uint32(o.Index))
	b[12] = kind
	return base64.StdEncoding.EncodeToString(b[:])
}

// Body returns the multipart body: SDP, metadata, and the ISUP-like
// application/gtd part CUBE adds (which recorders ignore).
func (o Offer) Body() []byte {
	var b strings.Builder
	part := func(ctype, disp, content string) {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s\r\nContent-Disposition: %s\r\n\r\n%s", Boundary, ctype, disp, content)
	}
	part("application/sdp", "session;handling=required", o.SDP())
	part("application/rs-metadata+xml", "recording-session", o.Metadata())
	part("application/gtd", "signal;handling=optional", o.gtd())
	fmt.Fprintf(&b, "--%s--\r\n", Boundary)
	return []byte(b.String())
}

func (o Offer) gtd() string {
	law := "ulaw"
	if o.Codec.Name == "PCMA" {
		law = "alaw"
	}
	return strings.Join([]string{"IAM,", "PRN,isdn*,,NET5*,", "USI,rate,c,s,c,1", "USI,lay1," + law, "TMR,00",
		"CPN,00,,1," + strings.TrimPrefix(o.Remote, "+"), "CGN,00,,1,y,4," + o.Owner, "CPC,09", "FCI,,,,,,,y,", ""}, "\r\n")
}
