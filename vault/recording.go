package vault

import "time"

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
}

// Participant is one party of the recorded call, from the SIPREC metadata.
type Participant struct {
	AOR  string `json:"aor"`
	Name string `json:"name,omitempty"`
}

// Recording statuses (ARCHITECTURE.md).
const (
	// StatusComplete: sealed normally.
	StatusComplete = "complete"
	// StatusRecovered: salvaged from a .part after a crash, or sealed in
	// place after a failed write; at most the last segment is missing.
	StatusRecovered = "recovered"
	// StatusFailed: no audio (the session ended before any arrived).
	StatusFailed = "failed"
)
