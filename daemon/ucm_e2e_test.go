package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// ucmSpec is a recorded line's call as Cisco UCM's recording calls
// describe it: the halves UCM places, in order, the numbers of either end
// and their call legs (UCM's CIs: the lower one called).
type ucmSpec struct {
	transport       string   // sipp -t: u1 or t1
	halves          []string // "near", "far", in the order placed; one alone for a lone half
	near, far       string
	refci, farRefci string
	// delayed: the INVITEs carry no SDP, the ACKs answer our offer with
	// codec (PCMU when empty); else they offer PCMU.
	delayed bool
	codec   string
}

// ucmHalf is one half sipp set up: its dialog, the phone's RTP socket and
// the recorder's port for it.
type ucmHalf struct {
	callID, fromTag, toTag string
	conn                   *net.UDPConn // the phone's built-in bridge, sending this voice
	port                   int          // the recorder's RTP port of the half's leg
}

// ucmCall is a UCM recording set up by sipp.
type ucmCall struct {
	d      *daemonProc
	spec   ucmSpec
	keys   map[string]string // the keys both halves share
	halves map[string]*ucmHalf
}

// ucmGap is how far apart sipp places the two halves (UCM: 5-50 ms).
const ucmGap = 20 * time.Millisecond

// placeUCM has one sipp run place the spec's halves ucmGap apart (one
// scenario, one call per half, each reading its role from an injection
// file), then waits until the daemon lists one live call with a leg per
// half.
func (d *daemonProc) placeUCM(spec ucmSpec) *ucmCall {
	d.t.Helper()
	if spec.codec == "" {
		spec.codec = "PCMU"
	}
	c := &ucmCall{d: d, spec: spec, halves: map[string]*ucmHalf{},
		keys: map[string]string{"nearaddr": spec.near, "faraddr": spec.far, "refci": spec.refci, "farrefci": spec.farRefci,
			"codecpt": strconv.Itoa(int(codecs[spec.codec].pt)), "codecname": spec.codec}}
	inf := "SEQUENTIAL\n"
	for _, role := range spec.halves {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			d.t.Fatal(err)
		}
		d.t.Cleanup(func() { conn.Close() })
		h := &ucmHalf{fromTag: fmt.Sprintf("%s%d~%d", role, os.Getpid(), time.Now().UnixNano()), conn: conn}
		c.halves[role] = h
		inf += fmt.Sprintf("%s;%s;%d\n", role, h.fromTag, conn.LocalAddr().(*net.UDPAddr).Port)
	}
	cid := fmt.Sprintf("ucm-%d-%%u@127.0.0.1", time.Now().UnixNano())
	scenario := "ucm-invite.xml"
	if spec.delayed {
		scenario = "ucm-invite-delayed.xml"
	}
	logs := d.sippInjected(scenario, spec.transport, inf, cid, len(spec.halves), ucmGap, c.keys)
	for _, m := range regexp.MustCompile(`HALF (\w+) CALLID (\S+) TOTAG (\S+)`).FindAllStringSubmatch(logs, -1) {
		if h := c.halves[m[1]]; h != nil {
			h.callID, h.toTag = m[2], m[3]
		}
	}
	for role, h := range c.halves {
		if h.toTag == "" {
			d.t.Fatalf("sipp logged no dialog for the %s half:\n%s", role, logs)
		}
	}
	live := c.live(len(spec.halves))
	for _, l := range live.Legs {
		if h := c.halves[l.Label]; h != nil {
			h.port = l.Port
		}
	}
	return c
}

// sippInjected runs a scenario for calls calls, one every gap, each
// reading a line of inf (sipp -inf), with Call-IDs from the pattern cid
// (-cid_str; %u is the call's number), and returns its <log>s.
func (d *daemonProc) sippInjected(scenario, transport, inf, cid string, calls int, gap time.Duration, keys map[string]string) string {
	d.t.Helper()
	dir := d.t.TempDir()
	infFile, logFile, errFile := filepath.Join(dir, "halves.csv"), filepath.Join(dir, "actions.log"), filepath.Join(dir, "errors.log")
	if err := os.WriteFile(infFile, []byte(inf), 0o644); err != nil {
		d.t.Fatal(err)
	}
	n := strconv.Itoa(calls)
	args := []string{
		"-sf", filepath.Join("testdata", "sipp", scenario), "-inf", infFile, "-cid_str", cid,
		"-m", n, "-l", n, "-r", "1", "-rp", strconv.Itoa(int(gap / time.Millisecond)), "-t", transport, "-nostdin",
		"-i", "127.0.0.1", "-p", strconv.Itoa(testaudio.SIPPort(d.t)), "-timeout", "60s", "-timeout_error", "-recv_timeout", "10s",
		"-trace_err", "-error_file", errFile, "-trace_logs", "-log_file", logFile,
	}
	for k, v := range keys {
		args = append(args, "-key", k, v)
	}
	args = append(args, fmt.Sprintf("127.0.0.1:%d", d.sipPort))
	ctx, cancel := context.WithTimeout(context.Background(), 70*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sipp", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		errs, _ := os.ReadFile(errFile)
		d.t.Fatalf("sipp %s over %s: %v\n%s\nerrors:\n%s", scenario, transport, err, tail(out.String(), 3000), errs)
	}
	logs, _ := os.ReadFile(logFile)
	return string(logs)
}

