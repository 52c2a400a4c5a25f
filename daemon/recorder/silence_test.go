package recorder

import (
	"testing"
	"time"
)

func TestSilentTooLong(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	const timeout, hold = 60 * time.Second, 2 * time.Hour
	cases := []struct {
		name string
		legs []legActivity
		now  time.Duration
		want bool
	}{
		{"both legs recent", []legActivity{{last: t0}, {last: t0}}, 10 * time.Second, false},
		{"one leg still sending", []legActivity{{last: t0}, {last: t0.Add(50 * time.Second)}}, 70 * time.Second, false},
		{"both silent past the timeout", []legActivity{{last: t0}, {last: t0.Add(5 * time.Second)}}, 66 * time.Second, true},
		{"exactly at the timeout", []legActivity{{last: t0}}, 60 * time.Second, true},
		{"held legs wait for hold_timeout", []legActivity{{last: t0, held: true}, {last: t0, held: true}}, 3 * time.Minute, false},
		{"held too long", []legActivity{{last: t0, held: true}}, 2*time.Hour + time.Second, true},
		{"one held, one silent", []legActivity{{last: t0, held: true}, {last: t0}}, 5 * time.Minute, false},
		{"no legs", nil, 24 * time.Hour, false},
	}
	for _, c := range cases {
		if got := silentTooLong(c.legs, t0.Add(c.now), timeout, hold); got != c.want {
			t.Errorf("%s: silentTooLong = %v, want %v", c.name, got, c.want)
		}
	}
	if silentTooLong([]legActivity{{last: t0}}, t0.Add(time.Hour), 0, hold) {
		t.Error("a zero timeout ends calls")
	}
}

func TestHeldDirection(t *testing.T) {
	for dir, want := range map[string]bool{"inactive": true, "recvonly": true, "sendonly": false, "sendrecv": false, "": false} {
		if heldDirection(dir) != want {
			t.Errorf("heldDirection(%q) = %v", dir, !want)
		}
	}
}
