package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bogem/id3v2/v2"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

const (
	sentSeconds = 5.0
	toneLeg1    = 400.0  // Hz, sent on the stream labelled 1 (the caller's)
	toneLeg2    = 1000.0 // Hz, sent on the stream labelled 2 (the callee's)
)

// callSpec is one recorded call driven by sipp and the RTP sender.
type callSpec struct {
	scenario  string // sipp scenario that sets the session up
	transport string // sipp -t: u1 or t1
	caller    string // AOR user part of the first participant
	callee    string
	codec     string // PCMU or PCMA
}

// session is a recording session set up by sipp: its sipp keys (Call-ID,
// tags) and the RTP port of each labelled stream.
type session struct {
	d         *daemonProc
	transport string
	keys      map[string]string
	ports     map[string]int          // the recorder's RTP port of each labelled leg
	from      map[string]int          // the gateway's RTP port of each leg: one source for the whole call
	conns     map[string]*net.UDPConn // the sockets of those ports, open for the test's life
	ssrc      uint32
}

// newSession is a recording session set up with keys; its legs' ports are
// read by checkLegs. Each leg sends from a port of its own for the whole
// call, as a gateway does.
func (d *daemonProc) newSession(transport string, keys map[string]string) *session {
	d.t.Helper()
	s := &session{d: d, transport: transport, keys: keys, ports: map[string]int{}, from: map[string]int{},
		conns: map[string]*net.UDPConn{}, ssrc: 0x1000}
	for _, label := range []string{"1", "2"} {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			d.t.Fatal(err)
		}
		d.t.Cleanup(func() { c.Close() })
		s.from[label] = c.LocalAddr().(*net.UDPAddr).Port
		s.conns[label] = c
	}
	return s
}

// codecs: sipp's payload type and name, the RTP sender's encoder and how
// many payload bytes 20 ms take.
var codecs = map[string]struct {
	pt     uint8
	encode func([]int16) []byte
	bytes  int
}{
	"PCMU": {0, testaudio.EncodeUlaw, 160},
	"PCMA": {8, testaudio.EncodeAlaw, 160},
	"G729": {18, testaudio.EncodeG729, 20},
}

// setup runs the spec's scenario and returns the live session.
func (d *daemonProc) setup(c callSpec) *session {
	d.t.Helper()
	callID := fmt.Sprintf("e2e-%d-%s@127.0.0.1", time.Now().UnixNano(), c.transport)
	keys := map[string]string{
		"callid": callID, "fromtag": "src" + strconv.Itoa(os.Getpid()),
		"caller": c.caller, "callee": c.callee,
		"codecpt": strconv.Itoa(int(codecs[c.codec].pt)), "codecname": c.codec,
	}
	keys["totag"] = toTag(d.t, d.sipp(c.scenario, c.transport, keys))
	s := d.newSession(c.transport, keys)
	s.checkLegs(c.codec)
	return s
}

// checkLegs checks the live call lists both labelled legs with the codec.
func (s *session) checkLegs(codec string) {
	s.d.t.Helper()
	live := s.d.liveCall(s.keys["callid"])
	for _, l := range live.Legs {
		s.ports[l.Label] = l.Port
		if l.Codec != codec {
			s.d.t.Errorf("leg %s codec = %q, want %q", l.Label, l.Codec, codec)
		}
	}
	if s.ports["1"] == 0 || s.ports["2"] == 0 {
		s.d.t.Fatalf("live call legs = %+v, want labels 1 and 2 with ports", live.Legs)
	}
}

// send streams the two known tones, one per leg, in real time; each call
// uses new SSRCs, as a gateway does after a codec change.
func (s *session) send(codec string, seconds float64) { s.sendLegs(codec, seconds, "1", "2") }

// sendLeg streams the known tone of one leg only (the other party is
// silent or on hold).
func (s *session) sendLeg(label, codec string, seconds float64) { s.sendLegs(codec, seconds, label) }

func (s *session) sendLegs(codec string, seconds float64, labels ...string) {
	s.d.t.Helper()
	if err := s.stream(codec, seconds, labels...); err != nil {
		s.d.t.Fatal(err)
	}
}

