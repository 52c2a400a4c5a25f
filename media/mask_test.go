package media

import (
	"slices"
	"testing"
	"time"
)

// TestMaskCut: controls in, cuts of the timeline out, for each mode: the
// pieces of every cut, the file's pauses and the windows.
func TestMaskCut(t *testing.T) {
	type ctl struct {
		pos  int64
		kind ctlKind
	}
	type cut struct {
		pos  int64
		n    int
		want []piece
	}
	k, s, d := actKeep, actSilence, actDrop
	p := func(n int, a maskAct) piece { return piece{n: n, act: a} }
	for _, c := range []struct {
		name    string
		gated   bool
		ctls    []ctl
		cuts    []cut
		file    int64
		pauses  []sampleSpan
		windows []sampleSpan
	}{{
		name: "no controls",
		cuts: []cut{{0, 100, []piece{p(100, k)}}, {100, 50, []piece{p(50, k)}}},
		file: 150, windows: []sampleSpan{{0, 150}},
	}, {
		name:  "gated, never opened",
		gated: true,
		cuts:  []cut{{-20, 100, []piece{p(100, d)}}, {80, 4608, []piece{p(4608, d)}}},
	}, {
		name:  "gated, a window inside one cut",
		gated: true,
		ctls:  []ctl{{30, ctlOpen}, {70, ctlClose}},
		cuts:  []cut{{0, 100, []piece{p(30, d), p(40, k), p(30, d)}}},
		file:  40, windows: []sampleSpan{{30, 40}},
	}, {
		name:  "gated, a window across cuts, then another",
		gated: true,
		ctls:  []ctl{{50, ctlOpen}, {150, ctlClose}, {250, ctlOpen}},
		cuts: []cut{
			{0, 100, []piece{p(50, d), p(50, k)}},
			{100, 100, []piece{p(50, k), p(50, d)}},
			{200, 100, []piece{p(50, d), p(50, k)}},
			{300, 20, []piece{p(20, k)}},
		},
		file: 170, windows: []sampleSpan{{50, 100}, {250, 70}},
	}, {
		name:  "gated, opened before the first sample",
		gated: true,
		ctls:  []ctl{{noPos, ctlOpen}},
		cuts:  []cut{{-40, 100, []piece{p(100, k)}}},
		file:  100, windows: []sampleSpan{{-40, 100}},
	}, {
		name: "pause at a cut's boundary",
		ctls: []ctl{{100, ctlPause}, {200, ctlResume}},
		cuts: []cut{{0, 100, []piece{p(100, k)}}, {100, 100, []piece{p(100, s)}}, {200, 10, []piece{p(10, k)}}},
		file: 210, pauses: []sampleSpan{{100, 100}}, windows: []sampleSpan{{0, 210}},
	}, {
		name: "pause never resumed",
		ctls: []ctl{{60, ctlPause}},
		cuts: []cut{{0, 100, []piece{p(60, k), p(40, s)}}, {100, 100, []piece{p(100, s)}}},
		file: 200, pauses: []sampleSpan{{60, 140}}, windows: []sampleSpan{{0, 200}},
	}, {
		name: "repeated controls do nothing",
		ctls: []ctl{{10, ctlPause}, {20, ctlPause}, {30, ctlResume}, {40, ctlResume}, {50, ctlOpen}},
		cuts: []cut{{0, 100, []piece{p(10, k), p(20, s), p(70, k)}}},
		file: 100, pauses: []sampleSpan{{10, 20}}, windows: []sampleSpan{{0, 100}},
	}, {
		name: "pause and resume at one position: nothing",
		ctls: []ctl{{50, ctlPause}, {50, ctlResume}},
		cuts: []cut{{0, 100, []piece{p(100, k)}}},
		file: 100, windows: []sampleSpan{{0, 100}},
	}, {
		// Call: open 100-300 and from 500, paused 200-600. The file holds
		// 100-300 (200-300 silent) then 500-800 (500-600 silent): one
		// pause from file 100 to 300.
		name:  "a pause across a closed stretch is one span in the file",
		gated: true,
		ctls:  []ctl{{100, ctlOpen}, {200, ctlPause}, {300, ctlClose}, {500, ctlOpen}, {600, ctlResume}},
		cuts: []cut{
			{0, 400, []piece{p(100, d), p(100, k), p(100, s), p(100, d)}},
			{400, 400, []piece{p(100, d), p(100, s), p(200, k)}},
		},
		file: 500, pauses: []sampleSpan{{100, 200}}, windows: []sampleSpan{{100, 200}, {500, 300}},
	}, {
		name:  "a pause wholly while closed leaves nothing",
		gated: true,
		ctls:  []ctl{{10, ctlPause}, {20, ctlResume}, {50, ctlOpen}},
		cuts:  []cut{{0, 100, []piece{p(50, d), p(50, k)}}},
		file:  50, windows: []sampleSpan{{50, 50}},
	}, {
		name:  "paused, then opened: the window starts silent",
		gated: true,
		ctls:  []ctl{{noPos, ctlPause}, {40, ctlOpen}, {70, ctlResume}},
		cuts:  []cut{{0, 100, []piece{p(40, d), p(30, s), p(30, k)}}},
		file:  60, pauses: []sampleSpan{{0, 30}}, windows: []sampleSpan{{40, 60}},
	}, {
		name: "a pause silent at the end of one cut and the start of the next is one span",
		ctls: []ctl{{90, ctlPause}, {110, ctlResume}},
		cuts: []cut{{0, 100, []piece{p(90, k), p(10, s)}}, {100, 100, []piece{p(10, s), p(90, k)}}},
		file: 200, pauses: []sampleSpan{{90, 20}}, windows: []sampleSpan{{0, 200}},
	}} {
		t.Run(c.name, func(t *testing.T) {
			m := newMask(c.gated)
			for _, x := range c.ctls {
				m.add(x.pos, x.kind)
			}
			for _, x := range c.cuts {
				got := m.cut(x.pos, x.n)
				if !slices.Equal(got, x.want) {
					t.Fatalf("cut(%d, %d) = %v, want %v", x.pos, x.n, got, x.want)
				}
			}
			if m.file != c.file {
				t.Errorf("file = %d, want %d", m.file, c.file)
			}
			if !slices.Equal(m.pauses, c.pauses) {
				t.Errorf("pauses = %v, want %v", m.pauses, c.pauses)
			}
			if !slices.Equal(m.windows, c.windows) {
				t.Errorf("windows = %v, want %v", m.windows, c.windows)
			}
			var sum int64
			for _, w := range m.windows {
				sum += w.n
			}
			if sum != m.file {
				t.Errorf("windows hold %d samples, the file %d", sum, m.file)
			}
		})
	}
}

