package vault

import (
	"time"

	"github.com/callvault/callvault/internal/vocab"
)

// Recording is one recording as indexed, as stored (JSON) in the file's head
// slot, and as the control API shows it. Start is UTC; Size is the size of
// the encrypted file on disk in bytes; File is relative to the data dir,
// with forward slashes. Seal and Describe clip the free-text fields to
// fixed bounds (FORMAT.md, "Clipping"): values from the wire never cost a
// recording.
type Recording struct {
	ID         string    `json:"id"`
	Start      time.Time `json:"start"`
	DurationMS int64     `json:"duration_ms"`
	User       string    `json:"user"`
	FullName   string    `json:"full_name"`
	Extension  string    `json:"extension"`
	Remote     string    `json:"remote"`
	Direction  string    `json:"direction"`
	Status     string    `json:"status"`
	File       string    `json:"file"`
	Codec      string    `json:"codec"`
	Size       int64     `json:"size"`
	// CallID is the SIP Call-ID of the recording session.
	CallID       string        `json:"call_id,omitempty"`
	Participants []Participant `json:"participants,omitempty"`
	// SHA256 is the hex SHA-256 of the sealed file as it lies on disk. The
	// index holds it; the copy in the file's own head slot is always empty
	// (a file cannot contain its own hash).
	SHA256 string `json:"sha256,omitempty"`
	// Legs says what each RTP leg received; diagnostics, the first thing
	// left out when the file's head is short of room.
	Legs []LegSummary `json:"legs,omitempty"`
	// Lost are the stretches of audio the disk could not take in time
	// (the writer stalled longer than its queue holds): silence in the
	// file, at AtMS from its start, DurMS long. Empty for a whole call.
	Lost []LostSpan `json:"lost,omitempty"`
	// EndReason says why the recording session ended: "bye" (the
	// gateway's BYE), "cancel", "ack_timeout", "session_expired",
	// "rtp-timeout", "disk_full", "shutdown" or "transport_error"; empty
	// for a recording recovered from a .part and in files written before
	// it existed.
	EndReason string `json:"end_reason,omitempty"`
	// Pauses are the stretches paused by the user (PCI pause and resume):
	// silence in the file, their audio never written.
	Pauses []Span `json:"pauses,omitempty"`
	// Windows are, for an On Demand call, the stretches of the call kept
	// (between each start and stop), in call time: the file holds them
	// joined, the gaps left out.
	Windows []Span `json:"windows,omitempty"`
	// KeepPending marks the drafts of a Live Keep call not kept yet: a
	// .part whose newest draft says so is destroyed by recovery, not
	// recovered (the call was not to be stored unless kept). Never set in
	// a sealed recording.
	KeepPending bool `json:"keep_pending,omitempty"`
	// Copies are the recording's copies off the box, one a target
	// (copies.go); none: it is only local.
	Copies []Copy `json:"copies,omitempty"`
	// Evicted is when the local file was removed, once copied ([storage]
	// keep_local); zero while it is on the local disk.
	Evicted time.Time `json:"evicted,omitzero"`
	// EvictedKEK is the hex id of the KEK the evicted file's key block
	// named when it left the disk (its copies keep that key block), so a
	// retired KEK no evicted recording needs can go.
	EvictedKEK string `json:"evicted_kek,omitempty"`
	// Hold is the legal hold on the recording, nil when none (lifecycle.go).
	Hold *Hold `json:"hold,omitempty"`
	// UCMHalf marks a recording of Cisco UCM that holds one voice only:
	// "near" (the recorded line's) or "far" (the other party's), when the
	// other of UCM's two recording calls never came. Empty for a UCM
	// recording of both voices and for SIPREC.
	UCMHalf string `json:"ucm_half,omitempty"`
}

// Span is a stretch of a recording: AtMS from its start, DurMS long.
type Span struct {
	AtMS  int64 `json:"at_ms"`
	DurMS int64 `json:"dur_ms"`
}

// LostSpan is a stretch of a recording whose audio was lost.
type LostSpan = Span

// LegSummary counts what one RTP leg of a recording received. Packets
// counts every datagram; the other counters are subsets of it: dropped as
// late, duplicate, from a foreign source or SSRC, failing SRTP
// authentication, or not audio (telephone-event, unknown payload types).
// Concealed counts audio frames lost on the network and concealed.
type LegSummary struct {
	Label         string `json:"label"`
	Codec         string `json:"codec,omitempty"`
	Packets       uint64 `json:"packets"`
	Late          uint64 `json:"late,omitempty"`
	Duplicates    uint64 `json:"duplicates,omitempty"`
	ForeignSource uint64 `json:"foreign_source,omitempty"`
	ForeignSSRC   uint64 `json:"foreign_ssrc,omitempty"`
	AuthFailed    uint64 `json:"auth_failed,omitempty"`
	Ignored       uint64 `json:"ignored,omitempty"`
	Concealed     uint64 `json:"concealed,omitempty"`
	// LostPackets counts the packets that never arrived, by sequence
	// number.
	LostPackets uint64 `json:"lost_packets,omitempty"`
}

// Participant is one party of the recorded call, from the SIPREC metadata.
type Participant struct {
	AOR  string `json:"aor"`
	Name string `json:"name,omitempty"`
	// Joined and Left are when the participant joined and left the call
	// (the client's associate and disassociate times, else when the
	// recorder learnt of it); zero Left: there to the end.
	Joined time.Time `json:"joined,omitzero"`
	Left   time.Time `json:"left,omitzero"`
}

// Recording statuses: vocab's, the one definition the control API shares.
const (
	StatusComplete  = vocab.StatusComplete
	StatusRecovered = vocab.StatusRecovered // at most the last segment is missing
	StatusFailed    = vocab.StatusFailed
)
