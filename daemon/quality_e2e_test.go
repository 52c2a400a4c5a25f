package main

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// The audio-quality test of issue 6: speech-like audio sent through each
// codec over real UDP, clean and through impaired networks (the same
// packets lost, jittered, reordered, duplicated), recorded by the daemon,
// exported, decoded by ffmpeg and scored by segmental SNR
// (testaudio.Compare). The figures are in BENCHMARKS.md, "Audio quality".

const (
	// qualitySeconds of speech are sent per call.
	qualitySeconds = 7
	// qualitySeed seeds the impairments of the talking leg; the listening
	// leg takes the next one. Every network uses it, so the packets lost
	// under "loss" are those lost under "all", and so on.
	qualitySeed = 6
	// listenerStart is when the listening leg starts sending, after the
	// talking one, so that the talking leg's first packet always sets the
	// recording's origin. Were it a race, the talking leg could land a
	// sample later in one recording than in the other, and two MP3
	// encodings a sample apart differ everywhere by about 27 dB.
	listenerStart = 200 * time.Millisecond
)

// qualityNetworks are the networks each codec is recorded through: each
// impairment of testaudio.NetworkTrouble alone, then all of them. Seeds are
// set when they are applied.
var qualityNetworks = []struct {
	name string
	im   testaudio.Impairment
}{
	{"loss 1 %", testaudio.Impairment{Loss: 0.01}},
	{"jitter 40 ms", testaudio.Impairment{Jitter: 40 * time.Millisecond}},
	{"reorder 5 % within 60 ms", testaudio.Impairment{Reorder: 0.05, ReorderMax: 60 * time.Millisecond}},
	{"duplicates 1 %", testaudio.Impairment{Duplicate: 0.01}},
	{"all (NetworkTrouble)", testaudio.NetworkTrouble(0)},
}

// TestAudioQuality records the speech through each codec, on one daemon
// per codec, on calls that run at the same time: one clean and one per
// network of qualityNetworks. The talking leg (1) carries the speech; the
// listening leg (2) carries the codec's silence under the same impairment
// (another seed), as the other side of a call does. Each impaired
// recording is scored against the clean one, whose audio went through the
// same codec, mixer and encoder with no network; the clean one is scored
// against the speech sent.
func TestAudioQuality(t *testing.T) {
	testaudio.Require(t, "sipp", "ffmpeg")
	speech := testaudio.Speech(qualitySeconds*8000, 1)
	for _, c := range []struct {
		codec string
		// minSent is the least score of the clean recording against the
		// speech sent (23-24 dB for G.711, about 6 for G.729, which is not
		// a waveform coder): the clean recording holds the speech.
		minSent float64
		// minImpaired is the least score of each impaired recording
		// against the clean one. It stays well below the 35 dB of a
		// sample-exact recording: where the recorder places the audio a
		// few samples apart in the two recordings, MP3 alone differs by
		// 27-28 dB (media's TestLAMEShiftedScores), and a busy test machine
		// may delay a packet beyond the reorder window now and then. Lost,
		// misordered or foreign audio scores far lower.
		minImpaired float64
	}{
		{codec: "PCMU", minSent: 15, minImpaired: 22},
		{codec: "PCMA", minSent: 15, minImpaired: 22},
		{codec: "G729", minSent: 3, minImpaired: 20},
	} {
		t.Run(c.codec, func(t *testing.T) {
			t.Parallel() // each codec has its own daemon
			recs := recordThroughNetworks(t, c.codec, speech)
			sent, err := testaudio.Compare(speech, recs[0])
			if err != nil {
				t.Fatalf("clean recording against the speech sent: %v", err)
			}
			t.Logf("%s, clean, against the speech sent: %v", c.codec, sent)
			if sent.SegSNR < c.minSent {
				t.Errorf("%s: the clean recording scores %.1f dB against the speech sent, want at least %.0f dB", c.codec, sent.SegSNR, c.minSent)
			}
			for i, n := range qualityNetworks {
				s, err := testaudio.Compare(recs[0], recs[i+1])
				if err != nil {
					t.Fatalf("%s, %s, against clean: %v", c.codec, n.name, err)
				}
				t.Logf("%s, %s, against clean: %v", c.codec, n.name, s)
				if s.SegSNR < c.minImpaired {
					t.Errorf("%s, %s: %.1f dB against the clean recording, want at least %.0f dB; second by second: %.1f dB",
						c.codec, n.name, s.SegSNR, c.minImpaired, s.Seconds)
				}
			}
		})
	}
}

// recordThroughNetworks records speech through codec on one call per
// network, all at once: the first clean, then one per qualityNetworks. It
// returns the recordings decoded, in that order.
func recordThroughNetworks(t *testing.T, codec string, speech []int16) [][]int16 {
	t.Helper()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	c := codecs[codec]
	talk := testaudio.Packets(c.encode(speech), c.bytes)
	listen := testaudio.Packets(c.encode(make([]int16, len(speech))), c.bytes)
	for i := range listen {
		listen[i].At += listenerStart
	}
	networks := []testaudio.Impairment{{}} // clean
	for _, n := range qualityNetworks {
		networks = append(networks, n.im)
	}
	var g errgroup.Group
	play := func(s *session, label string, ssrc uint32, sched []testaudio.Scheduled, im testaudio.Impairment, seed uint64) {
		im.Seed = seed
		sched, err := im.Apply(sched)
		if err != nil {
			t.Fatal(err)
		}
		to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.ports[label]}
		g.Go(func() error { return testaudio.Play(to, c.pt, ssrc, sched) })
	}
	sessions := make([]*session, len(networks))
	for i := range sessions {
		sessions[i] = d.setup(callSpec{scenario: "cube-invite.xml", transport: "u1", caller: "5551000", callee: "5552000", codec: codec})
	}
	for i, s := range sessions {
		play(s, "1", s.ssrc+1, talk, networks[i], qualitySeed)
		play(s, "2", s.ssrc+2, listen, networks[i], qualitySeed+1)
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	pcm := make([][]int16, len(sessions))
	for i, s := range sessions {
		pcm[i] = exportedPCM(t, d, s.hangUp())
	}
	return pcm
}

// exportedPCM exports a recording and decodes it with ffmpeg.
func exportedPCM(t *testing.T, d *daemonProc, rec control.Recording) []int16 {
	t.Helper()
	if rec.Status != "complete" {
		t.Errorf("recording %s: status %q, want complete", rec.ID, rec.Status)
	}
	out := filepath.Join(t.TempDir(), rec.ID+".mp3")
	d.cli("export", rec.ID, "-o", out)
	return decode(t, out)
}
