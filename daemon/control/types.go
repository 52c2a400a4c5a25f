package control

import (
	"encoding/json"
	"time"

	"github.com/callvault/callvault/internal/vocab"
)

// Status is the daemon's state at a glance.
type Status struct {
	Version       string    `json:"version"`
	Started       time.Time `json:"started"`
	UptimeSeconds int64     `json:"uptime_seconds"`
	// Listen is the SIP listening address (UDP and TCP); TLSListen the
	// SIP over TLS one, when there is one.
	Listen    string `json:"listen"`
	TLSListen string `json:"tls_listen,omitempty"`
	// PhoneListen is the Cisco IP Phone service's address, when it runs;
	// MetricsListen the Prometheus endpoint's.
	PhoneListen   string `json:"phone_listen,omitempty"`
	MetricsListen string `json:"metrics_listen,omitempty"`
	LiveCalls     int    `json:"live_calls"`
	CallsTotal    int64  `json:"calls_total"`
	Rejected      int64  `json:"rejected"`
	// CPS is the number of calls set up per second now: the average over
	// the last 5 whole seconds (CallsPerSecond.Last5s).
	CPS float64 `json:"cps"`
	// CallsPerSecond is the call rate over several windows, and its peak.
	CallsPerSecond CallRate `json:"calls_per_second"`
	// RejectedBy counts the calls refused since the start by reason
	// (licence, disk_full, unknown_user, source_rate, max_cps, ...).
	RejectedBy map[string]int64 `json:"rejected_by,omitempty"`
	Draining   bool             `json:"draining"`
	Disk       Disk             `json:"disk"`
	// Storage is the copies off the box; absent without a target.
	Storage *Storage `json:"storage,omitempty"`
	// Sealed counts the recordings sealed since the start, by status
	// (complete, recovered, failed).
	Sealed map[string]int64 `json:"sealed"`
	// SealLatency is how long the recent calls took from their hang-up
	// until their recording was indexed (searchable); absent before the
	// first.
	SealLatency *Latency `json:"seal_latency,omitempty"`
	// RTP counts the RTP packets of every call since the start.
	RTP RTPTotals `json:"rtp"`
	// License is the licence in force and its use.
	License License `json:"license"`
	// LiveKeepDestroyed counts the Live Keep calls destroyed since the
	// start because no keep came (before their end or within keep_grace).
	LiveKeepDestroyed int64 `json:"live_keep_destroyed"`
	// Recordings is the number of recordings in the index; 0 when the
	// backend does not count them.
	Recordings int64 `json:"recordings,omitempty"`
	// Alarms are the conditions active now (disk below its reserve, ...);
	// empty when all is well.
	Alarms []Alarm `json:"alarms"`
	// Process is what the daemon holds now: a flood shows here first.
	Process Process `json:"process"`
	// Config says how the last reload of the configuration file went.
	Config ConfigState `json:"config"`
}

// RTPTotals count the RTP of every call since the start: the packets
// received, those that came too late to be placed, the 10 ms frames of
// audio lost on the way (concealed or left silent), and the packets
// dropped (duplicates, from a foreign source or SSRC, failing SRTP
// authentication).
type RTPTotals struct {
	Packets uint64 `json:"packets"`
	Late    uint64 `json:"late"`
	Lost    uint64 `json:"lost"` // 10 ms frames concealed or silent
	Dropped uint64 `json:"dropped"`
	// LostPackets are the packets that never arrived, by sequence number;
	// Duplicates are a part of Dropped.
	LostPackets uint64 `json:"lost_packets"`
	Duplicates  uint64 `json:"duplicates"`
}

// License is the licence in force: its model ("user": named users;
// "channel": recordings at once), how many, to whom, until when (""
// none), and how many are in use. Evaluation is true for the built-in
// evaluation licence (8 channels), in force when none is installed or the
// installed one is refused (Error says why).
type License struct {
	Customer   string `json:"customer"`
	Model      string `json:"model"`
	Count      int    `json:"count"`
	Used       int    `json:"used"`
	Expires    string `json:"expires,omitempty"`
	Issued     string `json:"issued,omitempty"`
	Evaluation bool   `json:"evaluation"`
	Error      string `json:"error,omitempty"`
}