// id is the Call-ID the call is known by: its near half's, else its
// only half's.
func (c *ucmCall) id() string {
	if h := c.halves["near"]; h != nil {
		return h.callID
	}
	return c.halves["far"].callID
}

// live waits until the daemon lists the call with legs legs and returns
// it.
func (c *ucmCall) live(legs int) control.Call {
	c.d.t.Helper()
	var found control.Call
	c.d.until(10*time.Second, fmt.Sprintf("the UCM call listed by `callvault calls` with %d legs", legs), func() bool {
		var calls []control.Call
		c.d.cliJSON(&calls, "calls")
		for _, call := range calls {
			if call.ID == c.id() && len(call.Legs) == legs {
				found = call
				return true
			}
		}
		return false
	})
	return found
}

// send streams each half's voice for seconds, in real time: the near end
// (the agent) the 400 Hz tone, the far end the 1000 Hz one.
func (c *ucmCall) send(seconds float64) {
	c.d.t.Helper()
	n := int(seconds * 8000)
	tones := map[string]float64{"near": toneLeg1, "far": toneLeg2}
	codec := codecs[c.spec.codec]
	var streams []testaudio.Stream
	for role, h := range c.halves {
		streams = append(streams, testaudio.Stream{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: h.port}, Conn: h.conn,
			PT: codec.pt, PacketBytes: codec.bytes, SSRC: uint32(0x5000 + len(streams)), Payload: codec.encode(testaudio.Tone(tones[role], 8000, n, 12000))})
	}
	if err := testaudio.SendPaced(streams); err != nil {
		c.d.t.Fatal(err)
	}
}

// halfKeys are the keys of an in-dialog request of a half.
func (c *ucmCall) halfKeys(role string, extra map[string]string) map[string]string {
	h := c.halves[role]
	keys := map[string]string{"callid": h.callID, "fromtag": h.fromTag, "totag": h.toTag, "role": role,
		"rtpport": strconv.Itoa(h.conn.LocalAddr().(*net.UDPAddr).Port)}
	for k, v := range c.keys {
		keys[k] = v
	}
	for k, v := range extra {
		keys[k] = v
	}
	return keys
}

// hangUp sends each half's BYE, the far end's first, and waits for the
// one recording.
func (c *ucmCall) hangUp() control.Recording {
	c.d.t.Helper()
	for _, role := range []string{"far", "near"} {
		if c.halves[role] != nil {
			c.d.sipp("bye.xml", c.spec.transport, c.halfKeys(role, nil))
		}
	}
	return c.d.sealed(c.id())
}

// TestUCMCallStereo: a line recorded by UCM's built-in bridge over a TCP
// trunk. The near end's recording call comes first, the far end's 20 ms
// later: one live call, one file with both voices, the agent on the left;
// a transfer reported by an UPDATE in one half and a re-INVITE in the
// other is listed in the participants. The customer's call leg is the
// older (lower CI): an inbound call.
func TestUCMCallStereo(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{stereo: true})
	d.cli("users", "add", "jane_agent", "--name", "Jane Agent", "--ext", "2000")
	c := d.placeUCM(ucmSpec{transport: "t1", halves: []string{"near", "far"}, near: "2000", far: "+14085550100",
		refci: "25139262", farRefci: "25139261"})

	// The customer transfers to 3000 (in another cluster): UCM tells both
	// recording calls, one by UPDATE, the other by re-INVITE.
	moved := map[string]string{"faraddr": "3000", "farrefci": "25139270", "seq": "102"}
	d.sipp("ucm-update.xml", "t1", c.halfKeys("near", moved))
	if logs := d.sipp("ucm-reinvite.xml", "t1", c.halfKeys("far", moved)); !strings.Contains(logs, "ANSWER port "+strconv.Itoa(c.halves["far"].port)) {
		t.Errorf("re-INVITE of the far half answered on another port than %d: %s", c.halves["far"].port, logs)
	}
	live := c.live(2)
	if len(live.Participants) != 3 || live.Participants[0].Left.IsZero() || live.Participants[2].AOR != "sip:3000@127.0.0.1" {
		t.Errorf("participants after the transfer = %+v; want the customer with a leaving time, the agent, 3000", live.Participants)
	}

	c.send(sentSeconds)
	rec := c.hangUp()
	want := control.Recording{User: "jane_agent", FullName: "Jane Agent", Extension: "2000", Remote: "3000", Direction: "IN",
		Status: "complete", Codec: "PCMU"}
	checkRecording(t, d, rec, want, stereo{left: toneLeg1, right: toneLeg2})
	if rec.UCMHalf != "" || len(rec.Legs) != 2 || rec.CallID != c.halves["near"].callID {
		t.Errorf("recording ucm_half %q, legs %+v, call id %q: want both halves, the near half's Call-ID", rec.UCMHalf, rec.Legs, rec.CallID)
	}
	if ps := rec.Participants; len(ps) != 3 || ps[0].AOR != "sip:+14085550100@127.0.0.1" || ps[0].Left.IsZero() ||
		ps[1].AOR != "sip:2000@127.0.0.1" || ps[2].Joined.Before(ps[0].Joined) || !ps[2].Left.IsZero() {
		t.Errorf("recording's participants = %+v; want the customer (left), the agent, 3000 (joined later)", ps)
	}
	var all []control.Recording
	d.cliJSON(&all, "search")
	if len(all) != 1 {
		t.Errorf("%d recordings, want one for the two recording calls", len(all))
	}
}