// stream is sendLegs for a goroutine of its own: it returns the error
// rather than ending the test.
func (s *session) stream(codec string, seconds float64, labels ...string) error {
	c := codecs[codec]
	n := int(seconds * 8000)
	s.ssrc += 0x10
	tones := map[string]float64{"1": toneLeg1, "2": toneLeg2}
	var streams []testaudio.Stream
	for _, l := range labels {
		k, _ := strconv.Atoi(l)
		streams = append(streams, testaudio.Stream{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.ports[l]}, Conn: s.conns[l],
			PT: c.pt, SSRC: s.ssrc + uint32(k), PacketBytes: c.bytes, Payload: c.encode(testaudio.Tone(tones[l], 8000, n, 12000))})
	}
	return testaudio.SendPaced(streams)
}

// hangUp sends the BYE and waits for the recording to be searchable.
func (s *session) hangUp() control.Recording {
	s.d.t.Helper()
	s.d.sipp("bye.xml", s.transport, s.keys)
	return s.d.sealed(s.keys["callid"])
}

// record sets up a recording session with sipp, streams two known tones on
// the two legs for sentSeconds, hangs up with a second sipp run, and waits
// for the recording to be searchable.
func (d *daemonProc) record(c callSpec) control.Recording {
	d.t.Helper()
	s := d.setup(c)
	s.send(c.codec, sentSeconds)
	return s.hangUp()
}

// TestRecordCUBECallUDP: a CUBE-style SIPREC call over UDP, recorded as a
// mono mix, after a series of malformed INVITEs the daemon must reject.
func TestRecordCUBECallUDP(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	d.cli("users", "add", "john_doe", "--name", "John Doe", "--ext", "2501,2502")

	d.sipp("options.xml", "u1", map[string]string{"callid": "ping@127.0.0.1"})
	for _, sc := range []string{"bad-xml.xml", "no-audio.xml", "no-boundary.xml", "lying-length.xml", "not-siprec.xml"} {
		d.sipp(sc, "u1", map[string]string{"callid": "bad-" + sc + "@127.0.0.1"})
	}

	rec := d.record(callSpec{scenario: "cube-invite.xml", transport: "u1", caller: "2501", callee: "+15558201320", codec: "PCMU"})
	want := control.Recording{User: "john_doe", FullName: "John Doe", Extension: "2501", Remote: "+15558201320", Direction: "OUT", Status: "complete", Codec: "PCMU"}
	checkRecording(t, d, rec, want, mono)

	// 5 s of two 20 ms legs: 500 packets, none late, lost or dropped.
	var st control.Status
	d.cliJSON(&st, "status")
	if st.Sealed["complete"] != 1 || st.RTP.Packets != 500 || st.RTP.Late+st.RTP.Lost+st.RTP.Dropped != 0 {
		t.Errorf("status sealed %v, rtp %+v; want 1 complete, 500 packets, none late, lost or dropped", st.Sealed, st.RTP)
	}
}

// TestRecordCUBECallTCPStereo: the same over TCP with the stereo option; the
// owner is the called party, so its stream must be on the left channel.
// A second call brings its metadata only in a re-INVITE.
func TestRecordCUBECallTCPStereo(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{stereo: true, recordUnknown: true})
	d.cli("users", "add", "mary.major", "--name", "Mary Major", "--ext", "3100")

	for _, sc := range []string{"bad-xml.xml", "no-audio.xml", "no-boundary.xml"} {
		d.sipp(sc, "t1", map[string]string{"callid": "bad-tcp-" + sc + "@127.0.0.1"})
	}

	rec := d.record(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "+442071234567", callee: "3100", codec: "PCMA"})
	want := control.Recording{User: "mary.major", FullName: "Mary Major", Extension: "3100", Remote: "+442071234567", Direction: "IN", Status: "complete", Codec: "PCMA"}
	checkRecording(t, d, rec, want, stereo{left: toneLeg2, right: toneLeg1})

	late := d.record(callSpec{scenario: "late-metadata.xml", transport: "t1", caller: "3100", callee: "5551234", codec: "PCMU"})
	want = control.Recording{User: "mary.major", FullName: "Mary Major", Extension: "3100", Remote: "5551234", Direction: "OUT", Status: "complete", Codec: "PCMU"}
	checkRecording(t, d, late, want, stereo{left: toneLeg1, right: toneLeg2})
}

