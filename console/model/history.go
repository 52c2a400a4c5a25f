package model

import "time"

// HistoryWindow is how far back the call rate history goes.
const HistoryWindow = 15 * time.Minute

// historyCap holds one point a second over the window.
const historyCap = int(HistoryWindow / time.Second)

// RatePoint is the call rate at one stats event: calls set up in the last
// whole second (CallRate.Last1s).
type RatePoint struct {
	At  time.Time
	CPS float64
}

// history is a ring of the last historyCap points, oldest first from
// start.
type history struct {
	points []RatePoint
	start  int
}

// add appends p unless it is not newer than the last point (a stats event
// seen again after a snapshot adds nothing).
func (h *history) add(p RatePoint) bool {
	if n := len(h.points); n > 0 && !p.At.After(h.at(n-1).At) {
		return false
	}
	if len(h.points) < historyCap {
		h.points = append(h.points, p)
		return true
	}
	h.points[h.start] = p
	h.start = (h.start + 1) % historyCap
	return true
}

func (h *history) at(i int) RatePoint { return h.points[(h.start+i)%len(h.points)] }

// since returns, oldest first, the points within HistoryWindow of the
// newest one (a disconnection leaves older points behind in the ring).
func (h *history) since() []RatePoint {
	n := len(h.points)
	if n == 0 {
		return nil
	}
	from := h.at(n - 1).At.Add(-HistoryWindow)
	out := make([]RatePoint, 0, n)
	for i := range n {
		if p := h.at(i); p.At.After(from) {
			out = append(out, p)
		}
	}
	return out
}
