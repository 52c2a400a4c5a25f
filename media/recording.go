package media

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// DefaultQuality is the LAME quality recordings are encoded at: 7, chosen
// by the quality score against speed (BENCHMARKS.md, "LAME quality
// setting"): it scores as 5 does on telephone speech at 32 kbps for about
// a quarter less CPU.
const DefaultQuality = 7

const (
	defaultReorder = 200 * time.Millisecond
	maxReorder     = 10 * time.Second
	defaultQuality = DefaultQuality
	// readBufSize bounds one datagram; G.711 at 20 ms is 172 bytes.
	readBufSize = 4096
	// maxReadErrors consecutive read errors (other than a closed socket) end
	// a leg's reader.
	maxReadErrors = 100
)

var errStopped = errors.New("recording stopped")

// Config configures a Recording. The zero value records a mono mix with a
// 200 ms reorder window at LAME quality 5.
type Config struct {
	// Stereo puts the left leg (SetLeft; by default the first leg added) on
	// the left channel and the mix of all other legs on the right. False
	// records a mono mix of all legs.
	Stereo bool
	// Reorder is how far behind the newest audio the mixer waits for late
	// or reordered packets; 0 means 200 ms. At most 10 s. A leg that lags
	// (a stalled reader) is waited for one window more, and a new stream's
	// first second is held until it has all come, so that the stream is
	// placed by its least delayed packets.
	Reorder time.Duration
	// Quality is the LAME quality, 1 (best) to 9 (fastest); 0 means 7
	// (DefaultQuality).
	Quality int
	// WriteBuffer is how much encoded audio may wait for the writer: the
	// RTP readers never wait for it, and a writer that stalls (an fsync, a
	// full NAS) for less loses nothing. Beyond it, audio is dropped until
	// the writer has caught up to half of it, and the span is reported in
	// Result.Lost. It is counted in whole MP3 frames (72 ms, 288 bytes);
	// 0 means 10 s (139 frames, 40 KB). At most 10 minutes.
	WriteBuffer time.Duration
	// Gated starts the recording closed, for On Demand: its audio is
	// dropped (never encoded, never written) until Open, and again from
	// Close. The file holds the open windows joined; Result.Windows says
	// where they were in the call.
	Gated bool
}

// LegStats are the counters of one leg. Packets and Bytes count every
// datagram received; ForeignSource, AuthFailed, ForeignSSRC, Ignored,
// Duplicates, Late and CN are subsets of Packets.
type LegStats struct {
	Label string
	Port  int    // local port of the leg's socket, 0 when not UDP
	Codec string // codec of the newest audio packet, "" before the first
	// Source is where the leg takes packets from: the announced source, or
	// the one it latched on; zero while unknown.
	Source netip.AddrPort
	// ForeignSource counts datagrams from another address or port than
	// Source: dropped unread.
	ForeignSource uint64
	// AuthFailed counts SRTP packets whose authentication failed: dropped.
	AuthFailed uint64
	// ForeignSSRC counts packets of another SSRC than the leg's stream,
	// where a new stream could not have begun (the current one was not
	// silent, or the new one would have run ahead of real time): dropped.
	ForeignSSRC uint64
	// Late counts packets that arrived (wholly or partly) behind audio
	// already decoded or emitted; their late part is dropped.
	Late uint64
	// Ignored counts datagrams that carry no audio of a negotiated codec:
	// telephone-event, unknown payload types, malformed packets, SRTP
	// packets that are not RTP.
	Ignored uint64
	// Duplicates counts packets with a sequence number already seen (and
	// SRTP packets its replay window refuses), dropped before decoding.
	Duplicates uint64
	// CN counts comfort-noise packets, recorded as silence.
	CN uint64
	// Lost counts the packets that never arrived, by sequence number: the
	// numbers between each stream's first and newest that were not
	// received (late packets arrived; they are not lost).
	Lost uint64
	// Concealed counts the 10 ms frames of audio lost on the way and
	// concealed (G.729) or left silent (G.711) between the packets around
	// them.
	Concealed uint64
	Packets   uint64
	Bytes     uint64
	SSRC      uint32 // SSRC of the leg's stream
	// LastArrival is when the last packet of the leg's stream arrived (any
	// payload type, duplicates and late ones included); zero before the
	// first.
	LastArrival time.Time
}