// TestMaskAddLate: a control for a position already cut applies from the
// next sample to cut; one before the control added before it applies
// where that one did. add reports whether a control changes anything.
func TestMaskAddLate(t *testing.T) {
	m := newMask(false)
	m.cut(0, 100)
	if !m.add(40, ctlPause) { // already cut: from 100
		t.Fatalf("pause: no change")
	}
	if m.add(300, ctlPause) {
		t.Errorf("second pause: a change")
	}
	if !m.add(20, ctlResume) { // before the pause: where the pause is
		t.Fatalf("resume: no change")
	}
	if !m.add(150, ctlPause) {
		t.Fatalf("pause again: no change")
	}
	want := []piece{{n: 50, act: actKeep}, {n: 50, act: actSilence}}
	if got := m.cut(100, 100); !slices.Equal(got, want) {
		t.Errorf("cut = %v, want %v", got, want)
	}
	if want := []sampleSpan{{150, 50}}; !slices.Equal(m.pauses, want) {
		t.Errorf("pauses = %v, want %v", m.pauses, want)
	}
	// What was cut is never rewritten: a control for the past applies
	// from 200.
	m.add(0, ctlResume)
	if got, want := m.cut(200, 10), []piece{{n: 10, act: actKeep}}; !slices.Equal(got, want) {
		t.Errorf("cut after a late resume = %v, want %v", got, want)
	}
	if want := []sampleSpan{{150, 50}}; !slices.Equal(m.pauses, want) {
		t.Errorf("pauses = %v, want %v", m.pauses, want)
	}
}

// TestMaskSpans: the account in time, from the file's start and from the
// call's origin; windows only for a gated mask, none placed before 0.
func TestMaskSpans(t *testing.T) {
	m := newMask(true)
	m.add(noPos, ctlOpen)
	m.add(8000, ctlPause)
	m.add(16000, ctlClose)
	m.add(24000, ctlOpen)
	const chunk = 4608
	for pos := int64(-80); pos < 40000; pos += chunk {
		m.cut(pos, chunk)
	}
	end := -80 + int64(9*chunk) // 41392
	ms := time.Millisecond
	// The file starts at -80: the pause at 8000 is 8080 samples in. It
	// runs to the Close and on through the second window, to the end.
	wantP := []Span{{At: 1010 * ms, Dur: samplesTime(8000 + end - 24000)}}
	if got := m.pauseSpans(); !slices.Equal(got, wantP) {
		t.Errorf("pauseSpans = %v, want %v", got, wantP)
	}
	wantW := []Span{{At: 0, Dur: 2010 * ms}, {At: 3 * time.Second, Dur: samplesTime(end - 24000)}}
	if got := m.windowSpans(); !slices.Equal(got, wantW) {
		t.Errorf("windowSpans = %v, want %v", got, wantW)
	}
	if m.file != 16080+end-24000 {
		t.Errorf("file = %d", m.file)
	}
	if e := newMask(true); e.windowSpans() != nil {
		t.Errorf("gated, nothing held: windowSpans = %v, want nil", e.windowSpans())
	}
	n := newMask(false)
	n.cut(0, 100)
	if got := n.windowSpans(); got != nil {
		t.Errorf("not gated: windowSpans = %v, want nil", got)
	}
	if got := n.pauseSpans(); got != nil {
		t.Errorf("no pause: pauseSpans = %v, want nil", got)
	}
}