// checkRecording checks the index entry, the encrypted file on disk and the
// exported MP3: format, duration, tags and both signals.
func checkRecording(t *testing.T, d *daemonProc, rec, want control.Recording, layout stereo) {
	t.Helper()
	for _, f := range []struct{ name, got, want string }{
		{"user", rec.User, want.User}, {"full_name", rec.FullName, want.FullName},
		{"extension", rec.Extension, want.Extension}, {"remote", rec.Remote, want.Remote},
		{"direction", rec.Direction, want.Direction}, {"status", rec.Status, want.Status},
		{"codec", rec.Codec, want.Codec},
	} {
		if f.got != f.want {
			t.Errorf("recording %s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if len(rec.ID) != 13 || !strings.HasPrefix(rec.ID, strconv.Itoa(rec.Start.Year())) {
		t.Errorf("record id %q: want 4-digit year + 9-digit sequence", rec.ID)
	}
	var shown control.Recording
	d.cliJSON(&shown, "show", rec.ID)
	if shown.ID != rec.ID || shown.File != rec.File {
		t.Errorf("show %s = %+v, want the search result %+v", rec.ID, shown, rec)
	}

	loc, err := time.LoadLocation(d.tz)
	if err != nil {
		t.Fatal(err)
	}
	local := rec.Start.In(loc)
	wantFile := fmt.Sprintf("records/%s/%s_%s_%s_%s_%s_%s.mp3.enc", local.Format("2006/01/02"),
		rec.ID, local.Format("20060102150405"), want.User, want.Extension, want.Remote, want.Direction)
	if rec.File != wantFile {
		t.Errorf("file = %q, want %q", rec.File, wantFile)
	}
	sealed, err := os.ReadFile(filepath.Join(d.data, filepath.FromSlash(rec.File)))
	if err != nil {
		t.Fatalf("sealed file: %v", err)
	}
	if int64(len(sealed)) != rec.Size {
		t.Errorf("size = %d, file has %d bytes", rec.Size, len(sealed))
	}

	out := filepath.Join(t.TempDir(), rec.ID+".mp3")
	d.cli("export", rec.ID, "-o", out)
	mp3, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkEncrypted(t, sealed, mp3, rec.ID)
	checkFormat(t, out, mp3, layout.channels())
	checkTags(t, out, rec, want, loc)
	checkSignals(t, out, layout, sentSeconds)
}

// stereo says which tone belongs on which channel; the zero value (mono)
// means one channel holding both.
type stereo struct{ left, right float64 }

var mono stereo

func (s stereo) channels() int {
	if s == mono {
		return 1
	}
	return 2
}

// checkEncrypted: nothing of the MP3 can be read in the file on disk.
func checkEncrypted(t *testing.T, sealed, mp3 []byte, id string) {
	t.Helper()
	audio, err := audioStart(mp3)
	if err != nil {
		t.Fatal(err)
	}
	for _, needle := range [][]byte{[]byte("ID3\x03\x00"), []byte(id), []byte("TIT2"), mp3[audio : audio+4], []byte("Info"), []byte("LAME")} {
		if bytes.Contains(sealed, needle) {
			t.Errorf("sealed file contains readable %q", needle)
		}
	}
}

// checkFormat: MPEG-2.5 Layer III, 8000 Hz, every frame 32 kbps (CBR), and
// the duration ffprobe reads is what was sent.
func checkFormat(t *testing.T, path string, mp3 []byte, channels int) {
	t.Helper()
	var probe struct {
		Streams []struct {
			CodecName  string `json:"codec_name"`
			SampleRate string `json:"sample_rate"`
			Channels   int    `json:"channels"`
			BitRate    string `json:"bit_rate"`
		} `json:"streams"`
		Format struct {
			Duration  string `json:"duration"`
			StartTime string `json:"start_time"`
		} `json:"format"`
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	if err := json.Unmarshal(out, &probe); err != nil || len(probe.Streams) != 1 {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	s := probe.Streams[0]
	if s.CodecName != "mp3" || s.SampleRate != "8000" || s.Channels != channels || s.BitRate != "32000" {
		t.Errorf("ffprobe stream = %+v, want mp3, 8000 Hz, %d channel(s), 32000 b/s", s, channels)
	}
	// ffprobe 5.1 reports the length of all frames: the audio plus LAME's
	// encoder delay (its start_time, read from the Info frame) and the
	// padding of the last frame. Net of the delay it must be what was sent.
	dur, _ := strconv.ParseFloat(probe.Format.Duration, 64)
	delay, _ := strconv.ParseFloat(probe.Format.StartTime, 64)
	t.Logf("ffprobe: duration %.3f s, start_time %.3f s", dur, delay)
	if delay <= 0 || delay > 0.2 || math.Abs(dur-delay-sentSeconds) > 0.2 {
		t.Errorf("ffprobe duration %.3f s - start_time %.3f s, want %.1f ± 0.2 s", dur, delay, sentSeconds)
	}

	start, err := audioStart(mp3)
	if err != nil {
		t.Fatal(err)
	}
	frames := 0
	for off := start; off < len(mp3); frames++ {
		h := binary.BigEndian.Uint32(mp3[off:])
		version, layer, bitrate, rate := (h>>19)&3, (h>>17)&3, (h>>12)&15, (h>>10)&3
		if h>>21 != 0x7FF || version != 0 || layer != 1 || bitrate != 4 || rate != 2 {
			t.Fatalf("frame %d at %d: header %08x is not MPEG-2.5 Layer III 32 kbps 8000 Hz", frames, off, h)
		}
		off += 72*32000/8000 + int((h>>9)&1)
	}
	if frames*576 < int(sentSeconds*8000) {
		t.Errorf("%d MPEG frames hold %d samples, want at least %d", frames, frames*576, int(sentSeconds*8000))
	}
}

// audioStart returns the offset of the first MPEG frame after the ID3 tag.
func audioStart(mp3 []byte) (int, error) {
	if len(mp3) < 10 || string(mp3[:3]) != "ID3" {
		return 0, fmt.Errorf("exported file does not start with an ID3 tag")
	}
	size := int(mp3[6])<<21 | int(mp3[7])<<14 | int(mp3[8])<<7 | int(mp3[9])
	if 10+size+4 > len(mp3) {
		return 0, fmt.Errorf("ID3 tag size %d runs past the file", size)
	}
	return 10 + size, nil
}

// checkTags: every frame of the ID3 table, ID3v2.3.
func checkTags(t *testing.T, path string, rec, want control.Recording, loc *time.Location) {
	t.Helper()
	tag, err := id3v2.Open(path, id3v2.Options{Parse: true})
	if err != nil {
		t.Fatalf("read id3: %v", err)
	}
	defer tag.Close()
	if tag.Version() != 3 {
		t.Errorf("ID3 version 2.%d, want 2.3", tag.Version())
	}
	local := rec.Start.In(loc)
	for id, v := range map[string]string{
		"TIT2": rec.ID, "TCOP": want.User, "TCOM": want.FullName, "TPE1": want.Extension,
		"TPE2": want.Remote, "TIT3": rec.Start.UTC().Format("2006-01-02T15:04:05"),
		"TYER": local.Format("2006"), "TDAT": local.Format("0201"), "TIME": local.Format("1504"),
		"TLEN": strconv.FormatInt(rec.DurationMS, 10), "TCON": want.Direction,
	} {
		if got := tag.GetTextFrame(id).Text; got != v {
			t.Errorf("ID3 %s = %q, want %q", id, got, v)
		}
	}
	if f := tag.GetFrames("TPE3"); len(f) != 0 {
		t.Errorf("ID3 TPE3 present without a screen recording")
	}
	if math.Abs(float64(rec.DurationMS)-sentSeconds*1000) > 200 {
		t.Errorf("duration_ms = %d, want %.0f ± 200", rec.DurationMS, sentSeconds*1000)
	}
}

// checkSignals decodes the MP3 with ffmpeg and looks for the two tones:
// both in the mono mix; in stereo, each alone on its channel. The decoded
// audio must last seconds (± 0.2 s).
func checkSignals(t *testing.T, path string, layout stereo, seconds float64) {
	t.Helper()
	chans := testaudio.Deinterleave(decode(t, path), layout.channels())
	if got := float64(len(chans[0])) / 8000; math.Abs(got-seconds) > 0.2 {
		t.Errorf("decoded audio lasts %.3f s, want %.3f ± 0.2 s", got, seconds)
	}
	for c, s := range chans {
		if len(s) > 8000 {
			chans[c] = s[2000 : len(s)-2000] // leave out the edges
		}
	}
	has := func(name string, s []int16, freq float64) bool {
		p, noise := testaudio.Power(s, freq, 8000), testaudio.Power(s, 700, 8000)
		t.Logf("%s: power at %.0f Hz = %.2e (at 700 Hz %.2e)", name, freq, p, noise)
		return p > 1e-3 && p > 100*noise
	}
	if layout == mono {
		for _, f := range []float64{toneLeg1, toneLeg2} {
			if !has("mono", chans[0], f) {
				t.Errorf("the %.0f Hz tone is missing from the mono mix", f)
			}
		}
		return
	}
	for c, want := range []struct{ on, off float64 }{{layout.left, layout.right}, {layout.right, layout.left}} {
		name := []string{"left", "right"}[c]
		if !has(name, chans[c], want.on) {
			t.Errorf("stereo: the %.0f Hz tone is missing from the %s channel", want.on, name)
		}
		if testaudio.Power(chans[c], want.off, 8000) > testaudio.Power(chans[c], want.on, 8000)/100 {
			t.Errorf("stereo: the %.0f Hz tone leaks into the %s channel", want.off, name)
		}
	}
}

// TestDrainSealsLiveCalls: SIGTERM during a call seals it and sends the
// gateway a BYE; after a restart on the same data the recording is there
// and new ids keep increasing.
func TestDrainSealsLiveCalls(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	s, gateway := d.setupAwaitingBye(callSpec{transport: "u1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	callID := s.keys["callid"]
	s.send("PCMU", 1)
	d.stop()
	checkByeReason(t, gateway(), 1, `SIP;cause=503;text="recorder shutting down"`)

	again := startDaemon(t, daemonOptions{recordUnknown: true, dir: d.dir})
	first := again.sealed(callID)
	if first.Status != "complete" || first.EndReason != "shutdown" || first.Extension != "5552000" || first.Remote != "5551000" || first.Direction != "IN" || first.User != "" {
		t.Errorf("drained recording = %+v, want complete (sealed in the drain, end_reason shutdown, not recovered), unknown user, ext 5552000, remote 5551000, IN", first)
	}
	if math.Abs(float64(first.DurationMS)-1000) > 200 {
		t.Errorf("drained recording lasts %d ms, want about 1000", first.DurationMS)
	}
	next := again.record(callSpec{scenario: "cube-invite.xml", transport: "u1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	if next.ID <= first.ID {
		t.Errorf("record id after restart %s is not above %s", next.ID, first.ID)
	}
}

// TestCodecChangeMidCall: CUBE changes the codec of a recorded call with a
// re-INVITE (PCMA to G.729, annexb=no); the recording carries on with the
// new codec on the same ports and holds both parts.
func TestCodecChangeMidCall(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	d.cli("users", "add", "john_doe", "--name", "John Doe", "--ext", "2501")
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "+15558201320", callee: "2501", codec: "PCMA"})
	before := s.ports
	s.send("PCMA", 2)
	paused := time.Now()
	d.sipp("reinvite-g729.xml", "t1", s.keys)
	s.ports = map[string]int{}
	s.checkLegs("G729")
	if s.ports["1"] != before["1"] || s.ports["2"] != before["2"] {
		t.Errorf("ports after the re-INVITE = %v, want the same as before, %v", s.ports, before)
	}
	gap := time.Since(paused)
	s.send("G729", 3)
	rec := s.hangUp()
	if rec.Codec != "PCMA,G729" || rec.Status != "complete" || rec.Direction != "IN" || rec.User != "john_doe" {
		t.Errorf("recording = %+v, want complete, codec PCMA,G729, IN, john_doe", rec)
	}
	// 5 s of audio and the pause while sipp sent the re-INVITE (the
	// recording keeps the wall-clock gap when the SSRC changes).
	if want := 5000 + gap.Milliseconds(); rec.DurationMS < want-300 || rec.DurationMS > want+300 {
		t.Errorf("duration_ms = %d, want 5 s of audio plus the %d ms re-INVITE pause", rec.DurationMS, gap.Milliseconds())
	}
	out := filepath.Join(t.TempDir(), rec.ID+".mp3")
	d.cli("export", rec.ID, "-o", out)
	pcm := decode(t, out)
	g711, g729 := pcm[4000:14000], pcm[len(pcm)-22000:len(pcm)-2000]
	for _, part := range []struct {
		name string
		pcm  []int16
	}{{"PCMA part", g711}, {"G.729 part", g729}} {
		for _, f := range []float64{toneLeg1, toneLeg2} {
			if p, noise := testaudio.Power(part.pcm, f, 8000), testaudio.Power(part.pcm, 700, 8000); p < 1e-3 || p < 100*noise {
				t.Errorf("%s: %.0f Hz power %.2e (700 Hz %.2e): tone missing", part.name, f, p, noise)
			}
		}
	}
}

// decode decodes an MP3 file with ffmpeg to 16-bit samples (interleaved
// when stereo).
func decode(t *testing.T, path string) []int16 {
	t.Helper()
	raw, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-acodec", "pcm_s16le", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg decode %s: %v", path, err)
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return pcm
}