// CallRate is the rate of calls admitted per second, over whole seconds:
// the last one, the last 5, the last minute and the last 15 minutes (over
// the uptime while the daemon is younger than the window), and the
// busiest second since the start.
type CallRate struct {
	Last1s float64   `json:"last_1s"`
	Last5s float64   `json:"last_5s"`
	Avg1m  float64   `json:"avg_1m"`
	Avg15m float64   `json:"avg_15m"`
	Peak   float64   `json:"peak"`
	PeakAt time.Time `json:"peak_at,omitzero"`
}

// ConfigState is the configuration's reload history (SIGHUP).
type ConfigState struct {
	// Reloads counts the reloads attempted since the start.
	Reloads int `json:"reloads"`
	// ReloadedAt is when the last one was attempted.
	ReloadedAt time.Time `json:"reloaded_at,omitzero"`
	// Error is why the last one was refused (the running configuration
	// stayed); "" when it was applied.
	Error string `json:"error,omitempty"`
}

// Process is the daemon's use of the machine.
type Process struct {
	Goroutines int   `json:"goroutines"`
	OpenFiles  int   `json:"open_files"`
	RSSBytes   int64 `json:"rss_bytes"`
	// SIPConnections are the TCP and TLS connections open now.
	SIPConnections int `json:"sip_connections"`
	// SIPConnectionsRefused were closed at once since the start: over
	// [sip] max_connections or a source's source_connections.
	SIPConnectionsRefused int64 `json:"sip_connections_refused"`
	// TLSHandshakesFailed since the start: a client certificate refused,
	// no shared version or suite, a client that never said hello.
	TLSHandshakesFailed int64 `json:"tls_handshakes_failed"`
}

// Alarm names.
const (
	// AlarmDiskLow: free space is below [storage] min_free; new calls are
	// refused with 503.
	AlarmDiskLow = "disk_low"
	// AlarmDiskFull: free space is below the hard floor (half the reserve);
	// live calls have been sealed and hung up.
	AlarmDiskFull = "disk_full"
)

// Alarm is a condition an operator must see. The event stream carries an
// EventAlarm when one is raised (Active) and again when it clears.
type Alarm struct {
	Name    string    `json:"name"`
	Active  bool      `json:"active"`
	Since   time.Time `json:"since"`
	Message string    `json:"message"`
}

// Disk describes the file system holding the recordings.
type Disk struct {
	Path       string `json:"path"`
	TotalBytes uint64 `json:"total_bytes"`
	FreeBytes  uint64 `json:"free_bytes"`
	// ReserveBytes is the free space the daemon keeps ([storage] min_free);
	// below it new calls are refused.
	ReserveBytes uint64 `json:"reserve_bytes"`
	// Usage is what the recordings take and how fast that grows; absent
	// until the daemon has counted the recordings once after its start.
	Usage *DiskUsage `json:"usage,omitempty"`
}

// Storage is the copies of recordings off the box ([[storage.target]]):
// the backlog and each target.
type Storage struct {
	// Node names this recorder in the targets' object keys.
	Node string `json:"node"`
	// KeepLocalSeconds is how long a copied recording's local file stays;
	// -1: for ever.
	KeepLocalSeconds int64 `json:"keep_local_seconds"`
	// Backlog is the recordings waiting for a copy, BacklogBytes their
	// size, OldestPending the start of the oldest (absent with none).
	Backlog       int             `json:"backlog"`
	BacklogBytes  int64           `json:"backlog_bytes"`
	OldestPending time.Time       `json:"oldest_pending,omitzero"`
	Targets       []StorageTarget `json:"targets"`
}

// StorageTarget is one target's state since the daemon started.
type StorageTarget struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// State is "up", or "down" after a failure until RetryAt.
	State   string    `json:"state"`
	RetryAt time.Time `json:"retry_at,omitzero"`
	// Error is the last failure, until a copy succeeds.
	Error          string    `json:"error,omitempty"`
	Copied         int64     `json:"copied"`
	CopiedBytes    int64     `json:"copied_bytes"`
	BytesPerSecond float64   `json:"bytes_per_second"` // over the last minute
	LastCopy       time.Time `json:"last_copy,omitzero"`
}

// Copy is a recording's copy on one target.
type Copy struct {
	Target string `json:"target"`
	// State is "copying", "copied" (SHA256 verified on the target) or
	// "failed" (Error, and NextTry for the next attempt).
	State    string    `json:"state"`
	Key      string    `json:"key,omitempty"`
	SHA256   string    `json:"sha256,omitempty"`
	At       time.Time `json:"at,omitzero"`
	Attempts int       `json:"attempts,omitempty"`
	Error    string    `json:"error,omitempty"`
	NextTry  time.Time `json:"next_try,omitzero"`
}

