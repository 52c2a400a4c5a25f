package media

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
)

const (
	defaultReorder = 200 * time.Millisecond
	maxReorder     = 10 * time.Second
	defaultQuality = 5
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
	// or reordered packets; 0 means 200 ms. At most 10 s.
	Reorder time.Duration
	// Quality is the LAME quality, 1 (best) to 9 (fastest); 0 means 5.
	Quality int
}

// LegStats are the counters of one leg. Packets and Bytes count every
// datagram received; Late, Ignored and Duplicates are subsets of Packets.
type LegStats struct {
	Label string
	Port  int    // local port of the leg's socket, 0 when not UDP
	Codec string // codec of the newest audio packet, "" before the first
	// Late counts packets that arrived (wholly or partly) behind audio
	// already emitted; their late part is dropped.
	Late uint64
	// Ignored counts datagrams that are not RTP audio of a negotiated
	// codec: telephone-event, comfort noise, unknown payload types,
	// malformed packets.
	Ignored    uint64
	Duplicates uint64 // packets with a sequence number already seen
	Packets    uint64
	Bytes      uint64
	SSRC       uint32 // SSRC of the newest audio packet
}

// Result describes a finished recording.
type Result struct {
	Samples  int64         // per channel, at 8000 Hz
	Duration time.Duration // Samples as time
	// LAMETag is the LAME/Info frame that belongs at the head of the MP3
	// data, after the ID3 tag and before the frames written to the writer.
	LAMETag []byte
	Legs    []LegStats
}

// Recording records one call: it reads the RTP legs added with AddLeg and
// writes the MP3 frames of their mix to its writer as the call runs.
type Recording struct {
	log *slog.Logger
	enc *Encoder       // nil when a test collects PCM
	w   *withholdFirst // the writer, minus LAME's placeholder frame

	mu       sync.Mutex // guards everything below and every write to out
	m        mixer
	legs     []*leg
	origin   time.Time
	started  bool // origin is set
	left     string
	leftSet  bool
	closing  bool // no more legs
	done     bool // stopped: no more audio
	wg       sync.WaitGroup
	stopOnce sync.Once
	result   Result
	stopErr  error
}

// leg is one RTP stream of a recording.
type leg struct {
	conn     net.PacketConn
	decoders [128]Decoder // by payload type
	names    [128]string
	tl       timeline
	stats    LegStats
	pkt      rtp.Packet
	pcm      []int16
}

// NewRecording returns a recording that writes MP3 frames to out. Writes
// happen under the recording's lock, from whichever goroutine emits audio,
// and the last one before Stop returns.
func NewRecording(cfg Config, out io.Writer, log *slog.Logger) (*Recording, error) {
	if cfg.Quality == 0 {
		cfg.Quality = defaultQuality
	}
	channels := 1
	if cfg.Stereo {
		channels = 2
	}
	enc, err := NewEncoder(channels, cfg.Quality)
	if err != nil {
		return nil, fmt.Errorf("new recording: %w", err)
	}
	w := &withholdFirst{w: out}
	r, err := newRecording(cfg, log, func(pcm []int16) error {
		b, err := enc.Encode(pcm)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		enc.Close()
		return nil, err
	}
	r.enc, r.w = enc, w
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
	r.m = mixer{
		stereo:  cfg.Stereo,
		reorder: int64(cfg.Reorder / time.Microsecond * sampleRate / 1_000_000),
		sink:    sink,
	}
	return r, nil
}

// AddLeg adds an RTP leg read from conn and starts its reader. codecs maps
// payload types to codec names; payload types with a name NewDecoder does
// not know (telephone-event, CN) are ignored like unlisted ones; at least
// one must be supported. On success the recording owns conn and closes it
// (and gives its PortPool port back) in Stop; on error conn stays the
// caller's.
func (r *Recording) AddLeg(label string, conn net.PacketConn, codecs map[uint8]string) error {
	if conn == nil {
		return fmt.Errorf("add leg %q: nil conn", label)
	}
	_, err := r.addLeg(label, conn, codecs)
	return err
}

func (r *Recording) addLeg(label string, conn net.PacketConn, codecs map[uint8]string) (*leg, error) {
	l := &leg{conn: conn, pcm: make([]int16, 0, 480)}
	l.stats.Label = label
	if conn != nil {
		if a, ok := conn.LocalAddr().(*net.UDPAddr); ok {
			l.stats.Port = a.Port
		}
	}
	if l.setCodecs(codecs, r.log) == 0 {
		return nil, fmt.Errorf("add leg %q: no supported codec in %v: %w", label, codecs, errUnsupportedCodec)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		l.closeDecoders()
		return nil, fmt.Errorf("add leg %q: %w", label, errStopped)
	}
	for _, o := range r.legs {
		if o.stats.Label == label {
			l.closeDecoders()
			return nil, fmt.Errorf("add leg %q: duplicate label", label)
		}
	}
	r.legs = append(r.legs, l)
	r.m.tracks = append(r.m.tracks, &l.tl)
	r.resolveLeft()
	if conn != nil {
		r.wg.Add(1)
		go r.read(l)
	}
	return l, nil
}

// SetCodecs replaces the payload-type map of the leg labelled label, for a
// re-INVITE that changes the codecs (PCMA to G729, say). Decoders of payload
// types no longer listed, or now naming another codec, are closed; a payload
// type still naming the same codec keeps its decoder and its state. Audio
// keeps its place by RTP timestamp across the change (every supported codec
// has an 8000 Hz RTP clock). The new map applies even when it holds no
// supported codec (the leg's packets are then ignored until the next
// SetCodecs); the error then wraps the unsupported-codec error so the caller
// can log it.
func (r *Recording) SetCodecs(label string, codecs map[uint8]string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("set codecs of leg %q: %w", label, errStopped)
	}
	for _, l := range r.legs {
		if l.stats.Label != label {
			continue
		}
		if l.setCodecs(codecs, r.log) == 0 {
			return fmt.Errorf("set codecs of leg %q: no supported codec in %v: %w", label, codecs, errUnsupportedCodec)
		}
		return nil
	}
	return fmt.Errorf("set codecs of leg %q: no such leg", label)
}