// Result describes a finished recording.
type Result struct {
	Samples  int64         // per channel, at 8000 Hz
	Duration time.Duration // Samples as time
	// LAMETag is the LAME/Info frame that belongs at the head of the MP3
	// data, after the ID3 tag and before the frames written to the writer.
	LAMETag []byte
	Legs    []LegStats
	// Lost are the spans of the recording whose audio the writer could not
	// take in time (it stalled for longer than Config.WriteBuffer holds),
	// in order, placed as the file plays (the encoder delay removed). The
	// file keeps the call's timeline: each span is silence of its length,
	// written once the writer caught up. Nil when nothing was lost.
	Lost []Span
	// Pauses are the stretches of the file silenced by Pause (PCI), in
	// order, from the file's start as it plays: positions in the audio
	// the encoder was given, which a player reaches once it has removed
	// the encoder delay, as for Lost. Only what the file holds counts: a
	// pause during a closed window adds only its parts inside open ones,
	// and parts that follow each other in the file (a pause across a
	// closed stretch) are one span. The MP3 transform blurs each edge by
	// up to one frame (72 ms). Nil when nothing was paused.
	Pauses []Span
	// Windows are, for a Gated recording, the stretches of the call the
	// file holds, in order, from the call's origin (the arrival of its
	// first packet); their lengths add up to Duration. Nil for a recording
	// that is not Gated, or that held nothing.
	Windows []Span
}

// Span is a stretch of a recording: it begins At from the start and lasts
// Dur.
type Span struct {
	At, Dur time.Duration
}

// LostDuration returns the total length of the spans in Lost.
func (r Result) LostDuration() time.Duration {
	var d time.Duration
	for _, s := range r.Lost {
		d += s.Dur
	}
	return d
}

// Recording records one call: it reads the RTP legs added with AddLeg or
// AddLegWith and writes the MP3 frames of their mix to its writer as the
// call runs.
type Recording struct {
	log   *slog.Logger
	enc   *Encoder     // nil when a test collects PCM
	fr    *framer      // cuts the encoder's output into frames for wq
	batch *pcmBatch    // gathers the mix for enc (batch.go)
	eq    *encodeQueue // the batches on their way to enc, encoded by a worker (encodepool.go)
	wq    *writeQueue  // the frames on their way to the writer

	// mu guards everything below. The encoder and fr are eq's worker's
	// while batches are queued, and stop's once eq.wait has returned.
	mu       sync.Mutex
	poller   *poller // reads the legs on PortPool ports (Linux)
	m        mixer
	legs     []*leg
	origin   time.Time // arrival of the first packet taken, on any leg
	started  bool      // origin is set
	left     string
	leftSet  bool
	closing  bool // no more legs
	done     bool // stopped: no more audio
	slots    int  // most packets a leg's reorder buffer may hold
	wg       sync.WaitGroup
	stopOnce sync.Once
	result   Result
	stopErr  error
}

// leg is one RTP stream of a recording.
type leg struct {
	conn     LegConn
	src      source
	srtp     *srtpIn      // nil without SRTP
	decoders [128]Decoder // by payload type
	names    [128]string
	kinds    [128]payloadKind
	seq      seqTracker // of the current stream
	// seqLostBefore counts the packets lost in the leg's earlier streams.
	seqLostBefore uint64
	jb            jitter   // packets waiting for release, in RTP order
	s             stream   // placement of the current stream
	tl            timeline // decoded audio waiting for the mixer
	stats         LegStats
	lastArr       int64 // arrival position of the last packet taken
	frame         int   // samples of the newest audio packet: the length of a comfort-noise packet

	prevExt int64   // sequence number of the last packet released
	prevOK  bool    // prevExt is of the current stream: a gap after it is loss
	lastDec Decoder // decoder of the last audio released: it conceals a loss
	lossRun int64   // samples concealed since the last audio decoded

	pkt rtp.Packet
	pcm []int16
}

// NewRecording returns a recording that writes MP3 frames to out. The
// frames go to out from a goroutine of the recording's own, through a queue
// of Config.WriteBuffer, so that a slow out never holds up the RTP readers;
// writes are sequential, and the last one happens before Stop returns. A
// recording must be stopped, or that goroutine stays.
func NewRecording(cfg Config, out io.Writer, log *slog.Logger) (*Recording, error) {
	if cfg.Quality == 0 {
		cfg.Quality = defaultQuality
	}
	if cfg.WriteBuffer == 0 {
		cfg.WriteBuffer = defaultWriteBuffer
	}
	if cfg.WriteBuffer < 0 || cfg.WriteBuffer > maxWriteBuffer {
		return nil, fmt.Errorf("new recording: write buffer %v out of 0-%v", cfg.WriteBuffer, maxWriteBuffer)
	}
	channels := 1
	if cfg.Stereo {
		channels = 2
	}
	enc, err := NewEncoder(channels, cfg.Quality)
	if err != nil {
		return nil, fmt.Errorf("new recording: %w", err)
	}
	fr := &framer{}
	eq := newEncodeQueue(func(pcm []int16) error {
		buf := encodeOutput.Get().(*[]byte)
		defer encodeOutput.Put(buf)
		b, err := enc.EncodeTo(*buf, pcm)
		if err != nil {
			return err
		}
		*buf = b
		return fr.write(b)
	})
	batch := newPCMBatch(channels, eq.push)
	r, err := newRecording(cfg, log, batch.add)
	if err != nil {
		enc.Close()
		return nil, err
	}
	r.enc, r.fr, r.batch, r.eq = enc, fr, batch, eq
	r.wq = newWriteQueue(out, queueFrames(cfg.WriteBuffer), r.log)
	fr.emit = r.wq.push
	return r, nil
}