// DiskUsage is the sealed recordings' use of the disk.
type DiskUsage struct {
	RecordingsFiles int64 `json:"recordings_files"`
	RecordingsBytes int64 `json:"recordings_bytes"`
	TodayBytes      int64 `json:"today_bytes"`
	// GrowthBytesPerDay is the mean of the last GrowthDays full days (at
	// most 7, none before the first recording); with no full day yet,
	// today's bytes so far.
	GrowthBytesPerDay int64 `json:"growth_bytes_per_day"`
	GrowthDays        int   `json:"growth_days"`
	// DaysUntilFull is how long the free space above the reserve lasts at
	// that growth; absent when nothing grows.
	DaysUntilFull *float64 `json:"days_until_full,omitempty"`
}

// Call is a live recording session.
type Call struct {
	// ID is the SIP Call-ID of the recording session (not of the recorded
	// call).
	ID           string        `json:"id"`
	RecordID     string        `json:"record_id"`
	Start        time.Time     `json:"start"`
	Source       string        `json:"source"`
	Transport    string        `json:"transport"`
	User         string        `json:"user"`
	FullName     string        `json:"full_name"`
	Extension    string        `json:"extension"`
	Remote       string        `json:"remote"`
	Direction    string        `json:"direction"`
	Participants []Participant `json:"participants"`
	Legs         []Leg         `json:"legs"`
	// Mode is the owner's recording mode (always, on-demand, live-keep)
	// and State where the call stands in it (recording, waiting for
	// start, paused, waiting for keep, kept).
	Mode  string `json:"mode,omitempty"`
	State string `json:"state,omitempty"`
}

// Participant is a party of a recorded call, from the SIPREC metadata.
type Participant struct {
	AOR  string `json:"aor"`
	Name string `json:"name"`
	// Joined and Left: when the participant joined and left the call;
	// absent when unknown (Left: still there, or there to the end).
	Joined time.Time `json:"joined,omitzero"`
	Left   time.Time `json:"left,omitzero"`
}