// setCodecs makes the leg's decoders those of codecs, keeping a decoder
// whose payload type names the same codec as before, and returns how many
// payload types have a decoder.
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
			closeDecoder(old)
			l.decoders[pt], l.names[pt] = nil, ""
		}
		if !listed {
			continue
		}
		d, err := NewDecoder(name, sampleRate)
		if err != nil {
			log.Debug("payload type ignored", "leg", l.stats.Label, "pt", pt, "codec", name, "err", err)
			continue
		}
		l.decoders[pt], l.names[pt] = d, name
		n++
	}
	return n
}

// closeDecoders frees the leg's decoders; its packets are ignored from then
// on.
func (l *leg) closeDecoders() {
	for pt, d := range l.decoders {
		if d != nil {
			closeDecoder(d)
			l.decoders[pt], l.names[pt] = nil, ""
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

// read is a leg's reader goroutine: it stamps each datagram with its
// arrival time and ingests it, until the conn is closed.
func (r *Recording) read(l *leg) {
	defer r.wg.Done()
	buf := make([]byte, readBufSize)
	rd, isReader := l.conn.(io.Reader) // *net.UDPConn: Read does not allocate an address
	errs := 0
	for {
		var n int
		var err error
		if isReader {
			n, err = rd.Read(buf)
		} else {
			n, _, err = l.conn.ReadFrom(buf)
		}
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
		r.ingest(l, buf[:n], time.Now())
	}
}

// ingest is the per-packet step: parse, decode, place on the leg's
// timeline, and emit what the reorder window releases. at is the arrival
// time. It never blocks except on the writer.
func (r *Recording) ingest(l *leg, data []byte, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &l.stats
	st.Packets++
	st.Bytes += uint64(len(data))
	if r.done {
		st.Ignored++
		return
	}
	if err := l.pkt.Unmarshal(data); err != nil || l.pkt.Version != 2 {
		st.Ignored++
		return
	}
	h := &l.pkt.Header
	dec := l.decoders[h.PayloadType]
	if dec == nil {
		st.Ignored++
		return
	}
	l.pcm = dec.Decode(l.pcm[:0], l.pkt.Payload)
	if len(l.pcm) == 0 {
		st.Ignored++
		return
	}
	if !r.started {
		r.origin, r.started = at, true
	}
	pos, v := l.tl.place(h.SSRC, h.SequenceNumber, h.Timestamp, len(l.pcm), samplesSince(r.origin, at), r.m.emitted)
	switch v {
	case duplicate:
		st.Duplicates++
		return
	case late:
		st.Late++
		return
	}
	st.SSRC, st.Codec = h.SSRC, l.names[h.PayloadType]
	if pos < r.m.emitted {
		st.Late++ // partly: its head is dropped
	}
	r.m.add(&l.tl, pos, l.pcm)
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
	}
	return s
}

// Stop closes the legs' sockets (giving pool ports back), waits for their
// readers, emits and encodes all remaining audio, flushes LAME and returns
// the result. The last write to the writer happens before Stop returns. Later
// calls return the same result and error.
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
			releaseConn(l.conn)
			_ = l.conn.Close()
		}
	}
	r.wg.Wait()

	r.mu.Lock()
	defer r.mu.Unlock()
	r.m.emitTo(r.m.newest)
	r.done = true
	for _, l := range r.legs {
		l.closeDecoders()
	}
	err := r.m.err
	if r.enc != nil {
		if err == nil {
			err = r.flush()
		}
		r.result.LAMETag = r.enc.LAMETag()
		r.enc.Close()
	}
	if err != nil {
		r.stopErr = fmt.Errorf("stop recording: %w", err)
	}
	r.result.Samples = r.m.emitted
	r.result.Duration = time.Duration(r.m.emitted) * time.Second / sampleRate
	r.result.Legs = r.statsLocked()
}

// flush writes LAME's last frames.
func (r *Recording) flush() error {
	b, err := r.enc.Flush()
	if err != nil {
		return err
	}
	_, err = r.w.Write(b)
	return err
}
