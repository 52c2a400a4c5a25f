package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/sim/mp3"
	"github.com/callvault/callvault/sim/tone"
)

func TestParseFlagsDefaultsAndChecks(t *testing.T) {
	c, err := parseFlags([]string{"-target", "127.0.0.1:5060", "-calls", "3", "-codec", "G729", "-owners", "2501"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 3 || c.Codec.Name != "G729" || c.owner(7) != "2501" || c.LocalIP.String() != "127.0.0.1" || c.Transport != "udp" {
		t.Errorf("config %+v", c)
	}
	for _, bad := range [][]string{
		{},
		{"-target", "nowhere"},
		{"-target", "127.0.0.1:5060", "-transport", "sctp"},
		{"-target", "127.0.0.1:5060", "-codec", "opus"},
		{"-target", "127.0.0.1:5060", "-owners", "2999-2000"},
		{"-target", "127.0.0.1:5060", "-rtp-ports", "40000-40001"},
		{"-target", "127.0.0.1:5060", "-calls", "0"},
		{"-target", "127.0.0.1:5060", "extra"},
	} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("flags %q accepted", bad)
		}
	}
}

func TestOwnersAndRemotesInTurn(t *testing.T) {
	c := config{OwnerLo: 2000, OwnerHi: 2002, Remote: "+1555###"}
	var owners []string
	for i := range 4 {
		owners = append(owners, c.owner(i))
	}
	if strings.Join(owners, ",") != "2000,2001,2002,2000" {
		t.Errorf("owners %v", owners)
	}
	for i, want := range map[int]string{7: "+1555007", 1234: "+1555234"} {
		if got := c.remote(i); got != want {
			t.Errorf("remote(%d) = %q, want %q", i, got, want)
		}
	}
	c.Remote = "100"
	if c.remote(5) != "100" {
		t.Error("a pattern without # changed")
	}
}

func TestCheckAudio(t *testing.T) {
	f1, f2 := tone.ForCall(2)
	call := callResult{callID: "x", audio: 2 * time.Second, tones: [2]float64{f1, f2}}
	a, b := tone.Sine(f1, 2*tone.Rate, tone.Amplitude/2), tone.Sine(f2, 2*tone.Rate, tone.Amplitude/2)
	mix := make([]int16, len(a))
	for i := range a {
		mix[i] = a[i] + b[i]
	}
	if ch := checkAudio(mp3.Audio{Rate: 8000, Channels: [][]int16{mix}}, call); !ch.Pass {
		t.Errorf("a right mono mix failed: %v", ch.Why)
	}
	if ch := checkAudio(mp3.Audio{Rate: 8000, Channels: [][]int16{b, a}}, call); !ch.Pass {
		t.Errorf("a right stereo file failed: %v", ch.Why)
	}
	if ch := checkAudio(mp3.Audio{Rate: 8000, Channels: [][]int16{a}}, call); ch.Pass || !strings.Contains(strings.Join(ch.Why, ";"), "leg 2") {
		t.Errorf("a recording without leg 2 passed: %v", ch.Why)
	}
	if ch := checkAudio(mp3.Audio{Rate: 8000, Channels: [][]int16{mix, mix}}, call); ch.Pass {
		t.Error("a stereo file with both legs on both sides passed")
	}
	long := call
	long.audio = 3 * time.Second
	if ch := checkAudio(mp3.Audio{Rate: 8000, Channels: [][]int16{mix}}, long); ch.Pass {
		t.Error("2 s of audio for a 3 s call passed")
	}
}

func TestSampleSpreadsOverCallsAndTones(t *testing.T) {
	var results []callResult
	for i := range 200 {
		results = append(results, callResult{index: 199 - i, answered: true})
	}
	results[0].failure = "503" // call 199 did not go through
	got := sample(results, 5)
	tones := map[float64]bool{}
	for _, c := range got {
		if c.index == 199 {
			t.Error("a failed call was sampled")
		}
		f, _ := tone.ForCall(c.index)
		tones[f] = true
	}
	if len(got) != 5 || len(tones) != 5 || got[0].index != 0 || got[4].index < 150 {
		t.Errorf("sampled %+v", got)
	}
	if len(sample(results[:3], 5)) != 2 {
		t.Error("asking for more than went through did not give all that did")
	}
}
