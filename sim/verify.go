package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/sim/mp3"
	"github.com/callvault/callvault/sim/report"
	"github.com/callvault/callvault/sim/tone"
)

// Verification limits: how long the recorder may take to index the
// sampled calls' recordings, how far a recording's length may stray from
// the call's, and in what share of its windows each leg's tone must be
// heard.
const (
	indexWait     = 30 * time.Second
	searchEvery   = 250 * time.Millisecond
	durationSlack = 500 * time.Millisecond
	minPresence   = 0.8
)

// verify exports cfg.Verify of the run's recordings through the control
// socket, decodes them and checks each.
func (s *simulator) verify(ctx context.Context, began time.Time) ([]report.Check, error) {
	sample := sample(s.results, s.cfg.Verify)
	if len(sample) == 0 {
		return nil, fmt.Errorf("no call went through: nothing to check")
	}
	client := &control.Client{Socket: s.cfg.Socket}
	recs, err := findRecordings(ctx, client, began, sample)
	if err != nil {
		return nil, err
	}
	var checks []report.Check
	for _, c := range sample {
		rec, ok := recs[c.callID]
		if !ok {
			checks = append(checks, report.Check{CallID: c.callID, Why: []string{"no recording of the call was indexed within " + indexWait.String()}})
			continue
		}
		var buf bytes.Buffer
		if err := client.Export(ctx, rec.ID, &buf); err != nil {
			checks = append(checks, report.Check{ID: rec.ID, CallID: c.callID, Why: []string{"export: " + err.Error()}})
			continue
		}
		audio, err := mp3.Decode(buf.Bytes())
		if err != nil {
			checks = append(checks, report.Check{ID: rec.ID, CallID: c.callID, Why: []string{err.Error()}})
			continue
		}
		ch := checkAudio(audio, c)
		ch.ID = rec.ID
		checks = append(checks, ch)
	}
	return checks, nil
}

// sample picks n of the calls that went through, spread over the run
// and, where it can, each with other tones than the one before: the k-th
// pick moves on to a call whose index is k modulo 8 (tones repeat every 8
// calls).
func sample(results []callResult, n int) []callResult {
	var ok []callResult
	for _, c := range results {
		if c.answered && c.failure == "" {
			ok = append(ok, c)
		}
	}
	slices.SortFunc(ok, func(a, b callResult) int { return a.index - b.index })
	if n >= len(ok) {
		return ok
	}
	out := make([]callResult, n)
	for k := range out {
		j := k * len(ok) / n
		if moved := j + (k-ok[j].index%8+8)%8; moved < len(ok) {
			j = moved
		}
		out[k] = ok[j]
	}
	return out
}

// findRecordings waits until the recorder has indexed a recording of
// each call (by its Call-ID) or indexWait has passed, and returns those
// it found.
func findRecordings(ctx context.Context, client *control.Client, began time.Time, calls []callResult) (map[string]control.Recording, error) {
	want := map[string]bool{}
	for _, c := range calls {
		want[c.callID] = true
	}
	found := map[string]control.Recording{}
	deadline := time.Now().Add(indexWait)
	tick := time.NewTicker(searchEvery)
	defer tick.Stop()
	for {
		q := control.Query{From: began.Add(-time.Minute), Limit: control.MaxLimit}
		for {
			recs, next, err := client.SearchPage(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, r := range recs {
				if want[r.CallID] {
					found[r.CallID] = r
				}
			}
			if next == "" || len(found) == len(want) {
				break
			}
			q.Cursor = next
		}
		if len(found) == len(want) || time.Now().After(deadline) {
			return found, nil
		}
		select {
		case <-ctx.Done():
			return found, ctx.Err()
		case <-tick.C:
		}
	}
}

// checkAudio checks a decoded recording against its call: as long as the
// call's audio (within durationSlack), and each leg's tone heard in most
// of it - both in the one channel of a mono mix, or one in each channel
// of a stereo file.
func checkAudio(a mp3.Audio, c callResult) report.Check {
	got := time.Duration(a.Seconds() * float64(time.Second))
	ch := report.Check{CallID: c.callID, DurationMS: got.Milliseconds(), ExpectedMS: c.audio.Milliseconds()}
	if d := got - c.audio; d > durationSlack || d < -durationSlack {
		ch.Why = append(ch.Why, fmt.Sprintf("%.2f s of audio for a call of %.2f s", got.Seconds(), c.audio.Seconds()))
	}
	if a.Rate != tone.Rate {
		ch.Why = append(ch.Why, fmt.Sprintf("sample rate %d Hz, want %d", a.Rate, tone.Rate))
	}
	for leg, f := range c.tones {
		best := 0.0
		for _, samples := range a.Channels {
			best = math.Max(best, tone.Presence(samples, f))
		}
		ch.Tones = append(ch.Tones, report.Tone{Hz: f, Presence: math.Round(best*1000) / 1000})
		if best < minPresence {
			ch.Why = append(ch.Why, fmt.Sprintf("leg %d's %.0f Hz heard in %.0f%% of the recording, want %.0f%%", leg+1, f, 100*best, 100*minPresence))
		}
	}
	if len(a.Channels) == 2 {
		for leg, f := range c.tones {
			if tone.Presence(a.Channels[0], f) >= minPresence && tone.Presence(a.Channels[1], f) >= minPresence {
				ch.Why = append(ch.Why, fmt.Sprintf("leg %d's %.0f Hz on both channels of a stereo file", leg+1, f))
			}
		}
	}
	ch.Pass = len(ch.Why) == 0
	return ch
}
