package media

// maskAct is what the mask does with a piece of the mixed audio.
type maskAct uint8

const (
	actKeep    maskAct = iota // the audio goes to the encoder
	actSilence                // zeros go in its place: a PCI pause
	actDrop                   // nothing goes: outside an On Demand window
)

// ctlKind is a control of a recording's mode.
type ctlKind uint8

const (
	ctlOpen   ctlKind = iota // On Demand: keep the audio from here on
	ctlClose                 // On Demand: drop it from here on
	ctlPause                 // PCI: silence from here on
	ctlResume                // PCI: audio again
)

// control is a control that applies from position pos of the timeline.
type control struct {
	pos  int64
	kind ctlKind
}

// piece is a run of n samples (per channel) that the mask treats as act.
type piece struct {
	n   int
	act maskAct
}

// sampleSpan is a run of n samples from position at.
type sampleSpan struct{ at, n int64 }

// mask applies a recording's mode controls (On Demand windows, PCI pauses)
// to the mixed audio as it passes to the encoder. Controls are added with
// the timeline position they apply from; the mixer emits audio later than
// that (it waits for the reorder window), so they wait in a list until
// cut reaches their position, and a block of audio that holds one is cut
// there. The audio outside the open windows is dropped: the file holds
// the windows joined, without the gaps. The audio of a pause is replaced
// by zeros, so the file keeps real time there.
//
// A control applies at its position, or later: never before the control
// added before it (they apply in the order they were added), and never
// before the next sample to be cut, since what was cut has gone to the
// encoder and is not rewritten. Controls that would change nothing (Open
// when the last control left the recording open, Pause when it left it
// paused) are ignored.
//
// The mask also keeps the account of the file it makes: how many samples
// it holds, where its pauses lie in it, and which stretches of the
// timeline its windows hold.
//
// It is pure: positions in, pieces out; no clock and no lock.
type mask struct {
	gated bool // started closed: an On Demand recording

	ctl          []control // waiting for cut to reach them, in order
	open, paused bool      // at next
	next         int64     // position of the next sample to cut; noPos before the first cut
	// After every control added: what decides whether a new one changes
	// anything, and where the next may apply from at the earliest.
	lastOpen, lastPaused bool
	floor                int64

	file    int64        // samples per channel kept or silenced so far
	pauses  []sampleSpan // silenced runs, as positions in the file
	windows []sampleSpan // kept or silenced runs, as positions in the timeline

	pieces []piece // cut's result, reused
}

// newMask returns the mask of a recording that starts open, or closed if
// gated.
func newMask(gated bool) mask {
	return mask{gated: gated, open: !gated, lastOpen: !gated, next: noPos, floor: noPos}
}

// add applies control kind from position pos (noPos: from the first
// sample), or from the earliest position after pos it may apply from. It
// reports whether the control changes anything; one that does not is
// dropped.
func (m *mask) add(pos int64, kind ctlKind) bool {
	switch kind {
	case ctlOpen, ctlClose:
		if open := kind == ctlOpen; open != m.lastOpen {
			m.lastOpen = open
		} else {
			return false
		}
	case ctlPause, ctlResume:
		if paused := kind == ctlPause; paused != m.lastPaused {
			m.lastPaused = paused
		} else {
			return false
		}
	default:
		return false
	}
	pos = max(pos, m.floor, m.next)
	m.floor = pos
	m.ctl = append(m.ctl, control{pos: pos, kind: kind})
	return true
}

// apply changes the state at the cut point.
func (m *mask) apply(kind ctlKind) {
	switch kind {
	case ctlOpen:
		m.open = true
	case ctlClose:
		m.open = false
	case ctlPause:
		m.paused = true
	case ctlResume:
		m.paused = false
	}
}

// act is what the mask does with audio at the cut point.
func (m *mask) act() maskAct {
	switch {
	case !m.open:
		return actDrop
	case m.paused:
		return actSilence
	}
	return actKeep
}

// cut returns what to do with the n samples (per channel) of the timeline
// from position pos, the ones after those of the previous cut: pieces
// that add up to n, in order, adjacent ones of the same act merged. The
// result is valid until the next call.
func (m *mask) cut(pos int64, n int) []piece {
	m.pieces = m.pieces[:0]
	end := pos + int64(n)
	for pos < end {
		for len(m.ctl) > 0 && m.ctl[0].pos <= pos {
			m.apply(m.ctl[0].kind)
			m.ctl = m.ctl[1:]
		}
		stop := end
		if len(m.ctl) > 0 {
			stop = min(stop, m.ctl[0].pos)
		}
		m.take(pos, int(stop-pos))
		pos = stop
	}
	m.next = end
	return m.pieces
}

// take adds a piece of n samples from position pos under the current
// state, and accounts for it.
func (m *mask) take(pos int64, n int) {
	a := m.act()
	if k := len(m.pieces); k > 0 && m.pieces[k-1].act == a {
		m.pieces[k-1].n += n
	} else {
		m.pieces = append(m.pieces, piece{n: n, act: a})
	}
	if a == actDrop {
		return
	}
	m.windows = extend(m.windows, pos, int64(n))
	if a == actSilence {
		m.pauses = extend(m.pauses, m.file, int64(n))
	}
	m.file += int64(n)
}

// extend adds the run of n from at to spans, as part of the last span when
// it follows it directly.
func extend(spans []sampleSpan, at, n int64) []sampleSpan {
	if k := len(spans); k > 0 && spans[k-1].at+spans[k-1].n == at {
		spans[k-1].n += n
		return spans
	}
	return append(spans, sampleSpan{at: at, n: n})
}

// pauseSpans returns the silenced stretches of the file, from its start;
// nil when there are none. A pause cut in two by a closed window is one
// span: its two parts follow each other in the file.
func (m *mask) pauseSpans() []Span {
	var out []Span
	for _, s := range m.pauses {
		out = append(out, Span{At: samplesTime(s.at), Dur: samplesTime(s.n)})
	}
	return out
}

// windowSpans returns the stretches of the timeline the file holds, from
// its origin, for a gated mask; nil for one that is not, or that holds
// nothing. Their lengths add up to the file's. A window that holds audio
// placed before the origin (the first packets' placement may put a few
// milliseconds there) begins at 0.
func (m *mask) windowSpans() []Span {
	if !m.gated {
		return nil
	}
	var out []Span
	for _, s := range m.windows {
		out = append(out, Span{At: samplesTime(max(s.at, 0)), Dur: samplesTime(s.n)})
	}
	return out
}
