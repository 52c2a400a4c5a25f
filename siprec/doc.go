// Package siprec is callvault's SIP side: a SIPREC recording server
// (RFC 7866) that accepts recording sessions from a recording client such as
// a Cisco CUBE and describes them to the rest of callvault.
//
// The package owns:
//
//   - the SIP listeners (UDP, TCP and TLS with optional client
//     certificates, through github.com/emiago/sipgo) and their edge: the
//     UDP guard (udpguard.go) answers malformed datagrams with 400, refuses
//     sources outside the allow-list (403) or over their session rate (503)
//     without leaving state in sipgo, and marks each request's Via rport so
//     that answers go to where it came from; the stream listener
//     (streamedge.go, framer.go) caps TCP/TLS connections per source and in
//     all and closes idle ones and ones whose headers never finish; the
//     gate (gate.go) holds the allow-list and the per-source token buckets,
//     and Admission caps the live sessions;
//   - the recording-session dialog table: initial INVITE, ACK, re-INVITE,
//     UPDATE, BYE, CANCEL, INFO and OPTIONS, the 2xx retransmission over UDP
//     and the session timer, whose intervals each Server takes from its
//     Config.Timers (timers.go);
//   - the parsers for what a recording client sends: the multipart body
//     (body.go), the SDP offer and the recvonly answer (sdp.go; SDES
//     a=crypto lines for SRTP in crypto.go), and the
//     RFC 7865 recording metadata in its current and draft dialects
//     (metadata.go), with partial and complete updates (merge.go);
//   - Cisco UCM's recording calls, which are not SIPREC: two plain
//     INVITEs per recorded call, one per voice, told from a stray INVITE
//     and described by their From header's parameters (ucm.go, which
//     makes their metadata), and the decision which two belong together
//     (UCMPairs, ucm_pair.go);
//   - the session model (Session, MediaStream, Metadata) and the mapping
//     of errors to SIP statuses (StatusError), with every refusal and the
//     SIP reason phrases in one table (status.go);
//   - the recorder's own requests: Hangup sends a BYE with a Reason in a
//     live dialog (the disk is full, the RTP stopped), the session timer
//     and a missing ACK end their dialog with a BYE too, and Shutdown
//     drains: new INVITEs get
//     503 while every live session gets a BYE and is ended concurrently,
//     until all are ended and their BYEs answered or the deadline passes.
//
// It knows nothing of media, files or the index: the daemon implements
// Recorder, and the server calls it to admit, update and end sessions.
package siprec