// newRecording returns a recording whose mixed PCM goes to sink.
func newRecording(cfg Config, log *slog.Logger, sink func([]int16) error) (*Recording, error) {
	if cfg.Reorder == 0 {
		cfg.Reorder = defaultReorder
	}
	if cfg.Reorder < 0 || cfg.Reorder > maxReorder {
		return nil, fmt.Errorf("new recording: reorder window %v out of 0-%v", cfg.Reorder, maxReorder)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Recording{log: log}
	r.m = newMixer(cfg.Stereo, int64(cfg.Reorder/time.Microsecond*sampleRate/1_000_000), cfg.Gated, sink)
	r.slots = jitterLimit(r.m.reorder)
	return r, nil
}

// jitterLimit returns how many packets a leg's reorder buffer may hold:
// as many 5 ms packets as the mixer may keep waiting (the reorder window,
// once more for a lagging leg, and a new stream's settling), as a power of
// two, and no more than the duplicate detection remembers (seqWindow).
// Beyond it the oldest packets are released early.
func jitterLimit(reorder int64) int {
	n := int((settle+2*reorder)/(sampleRate/200)) + 1
	l := jitterSlots
	for l < n && l < seqWindow {
		l *= 2
	}
	return l
}

func (r *Recording) addLeg(label string, conn LegConn, o LegOptions) (*leg, error) {
	l := &leg{conn: conn, src: newSource(o.Source, o.Latch), frame: defaultFrame, pcm: make([]int16, 0, 480)}
	l.stats.Label = label
	l.stats.Source = l.src.current()
	if conn != nil {
		if a, ok := conn.LocalAddr().(*net.UDPAddr); ok {
			l.stats.Port = a.Port
		}
	}
	if o.SRTP != nil {
		in, err := newSRTPIn(*o.SRTP)
		if err != nil {
			return nil, fmt.Errorf("add leg %q: %w", label, err)
		}
		l.srtp = in
	}
	if l.setCodecs(o.Codecs, r.log) == 0 {
		return nil, fmt.Errorf("add leg %q: no supported codec in %v: %w", label, o.Codecs, errUnsupportedCodec)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		l.closeDecoders()
		return nil, fmt.Errorf("add leg %q: %w", label, errStopped)
	}
	if r.legByLabel(label) != nil {
		l.closeDecoders()
		return nil, fmt.Errorf("add leg %q: duplicate label", label)
	}
	l.jb = newJitter(r.slots)
	r.legs = append(r.legs, l)
	r.m.tracks = append(r.m.tracks, &l.tl)
	switch c := conn.(type) {
	case nil:
	case *PortConn:
		if err := r.pollLeg(l, c); err != nil {
			r.dropLeg(l)
			return nil, fmt.Errorf("add leg %q: %w", label, err)
		}
	case net.PacketConn:
		r.wg.Add(1)
		go r.read(l, c)
	default:
		r.dropLeg(l)
		return nil, fmt.Errorf("add leg %q: cannot read a %T", label, conn)
	}
	r.resolveLeft()
	return l, nil
}

// legByLabel returns the leg labelled label, or nil.
func (r *Recording) legByLabel(label string) *leg {
	for _, l := range r.legs {
		if l.stats.Label == label {
			return l
		}
	}
	return nil
}

// SetCodecs replaces the payload-type map of the leg labelled label, for a
// re-INVITE that changes the codecs (PCMA to G729, say). Decoders of
// payload types no longer listed, or now naming another codec, are closed,
// after the packets still waiting in the reorder window have been decoded
// with the codecs they came in; a payload type still naming the same codec
// keeps its decoder and its state. A map that keeps every decoder (the
// re-INVITE of a hold or a resume) leaves the waiting packets alone, so
// that a stream that has just begun is still placed by its least delayed
// packets, not fixed where its first ones came. Audio keeps its place by
// RTP timestamp across the change (every supported codec has an 8000 Hz
// RTP clock). The new map applies even when it holds no supported codec
// (the leg's packets are then ignored until the next SetCodecs); the error
// then wraps the unsupported-codec error so the caller can log it.
func (r *Recording) SetCodecs(label string, codecs map[uint8]string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("set codecs of leg %q: %w", label, errStopped)
	}
	l := r.legByLabel(label)
	if l == nil {
		return fmt.Errorf("set codecs of leg %q: no such leg", label)
	}
	if !l.keepsDecoders(codecs) {
		r.flush(l)
	}
	if l.setCodecs(codecs, r.log) == 0 {
		return fmt.Errorf("set codecs of leg %q: no supported codec in %v: %w", label, codecs, errUnsupportedCodec)
	}
	return nil
}

