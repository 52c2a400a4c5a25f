package recorder

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/license"
	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/siprec"
	"github.com/callvault/callvault/vault"
)

// Recorder connects the SIP side to media and the vault: it is the
// siprec.Recorder of the daemon. Each admitted session becomes a call whose
// audio is encoded and encrypted to a .part file as it arrives, and sealed
// and indexed when the session ends.
type Recorder struct {
	log           *slog.Logger
	pool          *media.PortPool
	store         *vault.Store
	users         *Directory
	media         media.Config
	recordUnknown bool
	latch         bool // [rtp] latch: take RTP from the first source, not the SDP's
	// rtpTimeout and holdTimeout end calls whose legs stay silent
	// ([rtp] timeout, hold_timeout); 0 never.
	rtpTimeout, holdTimeout time.Duration
	loc                     *time.Location
	events                  *Hub
	stats                   *callStats
	now                     func() time.Time
	// disk refuses new calls when the data dir is short of space; nil in
	// tests that do not need it.
	disk *DiskGuard
	// ports bounds the RTP ports one gateway holds ([sip] source_ports);
	// nil: no bound (a nil portBudget takes and gives freely).
	ports *portBudget
	// filters choose the calls recorded ([policy] and each user's own).
	filters Filters
	// hangup ends a live session from our side (BYE to the gateway); set
	// once the SIP server exists.
	hangup func(callID string, code int, text, reason string) bool

	// keepGrace is how long an ended Live Keep call waits for its keep
	// ([policy] keep_grace); unkept counts those destroyed.
	keepGrace time.Duration
	licence   *licensing
	retention *retention
	unkept    atomic.Int64
	totals    totals // sealed recordings and RTP of the calls that ended

	mu       sync.Mutex
	reserved int                // licence channels reserved by calls being admitted
	calls    map[string]*call   // by SIP Call-ID (a UCM call: its first half's)
	parked   map[string]*parked // ended Live Keep calls waiting for keep, by record id
	ucm      ucmPairing         // UCM halves being paired, and those that joined a call
}