// Leg is one forked media stream of a live call.
type Leg struct {
	Label   string `json:"label"`
	Port    int    `json:"port"`
	Codec   string `json:"codec"`
	SRTP    bool   `json:"srtp,omitempty"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	LegCounters
}

// LegCounters count what a leg dropped or repaired; each is a subset of
// its packets, except Concealed (audio frames lost on the network and
// concealed). Foreign packets came from another address or port than the
// stream's source, or carried a second SSRC.
type LegCounters struct {
	Late          uint64 `json:"late,omitempty"`
	Duplicates    uint64 `json:"duplicates,omitempty"`
	ForeignSource uint64 `json:"foreign_source,omitempty"`
	ForeignSSRC   uint64 `json:"foreign_ssrc,omitempty"`
	AuthFailed    uint64 `json:"auth_failed,omitempty"`
	Ignored       uint64 `json:"ignored,omitempty"`
	Concealed     uint64 `json:"concealed,omitempty"`
	LostPackets   uint64 `json:"lost_packets,omitempty"`
}

// RecordedLeg is what one leg of a stored recording received.
type RecordedLeg struct {
	Label   string `json:"label"`
	Codec   string `json:"codec,omitempty"`
	Packets uint64 `json:"packets"`
	LegCounters
}

// Recording directions (internal/vocab holds the one definition).
const (
	DirectionIn  = vocab.DirectionIn
	DirectionOut = vocab.DirectionOut
)

// Recording statuses.
const (
	RecordingComplete  = vocab.StatusComplete
	RecordingRecovered = vocab.StatusRecovered // salvaged after a crash
	RecordingFailed    = vocab.StatusFailed
)

// Recording is a stored recording. Its JSON form is the contract in
// ARCHITECTURE.md: the twelve contract fields are always present, start is
// RFC 3339 in UTC; call_id and participants are extras, left out when empty.
type Recording struct {
	ID           string        `json:"id"`
	Start        time.Time     `json:"start"`
	DurationMS   int64         `json:"duration_ms"`
	User         string        `json:"user"`
	FullName     string        `json:"full_name"`
	Extension    string        `json:"extension"`
	Remote       string        `json:"remote"`
	Direction    string        `json:"direction"`
	Status       string        `json:"status"`
	File         string        `json:"file"`
	Codec        string        `json:"codec"`
	Size         int64         `json:"size"`
	CallID       string        `json:"call_id,omitempty"`
	Participants []Participant `json:"participants,omitempty"`
	// SHA256 is the hex SHA-256 of the encrypted file on disk, stored when
	// it was sealed; verify compares the file against it.
	SHA256 string `json:"sha256,omitempty"`
	// Legs says what each RTP leg received (omitted by older versions).
	Legs []RecordedLeg `json:"legs,omitempty"`
	// Lost are the stretches whose audio the disk could not take in time
	// (silence in the file): where they start and how long they last.
	Lost []LostSpan `json:"lost,omitempty"`
	// EndReason says why the recording session ended (bye, cancel,
	// ack_timeout, session_expired, rtp-timeout, disk_full, shutdown,
	// transport_error); empty when unknown.
	EndReason string `json:"end_reason,omitempty"`
	// Pauses are the stretches paused by the user (silence in the file);
	// Windows, for an On Demand call, the stretches kept (call time).
	Pauses  []Span `json:"pauses,omitempty"`
	Windows []Span `json:"windows,omitempty"`
	// Copies are the recording's copies off the box, one a target;
	// Evicted is when its local file was removed once copied (export and
	// verify then read a copy).
	Copies  []Copy    `json:"copies,omitempty"`
	Evicted time.Time `json:"evicted,omitzero"`
	// Hold is the recording's legal hold; absent when none.
	Hold *Hold `json:"hold,omitempty"`
	// UCMHalf is "near" or "far" when the recording, from Cisco UCM, holds
	// that voice only: the other recording call never came.
	UCMHalf string `json:"ucm_half,omitempty"`
}

// Span is a stretch of a recording: AtMS from its start, DurMS long.
type Span struct {
	AtMS  int64 `json:"at_ms"`
	DurMS int64 `json:"dur_ms"`
}

// LostSpan is a stretch of a recording whose audio was lost.
type LostSpan = Span

// Verification results, one per recording (Check.Status).
const (
	CheckIntact    = "intact"    // every segment authenticates, hash matches
	CheckTampered  = "tampered"  // a segment, the head or the hash does not match
	CheckTruncated = "truncated" // the file ends before its final segment
	CheckMissing   = "missing"   // indexed, but the file is gone
	CheckUnindexed = "unindexed" // a sealed file the index does not know
	// CheckUnreadable: the file could not be read (permissions, I/O
	// error); nothing is known of its content.
	CheckUnreadable = "unreadable"
)

// Check is the verification result of one recording file.
type Check struct {
	ID     string `json:"id"`
	File   string `json:"file"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// MarshalJSON writes the recording with its start time in UTC, as the
// contract requires.
func (r Recording) MarshalJSON() ([]byte, error) {
	type plain Recording
	p := plain(r)
	p.Start = p.Start.UTC()
	return json.Marshal(p)
}

// Recording modes of a user.
const (
	ModeAlways   = vocab.ModeAlways   // every call is recorded
	ModeOnDemand = vocab.ModeOnDemand // audio kept between the user's start and stop
	ModeLiveKeep = vocab.ModeLiveKeep // the whole call is kept if the user presses Keep
)

// Call filters of a user (User.Direction, User.External).
const (
	FilterBoth = vocab.FilterBoth
	FilterIn   = vocab.FilterIn
	FilterOut  = vocab.FilterOut
	FilterAny  = vocab.FilterAny
	FilterOnly = vocab.FilterOnly
)

// RecordRequest asks for a record action on a live call: Target is the
// owner's extension or the call's record id, Action one of start, stop,
// keep, pause, resume.
type RecordRequest struct {
	Target string `json:"target"`
	Action string `json:"action"`
}

// RecordResult is what a record action did: the call's recording state
// after it (recording, waiting for start, paused, waiting for keep, kept)
// and the call as it stands.
type RecordResult struct {
	Action string `json:"action"`
	State  string `json:"state"`
	Call   Call   `json:"call"`
}

// Record actions and states (RecordRequest.Action, RecordResult.State).
const (
	ActionStart  = vocab.ActionStart
	ActionStop   = vocab.ActionStop
	ActionKeep   = vocab.ActionKeep
	ActionPause  = vocab.ActionPause
	ActionResume = vocab.ActionResume

	StateRecording = vocab.StateRecording
	StateWaiting   = vocab.StateWaiting
	StatePaused    = vocab.StatePaused
	StateUnkept    = vocab.StateUnkept
	StateKept      = vocab.StateKept
)

// User is a recorded user.
type User struct {
	Username   string   `json:"username"`
	FullName   string   `json:"full_name"`
	Extensions []string `json:"extensions"`
	// Mode is ModeAlways, ModeOnDemand or ModeLiveKeep. The handler turns
	// an empty mode into ModeAlways before calling Backend.AddUser.
	Mode string `json:"mode"`
	// Direction ("in", "out", "both") and External ("only", "any") choose
	// which of the user's calls are recorded; "" keeps [policy]'s.
	Direction string `json:"direction,omitempty"`
	External  string `json:"external,omitempty"`
	// RetentionMonths keeps the user's recordings that many months
	// before the purge removes them; 0 keeps [retention] months.
	RetentionMonths int `json:"retention_months,omitempty"`
}

// Event types.
const (
	EventCallStarted     = "call.started"
	EventCallUpdated     = "call.updated"
	EventCallEnded       = "call.ended"
	EventRecordingSealed = "recording.sealed"
	EventRecordingFailed = "recording.failed"
	// EventRecordingDestroyed: a Live Keep call ended without a keep and
	// was destroyed (Call says which).
	EventRecordingDestroyed = "recording.destroyed"
	EventUserAdded          = "user.added"
	EventUserRemoved        = "user.removed"
	EventUserUpdated        = "user.updated"
	EventAlarm              = "alarm"
	// EventStats comes once a second: live calls, the call rate, the
	// licence's use, the disk, and each live call's legs.
	EventStats = "stats"
	// EventSnapshot opens every stream (Seq 1) and follows every
	// EventResync: Snapshot holds the whole state a view shows.
	EventSnapshot = "snapshot"
	// EventResync says the daemon dropped events for this stream because
	// its reader fell behind; a snapshot follows at once.
	EventResync = "resync"
)

// Event is one change pushed on the event stream. Which of Call, Recording,
// User, Alarm, Stats and Snapshot is set depends on Type; Error explains a
// failure.
//
// A stream (GET /v1/events) begins with an EventSnapshot, taken after the
// subscription was registered, so no change falls between the two; events
// that happened just before the snapshot may still follow it, and a reader
// applies each event as a state to set (a call as it stands, an alarm on
// or off), never as an increment. Seq numbers the events of one stream
// from 1 without gaps: a gap means the reader missed some. When the daemon
// drops events for a slow reader it sends an EventResync and a fresh
// EventSnapshot in their place, never a silent hole.
type Event struct {
	// Seq is the event's number in its stream; 0 for an event not yet
	// written to a stream (as the daemon's Backend hands them out).
	Seq       uint64     `json:"seq"`
	Type      string     `json:"type"`
	Time      time.Time  `json:"time"`
	Snapshot  *Snapshot  `json:"snapshot,omitempty"`
	Call      *Call      `json:"call,omitempty"`
	Recording *Recording `json:"recording,omitempty"`
	User      *User      `json:"user,omitempty"`
	Alarm     *Alarm     `json:"alarm,omitempty"`
	Stats     *Stats     `json:"stats,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// Stats is the figure of an EventStats event.
type Stats struct {
	LiveCalls      int      `json:"live_calls"`
	CallsPerSecond CallRate `json:"calls_per_second"`
	// License is the licence in force and its use now.
	License License `json:"license"`
	// Disk is the data dir's space now (as in Status; no path).
	Disk *Disk `json:"disk,omitempty"`
	// Calls are the live calls' legs with their counters now, one entry a
	// call: a view updates its calls' packets and losses from them.
	Calls []CallLegs `json:"calls,omitempty"`
}

// CallLegs are a live call's legs as they stand, in a stats event.
type CallLegs struct {
	ID   string `json:"id"`
	Legs []Leg  `json:"legs"`
}

// Snapshot is the state a stream's reader starts from: the daemon's status
// and its live calls, read together.
type Snapshot struct {
	Status Status `json:"status"`
	Calls  []Call `json:"calls"`
}

// Latency sums up recent durations: how many (at most the last 8,192),
// their median, 99th percentile and maximum, in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
}