// setCodecs makes the leg's decoders those of codecs, keeping a decoder
// whose payload type names the same codec as before, classifies the other
// payload types, and returns how many payload types have a decoder.
func (l *leg) setCodecs(codecs map[uint8]string, log *slog.Logger) int {
	n := 0
	for pt := range l.decoders {
		name, listed := codecs[uint8(pt)]
		if old := l.decoders[pt]; old != nil {
			if listed && strings.EqualFold(name, l.names[pt]) {
				l.names[pt] = name
				n++
				continue
			}
			l.closeDecoder(pt)
		}
		l.kinds[pt] = kindOf(uint8(pt), name, listed)
		if !listed || l.kinds[pt] != kindNone {
			continue
		}
		d, err := NewDecoder(name, sampleRate)
		if err != nil {
			log.Debug("payload type ignored", "leg", l.stats.Label, "pt", pt, "codec", name, "err", err)
			continue
		}
		l.decoders[pt], l.names[pt], l.kinds[pt] = d, name, kindAudio
		n++
	}
	return n
}

// keepsDecoders reports whether setCodecs(codecs) would keep every
// decoder the leg has: each of their payload types still names its codec.
func (l *leg) keepsDecoders(codecs map[uint8]string) bool {
	for pt, d := range l.decoders {
		if name, listed := codecs[uint8(pt)]; d != nil && (!listed || !strings.EqualFold(name, l.names[pt])) {
			return false
		}
	}
	return true
}

// closeDecoder frees the decoder of payload type pt.
func (l *leg) closeDecoder(pt int) {
	if l.lastDec == l.decoders[pt] {
		l.lastDec = nil
	}
	closeDecoder(l.decoders[pt])
	l.decoders[pt], l.names[pt], l.kinds[pt] = nil, "", kindNone
}

// closeDecoders frees the leg's decoders; its packets are ignored from then
// on.
func (l *leg) closeDecoders() {
	for pt, d := range l.decoders {
		if d != nil {
			l.closeDecoder(pt)
		}
	}
}

// SetLeft selects, for stereo, the leg whose audio goes to the left channel.
// It applies to all audio emitted from then on (including audio still held
// in the reorder window). An unknown label leaves the left channel silent
// until a leg with that label is added.
func (r *Recording) SetLeft(label string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.left, r.leftSet = label, true
	r.resolveLeft()
}

func (r *Recording) resolveLeft() {
	r.m.left = -1
	if !r.leftSet {
		if len(r.legs) > 0 {
			r.m.left = 0
		}
		return
	}
	for i, l := range r.legs {
		if l.stats.Label == r.left {
			r.m.left = i
		}
	}
}

// dropLeg takes back the leg addLeg just added (r.mu held).
func (r *Recording) dropLeg(l *leg) {
	r.legs = r.legs[:len(r.legs)-1]
	r.m.tracks = r.m.tracks[:len(r.m.tracks)-1]
	l.closeDecoders()
}

// read is the reader goroutine of a leg that no poller reads: it reads
// each datagram of conn with its source and arrival time and ingests it,
// until conn is closed.
func (r *Recording) read(l *leg, conn net.PacketConn) {
	defer r.wg.Done()
	buf := make([]byte, readBufSize)
	rd := newPacketReader(conn, r.log)
	errs := 0
	for {
		n, from, at, err := rd.read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errs++; errs >= maxReadErrors {
				r.log.Error("rtp leg reader gave up", "leg", l.stats.Label, "err", err)
				return
			}
			r.log.Debug("rtp read", "leg", l.stats.Label, "err", err)
			continue
		}
		errs = 0
		r.ingest(l, buf[:n], from, at)
	}
}