// Options are what a Recorder is made of: the daemon's parts and the
// configuration that rules its calls.
type Options struct {
	Log   *slog.Logger
	Pool  *media.PortPool // the RTP ports ([rtp] ports)
	Store *vault.Store
	Users *Directory
	Media media.Config
	// RecordUnknown keeps calls where no participant is a user
	// (record_unknown).
	RecordUnknown bool
	// Latch takes RTP from the first source, not the SDP's ([rtp] latch).
	Latch bool
	// RTPTimeout and HoldTimeout end calls whose legs stay silent
	// ([rtp] timeout, hold_timeout); 0 never.
	RTPTimeout, HoldTimeout time.Duration
	Location                *time.Location // the server's time zone, for ID3 tags
	// SourcePorts bounds the RTP ports one gateway holds ([sip]
	// source_ports); 0: no bound.
	SourcePorts int
	// KeepGrace is how long a Live Keep call that ended waits for its
	// keep before it is destroyed ([policy] keep_grace).
	KeepGrace time.Duration
	// DataDir holds the installed licence (license.json); LicenseKeys
	// are the public keys a licence must be signed with ([license]
	// public_keys). Without a valid licence the evaluation licence is in
	// force.
	DataDir     string
	LicenseKeys []ed25519.PublicKey
	// RetentionMonths is how long recordings are kept ([retention]
	// months; 0: for ever); a user's own retention wins over it.
	RetentionMonths int
	// RemoveCopies removes a recording's copies off the box before a
	// purge removes the recording; nil: there are none.
	RemoveCopies func(context.Context, vault.Recording) error
	// Filters choose the calls recorded: by direction, by external remote
	// number ([policy]; a user's own settings come first).
	Filters Filters
	// Disk refuses new calls when the data dir is short of space, and has
	// the Recorder hang up every call at its floor; nil: no guard.
	Disk *DiskGuard
	// Events carries the live calls' changes to the control API; nil: a
	// hub of the Recorder's own.
	Events *Hub
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// New makes a Recorder. It takes calls once a SIP server drives it; give
// that server's Hangup to SetHangup so that the Recorder can end calls
// itself (rtp-timeout, disk_full).
func New(o Options) *Recorder {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	r := &Recorder{
		log: o.Log, pool: o.Pool, store: o.Store, users: o.Users, media: o.Media,
		recordUnknown: o.RecordUnknown, latch: o.Latch, rtpTimeout: o.RTPTimeout, holdTimeout: o.HoldTimeout,
		loc: o.Location, events: cmp.Or(o.Events, NewHub()), stats: &callStats{started: now()}, now: now,
		disk: o.Disk, filters: o.Filters, keepGrace: o.KeepGrace,
		calls: make(map[string]*call), parked: make(map[string]*parked), ucm: newUCMPairing(),
	}
	if o.SourcePorts > 0 {
		r.ports = newPortBudget(o.SourcePorts)
	}
	if o.Disk != nil {
		o.Disk.hangup = r.hangupAll
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r.licence = newLicensing(o.DataDir, o.LicenseKeys, log.With("part", "licence"), newAlarmBoard(log, r.events, now), now())
	r.retention = newRetention(o, newAlarmBoard(log.With("part", "retention"), r.events, now), now())
	return r
}

// SetHangup gives the Recorder the SIP server's way to end a live session
// from our side: a BYE with a Reason header, then End.
func (r *Recorder) SetHangup(fn func(callID string, code int, text, reason string) bool) {
	r.hangup = fn
}

// LiveCalls is the number of calls being recorded now.
func (r *Recorder) LiveCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// call is one live recording.
type call struct {
	log   *slog.Logger
	start time.Time
	rec   *media.Recording
	w     *vault.Writer
	// describeMu serialises the drafts written to w: a UCM call's two
	// halves are two dialogs whose requests come at once.
	describeMu sync.Mutex

	// source is the gateway's address; ports the RTP ports it holds for
	// this call in the recorder's portBudget (c.mu).
	source netip.Addr
	ports  int

	mu      sync.Mutex
	session siprec.Session
	mode    modeState // the owner's recording mode, and where the call stands in it
	modeSet bool      // mode is the owner's (false: no owner known yet, Always On)
	roster  roster    // every participant the call has had
	legs    []leg     // set by Admit; codecs change in Update
	used    []string  // every codec answered during the call, in order

	ucm *ucmCall // the halves of a call from Cisco UCM; nil for SIPREC
}

type leg struct {
	label  string
	port   int
	codec  string
	pt     uint8
	source netip.AddrPort    // where the SDP says its RTP comes from
	srtp   *media.SRTPParams // the gateway's keys, nil for plain RTP
	crypto *siprec.Crypto    // our answer's a=crypto line, nil for plain RTP
	held   bool              // the gateway's latest offer puts it on hold
	since  time.Time         // when it was offered or last changed direction
}

var _ siprec.Recorder = (*Recorder)(nil)

// errDiscarded: the call is not to be kept (policy, not a failure).
var errDiscarded = errors.New("recording discarded")

// errNeverEstablished: the session ended before it was established (no
// ACK for our 2xx, or CANCELled) and no audio came: there is no call to
// keep, only a scanner's or a lost gateway's INVITE.
var errNeverEstablished = errors.New("session never established")

// Admit answers a new recording session: it picks a codec for each audio
// stream, opens one RTP socket per stream and starts the encrypted file.
// The second half of a Cisco UCM recording joins its partner's call
// instead (ucm.go), and is not counted as a call of its own.
func (r *Recorder) Admit(ctx context.Context, s *siprec.Session) ([]siprec.MediaAnswer, error) {
	var (
		answers []siprec.MediaAnswer
		joined  bool
		err     error
	)
	if s.UCM != nil {
		answers, joined, err = r.admitUCM(ctx, s)
	} else {
		answers, err = r.admit(s)
	}
	if err != nil {
		r.stats.rejected(refusalReason(err))
		return nil, err
	}
	if !joined {
		r.stats.admitted(r.now())
	}
	return answers, nil
}

func (r *Recorder) admit(s *siprec.Session) ([]siprec.MediaAnswer, error) {
	if r.lookup(s.CallID) != nil {
		return nil, refuseExists.Err()
	}
	if r.disk != nil {
		if err := r.disk.admit(); err != nil {
			return nil, err
		}
	}
	named := s.Metadata != nil
	p := classify(s.Metadata, r.users.byExtension)
	if named {
		if !p.known() && !r.recordUnknown {
			return nil, refuseUnknown.Err()
		}
		if ok, why := r.filters.admits(p, r.owner(p)); !ok {
			return nil, refuseFiltered.Err(why)
		}
	}
	mode := newModeState(r.owner(p).Mode)
	modeSet := p.known()
	release, err := r.admitLicensed(p, mode.open, named)
	if err != nil {
		return nil, err
	}
	defer release() // live from here, or refused: the reservation is done
	answers, legs, err := chooseMedia(s.Media)
	if err != nil {
		return nil, err
	}
	legs = capStreams(answers, legs)
	src := s.Source.Addr()
	if !r.ports.take(src, len(legs)) {
		return nil, refuseSourcePorts.Err(src, r.ports.limit)
	}
	admitted := false
	defer func() {
		if !admitted {
			r.ports.give(src, len(legs))
		}
	}()
	log := r.log.With("call_id", s.CallID)
	start := r.now()
	w, err := r.store.Create(start)
	if err != nil {
		log.Error("create recording", "err", err)
		return nil, refuseStorage.Err()
	}
	log = log.With("record_id", w.ID())
	mcfg := r.media
	mcfg.Gated = !mode.open
	rec, err := media.NewRecording(mcfg, w, log)
	if err != nil {
		w.Abort()
		log.Error("start media", "err", err)
		return nil, refuseMedia.Err()
	}
	c := &call{log: log, start: start, rec: rec, w: w, session: *s, source: src, ports: len(legs), mode: mode, modeSet: modeSet,
		ucm: newUCMCall(s)}
	c.roster.note(s.Metadata, start)
	if err := r.openLegs(c, legs, answers); err != nil {
		rec.Stop()
		w.Abort()
		log.Error("open rtp ports", "err", err)
		return nil, refuseNoPort.Err()
	}
	c.applyOwner(r.users.byExtension)
	r.describe(c)

	r.mu.Lock()
	if old, ok := r.calls[s.CallID]; ok {
		r.mu.Unlock()
		rec.Stop()
		w.Abort()
		old.log.Warn("duplicate initial INVITE for a live call")
		return nil, refuseExists.Err()
	}
	r.calls[s.CallID] = c
	r.mu.Unlock()
	admitted = true

	log.Info("recording started", "source", s.Source.String(), "transport", s.Transport, "legs", len(c.legs))
	r.events.publish(eventCall(control.EventCallStarted, r.now(), c.view(r.users.byExtension)))
	return answers, nil
}

func (r *Recorder) openLegs(c *call, legs []leg, answers []siprec.MediaAnswer) error {
	li := 0
	for i := range answers {
		if answers[i].Port != -1 {
			continue
		}
		l := legs[li]
		li++
		port, err := r.openLeg(c, l, c.session.Media[i], c.start)
		if err != nil {
			return err
		}
		answers[i].Port = port
	}
	return nil
}

// openLeg opens an RTP port for l, offered as m, adds it to the call's
// recording and to c.legs (c.mu held, or the call not shared yet), and
// returns the port.
func (r *Recorder) openLeg(c *call, l leg, m siprec.MediaStream, since time.Time) (int, error) {
	conn, port, err := r.pool.Listen()
	if err != nil {
		return 0, err
	}
	opts := media.LegOptions{Codecs: codecMap(m), Source: l.source, Latch: r.latch, SRTP: l.srtp}
	if err := c.rec.AddLegWith(l.label, conn, opts); err != nil {
		r.pool.Release(port) // closes conn
		return 0, err
	}
	l.port, l.since, l.held = port, since, heldDirection(m.Direction)
	c.legs = append(c.legs, l)
	if !m.OurOffer { // for our own offer, the client's answer says which codec
		c.noteCodec(l.codec)
	}
	return port, nil
}

// addLeg records a stream first offered in a re-INVITE or UPDATE (a
// conference adds a party, a call gains a leg): it answers as chooseMedia
// would, or leaves the stream rejected (port 0) when it is not usable
// audio. c.mu is held.
func (r *Recorder) addLeg(c *call, m siprec.MediaStream) siprec.MediaAnswer {
	answers, legs, err := chooseMedia([]siprec.MediaStream{m})
	if err != nil || len(legs) == 0 {
		return siprec.MediaAnswer{}
	}
	if len(c.legs) >= maxStreams {
		c.log.Warn("stream offered in a re-INVITE not recorded: the call has the most streams recorded", "leg", legs[0].label, "max", maxStreams)
		return siprec.MediaAnswer{}
	}
	if !r.ports.take(c.source, 1) {
		c.log.Warn("stream offered in a re-INVITE not recorded: the gateway holds its RTP ports", "leg", legs[0].label, "source_ports", r.ports.limit)
		return siprec.MediaAnswer{}
	}
	c.ports++
	port, err := r.openLeg(c, legs[0], m, r.now())
	if err != nil {
		c.ports--
		r.ports.give(c.source, 1)
		c.log.Warn("stream offered in a re-INVITE not recorded", "leg", legs[0].label, "err", err)
		return siprec.MediaAnswer{}
	}
	a := answers[0]
	a.Port = port
	c.log.Info("leg added", "leg", legs[0].label, "codec", legs[0].codec, "port", port)
	return a
}

// applyOwner puts the owner's stream on the left channel once the
// participants are known.
func (c *call) applyOwner(lookup func(string) (user, bool)) {
	c.mu.Lock()
	md := c.session.Metadata
	c.mu.Unlock()
	if md == nil {
		return
	}
	if p := classify(md, lookup); p.OwnerLabel != "" {
		c.rec.SetLeft(p.OwnerLabel)
	}
}

// learnMode takes the owner's mode when the metadata that names the owner
// comes after the INVITE: an On Demand call closes from now (the audio
// before it is kept: it was not known to be on demand).
func (r *Recorder) learnMode(c *call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.modeSet {
		return
	}
	p := classify(c.session.Metadata, r.users.byExtension)
	if !p.known() {
		return
	}
	m := newModeState(r.owner(p).Mode)
	c.mode, c.modeSet = m, true
	if !m.open {
		c.rec.Close(r.now())
	}
}

// Update takes new metadata (participants arriving late, transfers) and
// answers a new offer with the ports already open for the same labels.
func (r *Recorder) Update(ctx context.Context, s *siprec.Session) ([]siprec.MediaAnswer, error) {
	c := r.lookup(s.CallID)
	if c == nil {
		return nil, refuseNoSession.Err()
	}
	c.mu.Lock()
	c.takeSession(s)
	c.roster.note(s.Metadata, r.now())
	c.mu.Unlock()
	c.applyOwner(r.users.byExtension)
	r.learnMode(c)

	answers := make([]siprec.MediaAnswer, len(s.Media))
	c.mu.Lock() // legs change: the control API reads them
	for i, m := range s.Media {
		li := slices.IndexFunc(c.legs, func(l leg) bool { return l.label == legLabel(m) })
		if li < 0 {
			answers[i] = r.addLeg(c, m)
			continue
		}
		l := &c.legs[li]
		answers[i].Port, answers[i].PT = l.port, l.pt
		if held := heldDirection(m.Direction); held != l.held {
			l.held, l.since = held, r.now()
			c.log.Info("leg direction changed", "leg", l.label, "direction", m.Direction)
		}
		if src := streamSource(m); src.IsValid() && src != l.source {
			l.source = src
			if err := c.rec.SetSource(l.label, src); err != nil {
				c.log.Warn("update rtp source", "leg", l.label, "err", err)
			}
		}
		if l.crypto != nil {
			var rekeyed bool
			if answers[i].Crypto, rekeyed = l.recrypt(m); rekeyed {
				c.log.Warn("the gateway changed its SRTP key in a re-INVITE: the leg keeps the first key, later packets fail authentication", "leg", l.label)
			}
		}
		f, ok := pickFormat(m.Formats)
		if !ok {
			continue // e.g. a hold offer that lists no usable codec: keep the leg as it is
		}
		// A codec change (CUBE: PCMA to G729 in a re-INVITE) needs new decoders.
		if err := c.rec.SetCodecs(l.label, codecMap(m)); err != nil {
			c.log.Warn("update codecs", "leg", l.label, "err", err)
			continue
		}
		l.pt, l.codec = f.PT, strings.ToUpper(f.Name)
		answers[i].PT = f.PT
		c.noteCodec(l.codec)
	}
	c.mu.Unlock()
	r.describe(c)
	c.log.Info("recording session updated", "participants", participantCount(s.Metadata))
	r.events.publish(eventCall(control.EventCallUpdated, r.now(), c.view(r.users.byExtension)))
	return answers, nil
}

func participantCount(md *siprec.Metadata) int {
	if md == nil {
		return 0
	}
	return len(md.Participants)
}

// lookup is the live call of a session: its own, or for the second half
// of a UCM recording the call it joined.
func (r *Recorder) lookup(callID string) *call {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.calls[callID]; c != nil {
		return c
	}
	return r.ucm.joined[callID]
}

// End stops the media, tags the MP3 and seals the file into the vault.
// A UCM call ends with its last half: the end of the other only notes it.
func (r *Recorder) End(s *siprec.Session, reason string) {
	c, last, why := r.release(s, reason)
	if c == nil {
		return
	}
	if c.ucm == nil {
		// A UCM half's BYE brings nothing new, and may know less than the
		// other half's last UPDATE: the call keeps what it was told.
		c.mu.Lock()
		c.takeSession(s)
		c.roster.note(s.Metadata, r.now())
		c.mu.Unlock()
	}
	if !last {
		c.log.Info("ucm half ended: the call goes on with the other", "half_call_id", s.CallID, "reason", reason)
		return
	}
	r.endCall(c, why)
}

// release takes the session s out of the live calls. It returns its call,
// whether the call ends with it (always, but for a UCM half whose partner
// is live) and why the call ends.
func (r *Recorder) release(s *siprec.Session, reason string) (c *call, last bool, why string) {
	r.mu.Lock()
	c = r.calls[s.CallID]
	if c == nil {
		c = r.ucm.joined[s.CallID]
	}
	if c == nil || c.ucm == nil {
		delete(r.calls, s.CallID)
		r.mu.Unlock()
		return c, c != nil, reason
	}
	r.mu.Unlock()
	last, why = r.dropHalf(c, s.CallID, reason)
	return c, last, why
}

// endCall stops the call's media and seals it, or parks it for its keep.
func (r *Recorder) endCall(c *call, reason string) {
	c.mu.Lock()
	ports := c.ports
	c.ports = 0
	pending := c.mode.keepPending()
	c.mu.Unlock()
	r.ports.give(c.source, ports)
	r.events.publish(eventCall(control.EventCallEnded, r.now(), c.view(r.users.byExtension)))
	// Stop closes the legs' sockets and frees their ports.
	hungUp := time.Now()
	res, stopErr := c.rec.Stop()
	r.totals.ended(res.Legs)
	if pending {
		// Live Keep without a keep yet: sealed only if one comes in time.
		if res.Samples > 0 && r.keepGrace > 0 {
			r.park(c, reason, res, stopErr)
		} else {
			r.destroy(c, "the call ended without a keep")
		}
		return
	}
	if r.conclude(c, reason, res, stopErr) {
		r.totals.sealedAfter(time.Since(hungUp))
	}
}

// conclude seals an ended call (or discards it) and says so; it reports
// whether the recording was sealed and indexed.
func (r *Recorder) conclude(c *call, reason string, res media.Result, stopErr error) bool {
	rec, err := r.finish(c, reason, res, stopErr)
	if errors.Is(err, errDiscarded) {
		c.log.Info("recording discarded", "why", err.Error(), "reason", reason)
		return false
	}
	if errors.Is(err, errNeverEstablished) {
		c.log.Info("no recording: the session was never established and no audio came", "reason", reason)
		return false
	}
	if err != nil {
		if errors.Is(err, vault.ErrNotSealed) {
			c.log.Error("recording not sealed: kept as .part, recovered when space returns or at the next start", "reason", reason, "err", err)
		} else {
			c.log.Error("seal recording", "reason", reason, "err", err)
		}
		r.events.publish(eventFailed(r.now(), c.view(r.users.byExtension), err))
		return false
	}
	r.totals.sealedAs(rec.Status)
	r.audit(context.Background(), vault.AuditRecordingCreated, rec.ID, sealedDetail(rec))
	c.log.Info("recording sealed", "reason", reason, "file", rec.File, "duration_ms", rec.DurationMS, "status", rec.Status)
	r.events.publish(eventRecording(r.now(), rec))
	return true
}

// finish seals the call's file from its stopped media (res; stopErr means
// the audio could not all be written, a full disk: what was written is
// kept and sealed as recovered), or discards it.
func (r *Recorder) finish(c *call, reason string, res media.Result, stopErr error) (vault.Recording, error) {
	if res.Samples == 0 && stopErr == nil && (reason == "ack_timeout" || reason == "cancel") {
		c.w.Abort()
		return vault.Recording{}, errNeverEstablished
	}
	c.mu.Lock()
	mode := c.mode
	c.mu.Unlock()
	if !mode.open && mode.windows == 0 {
		c.w.Abort()
		return vault.Recording{}, fmt.Errorf("%w: on-demand call never started", errDiscarded)
	}
	rec := r.record(c)
	if rec.User == "" && !r.recordUnknown {
		c.w.Abort()
		return vault.Recording{}, fmt.Errorf("%w: no participant is a recorded user (record_unknown is off)", errDiscarded)
	}
	p := parties{Username: rec.User, Extension: rec.Extension, Remote: rec.Remote, Direction: rec.Direction}
	if lic, _, _ := r.licence.current(); lic.Model == license.ModelUser && !licensedUsers(r.users.list(), lic.Count)[p.Username] {
		c.w.Abort() // the metadata that names the owner came after the INVITE
		return vault.Recording{}, fmt.Errorf("%w: the owner is not covered by the user licence", errDiscarded)
	}
	if ok, why := r.filters.admits(p, r.owner(p)); !ok {
		c.w.Abort() // the metadata that names the call came after the INVITE
		return vault.Recording{}, fmt.Errorf("%w: %s", errDiscarded, why)
	}
	rec.DurationMS = res.Duration.Milliseconds()
	rec.EndReason = reason
	rec.Legs = legSummaries(res.Legs)
	rec.Lost = spans(res.Lost)
	rec.Pauses = spans(res.Pauses)
	rec.Windows = spans(res.Windows)
	if len(res.Lost) > 0 {
		c.log.Warn("audio lost: the disk did not take it in time", "spans", len(res.Lost), "lost_ms", res.LostDuration().Milliseconds())
	}
	switch {
	case stopErr != nil:
		c.log.Error("media stopped with an error: sealing what was written", "err", stopErr)
		rec.Status = vault.StatusRecovered
	case res.Samples == 0:
		rec.Status = vault.StatusFailed // the session ended before any audio arrived
	}
	rec.ID = c.w.ID()
	id3, err := tagsOf(rec, r.loc, res.Duration).ID3()
	if err != nil {
		c.log.Error("id3 tag: sealing without it", "err", err)
	}
	sealed, err := c.w.Seal(rec, append(id3, res.LAMETag...))
	if len(sealed.Participants) < len(rec.Participants) || len(sealed.CallID) < len(rec.CallID) {
		c.log.Warn("metadata clipped to fit the file head", "participants", len(rec.Participants),
			"participants_kept", len(sealed.Participants), "call_id_bytes", len(rec.CallID))
	}
	return sealed, err
}

// spans are media spans in the index's milliseconds.
func spans(in []media.Span) []vault.Span {
	var out []vault.Span
	for _, s := range in {
		out = append(out, vault.Span{AtMS: s.At.Milliseconds(), DurMS: s.Dur.Milliseconds()})
	}
	return out
}

// legSummaries is what each leg received, for the index and the file.
func legSummaries(stats []media.LegStats) []vault.LegSummary {
	out := make([]vault.LegSummary, 0, len(stats))
	for _, st := range stats {
		out = append(out, vault.LegSummary{Label: st.Label, Codec: st.Codec, Packets: st.Packets,
			Late: st.Late, Duplicates: st.Duplicates, ForeignSource: st.ForeignSource, ForeignSSRC: st.ForeignSSRC,
			AuthFailed: st.AuthFailed, Ignored: st.Ignored, Concealed: st.Concealed, LostPackets: st.Lost})
	}
	return out
}

// tagsOf is the ID3 table of a recording.
func tagsOf(rec vault.Recording, loc *time.Location, d time.Duration) media.Tags {
	return media.Tags{
		RecordID:  rec.ID,
		Username:  rec.User,
		FullName:  rec.FullName,
		Extension: rec.Extension,
		Remote:    rec.Remote,
		Direction: rec.Direction,
		Start:     rec.Start,
		Location:  loc,
		Duration:  d,
	}
}

// record is the call's recording as known now: owner, numbers and
// participants from the latest metadata; duration and status come at the
// end.
func (r *Recorder) record(c *call) vault.Recording {
	c.mu.Lock()
	md := c.session.Metadata
	callID := c.callID()
	participants := c.roster.participants()
	half := c.loneHalf()
	c.mu.Unlock()
	p := classify(md, r.users.byExtension)
	rec := vault.Recording{
		Start:        c.start,
		User:         p.Username,
		FullName:     p.FullName,
		Extension:    p.Extension,
		Remote:       p.Remote,
		Direction:    p.Direction,
		Codec:        c.codecs(),
		CallID:       callID,
		Status:       vault.StatusComplete,
		Participants: participants,
		UCMHalf:      half,
	}
	return rec
}

// describe writes what is known of the call into its file now, so that a
// crash leaves a .part that says who and when. A failure costs only that.
func (r *Recorder) describe(c *call) {
	c.describeMu.Lock() // drafts built and written in one order
	defer c.describeMu.Unlock()
	rec := r.record(c)
	rec.Status = vault.StatusRecovered // what it will be if it is ever read from here
	c.mu.Lock()
	rec.KeepPending = c.mode.keepPending()
	c.mu.Unlock()
	if err := c.w.Describe(rec); err != nil {
		c.log.Warn("write call metadata to the file", "err", err)
	}
}

// noteCodec adds a codec to those the call used; c.mu is held or the call
// is not shared yet.
func (c *call) noteCodec(name string) {
	if !slices.Contains(c.used, name) {
		c.used = append(c.used, name)
	}
}

// codecs names the codecs the call used, e.g. "PCMU" or "PCMA,G729";
// when no answer ever named one (our offer, never answered), those its
// legs were opened with.
func (c *call) codecs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	used := c.used
	if len(used) == 0 {
		for _, l := range c.legs {
			if !slices.Contains(used, l.codec) {
				used = append(used, l.codec)
			}
		}
	}
	return strings.Join(used, ",")
}

// hangupAll seals every live call and sends its gateway a BYE (the disk
// reached its floor).
func (r *Recorder) hangupAll(reason string) {
	for _, c := range r.live() {
		r.hangupCall(c, 503, "recorder disk full", reason)
	}
}

// hangupCall ends a live call from our side: the gateway gets a BYE with
// Reason: SIP;cause=code;text=text (each live half of a UCM call its
// own), and the call is sealed with reason.
func (r *Recorder) hangupCall(c *call, code int, text, reason string) {
	c.mu.Lock()
	sess := c.session
	c.mu.Unlock()
	c.log.Warn("hanging up", "why", text, "reason", reason)
	for _, id := range r.halfIDs(c) {
		if r.hangup == nil || !r.hangup(id, code, text, reason) {
			s := sess
			s.CallID = id
			r.End(&s, reason) // no SIP session behind it (tests)
		}
	}
}

// live returns the live calls.
func (r *Recorder) live() []*call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*call, 0, len(r.calls))
	for _, c := range r.calls {
		out = append(out, c)
	}
	return out
}