// TestUCMFarFirstAndLoneHalf: over UDP, the far end's recording call
// comes before the near end's: still one call, both voices in the mono
// mix, an outbound call (the agent's leg is older). Then a recording call
// whose partner never comes is recorded alone and marked; the status
// counts two calls.
func TestUCMFarFirstAndLoneHalf(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	d.cli("users", "add", "jane_agent", "--name", "Jane Agent", "--ext", "2000")
	c := d.placeUCM(ucmSpec{transport: "u1", halves: []string{"far", "near"}, near: "2000", far: "915551234567",
		refci: "38960749", farRefci: "38960750"})
	c.send(sentSeconds)
	rec := c.hangUp()
	want := control.Recording{User: "jane_agent", FullName: "Jane Agent", Extension: "2000", Remote: "915551234567", Direction: "OUT",
		Status: "complete", Codec: "PCMU"}
	checkRecording(t, d, rec, want, mono)

	lone := d.placeUCM(ucmSpec{transport: "u1", halves: []string{"far"}, near: "2000", far: "1000",
		refci: "38960800", farRefci: "38960799"})
	lone.send(2)
	got := lone.hangUp()
	var shown control.Recording
	d.cliJSON(&shown, "show", got.ID)
	if shown.UCMHalf != "far" || got.User != "jane_agent" || got.Remote != "1000" || got.Direction != "IN" || len(got.Legs) != 1 {
		t.Errorf("lone half recording = %+v; want jane_agent's IN call from 1000 with one leg, ucm_half far", shown)
	}
	if out := d.cli("show", got.ID); !strings.Contains(out, "far only") {
		t.Errorf("callvault show does not say the recording holds one half:\n%s", out)
	}
	pcm := decode(t, exportAudio(t, d, got))
	if p := testaudio.Power(pcm[4000:len(pcm)-4000], toneLeg2, 8000); p < 1e-3 {
		t.Errorf("the far end's voice is missing from the lone half's recording: power %.2e", p)
	}
	var st control.Status
	d.cliJSON(&st, "status")
	if st.CallsTotal != 2 {
		t.Errorf("calls_total %d, want 2: a pair of recording calls is one call", st.CallsTotal)
	}
}

// TestUCMDelayedOffer: a UCM trunk without early offer. Both recording
// calls come without SDP; callvault offers, UCM answers PCMA in the ACKs,
// with the real source of each stream: with latch off, RTP sent to the
// near leg from elsewhere first is dropped, not latched on. One file,
// both voices, codec PCMA only.
func TestUCMDelayedOffer(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{stereo: true, strictSource: true})
	d.cli("users", "add", "jane_agent", "--name", "Jane Agent", "--ext", "2000")
	c := d.placeUCM(ucmSpec{transport: "u1", halves: []string{"near", "far"}, near: "2000", far: "5551000",
		refci: "27298698", farRefci: "27298699", delayed: true, codec: "PCMA"})
	stranger := testaudio.Stream{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: c.halves["near"].port}, PT: 8, SSRC: 0x666,
		Payload: make([]byte, 5*160)}
	if err := testaudio.SendPaced([]testaudio.Stream{stranger}); err != nil {
		t.Fatal(err)
	}
	c.send(sentSeconds)
	rec := c.hangUp()
	want := control.Recording{User: "jane_agent", FullName: "Jane Agent", Extension: "2000", Remote: "5551000", Direction: "OUT",
		Status: "complete", Codec: "PCMA"}
	checkRecording(t, d, rec, want, stereo{left: toneLeg1, right: toneLeg2})
	for _, l := range rec.Legs {
		if want := map[string]uint64{"near": 5}[l.Label]; l.ForeignSource != want {
			t.Errorf("leg %s dropped %d packets from a foreign source, want %d: the answer's source was not taken", l.Label, l.ForeignSource, want)
		}
	}
}