// Open starts an On Demand window (Config.Gated): the call's audio from
// at on is kept. Open when the recording is open does nothing.
//
// Like Close, Pause and Resume, it applies at at's place in the call's
// timeline, (at - the first packet's arrival) at 8000 Hz, whenever the
// mixer gets there: it emits audio a reorder window after it arrives, so
// a control for now always lies ahead of it. An at before the first
// packet's arrival (or any at before the first packet) applies from the
// recording's first sample. An at so old that the audio after it has
// been emitted already applies from the first sample not emitted: what
// has gone to the encoder is never rewritten. Controls apply in the order
// they are made, each at the earliest where the one before it applied.
// They are ignored after Stop.
func (r *Recording) Open(at time.Time) { r.control(at, ctlOpen) }

// Close ends an On Demand window: the call's audio from at on is dropped,
// until the next Open. Close when the recording is closed does nothing.
func (r *Recording) Close(at time.Time) { r.control(at, ctlClose) }

// Pause begins a PCI pause: from at until Resume the file holds silence
// of the same length in place of the call's audio, which never reaches
// the encoder. Pause when paused does nothing; a pause not resumed lasts
// to the end. Result.Pauses says where the pauses lie in the file.
func (r *Recording) Pause(at time.Time) { r.control(at, ctlPause) }

// Resume ends a PCI pause: the call's audio from at on is recorded again.
// Resume when not paused does nothing.
func (r *Recording) Resume(at time.Time) { r.control(at, ctlResume) }

// control adds a mode control at at's position.
func (r *Recording) control(at time.Time, kind ctlKind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	r.m.mask.add(r.controlPos(at), kind)
}

// controlPos returns the timeline position of wall-clock time at: noPos
// (the first sample) before the first packet or at or before its arrival.
func (r *Recording) controlPos(at time.Time) int64 {
	if !r.started {
		return noPos
	}
	if p := samplesSince(r.origin, at); p > 0 {
		return p
	}
	return noPos
}

// Stats returns the counters of every leg, in the order they were added.
func (r *Recording) Stats() []LegStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statsLocked()
}

func (r *Recording) statsLocked() []LegStats {
	s := make([]LegStats, len(r.legs))
	for i, l := range r.legs {
		s[i] = l.stats
		s[i].Lost = l.seqLostBefore + l.seq.lost()
	}
	return s
}

// Stop closes the legs' sockets (giving pool ports back), waits for their
// readers, decodes, emits and encodes all remaining audio, flushes LAME,
// waits until the writer has taken every frame queued (it no longer drops
// any: the readers are gone) and returns the result. The last write to the
// writer happens before Stop returns. An error means the writer failed (or
// the encoder did): the audio from then on was not written. Later calls
// return the same result and error.
func (r *Recording) Stop() (Result, error) {
	r.stopOnce.Do(r.stop)
	return r.result, r.stopErr
}

func (r *Recording) stop() {
	r.mu.Lock()
	r.closing = true
	legs := slices.Clone(r.legs)
	r.mu.Unlock()
	for _, l := range legs {
		if l.conn != nil {
			_ = l.conn.Close() // a PortConn gives its port back
		}
	}
	r.wg.Wait()

	if r.wq != nil {
		r.wq.block()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drain()
	r.done = true
	for _, l := range r.legs {
		l.closeDecoders()
	}
	err := r.m.err
	r.result.Samples = r.m.samples()
	if r.enc != nil {
		if err == nil {
			err = r.batch.flush()
		}
		if werr := r.eq.wait(); err == nil { // no worker encodes any more
			err = werr
		}
		if err == nil {
			err = r.flushEncoder()
		}
		if werr := r.wq.close(); err == nil {
			err = werr
		}
		r.result.LAMETag = r.enc.LAMETag()
		r.enc.Close()
		r.result.Lost = lostSpans(r.wq.lost(), r.result.Samples)
	}
	if err != nil {
		r.stopErr = fmt.Errorf("stop recording: %w", err)
	}
	r.result.Duration = samplesTime(r.result.Samples)
	r.result.Pauses = r.m.mask.pauseSpans()
	r.result.Windows = r.m.mask.windowSpans()
	r.result.Legs = r.statsLocked()
}

// flushEncoder queues LAME's last frames, once every batch is encoded.
func (r *Recording) flushEncoder() error {
	b, err := r.enc.Flush()
	if err != nil {
		return err
	}
	if err := r.fr.write(b); err != nil {
		return err
	}
	if p := r.fr.partial(); len(p) > 0 {
		return fmt.Errorf("flush: the encoder ended in %d bytes of an incomplete frame", len(p))
	}
	return nil
}
