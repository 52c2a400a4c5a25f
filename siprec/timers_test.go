package siprec

import (
	"testing"
	"time"
)

func TestTimersResolved(t *testing.T) {
	t.Parallel()
	rfc := Timers{}.resolved()
	if rfc.T1 != 500*time.Millisecond || rfc.T2 != 4*time.Second || rfc.AckWait != 32*time.Second {
		t.Errorf("zero Timers resolve to T1 %v T2 %v AckWait %v, want 500ms 4s 32s", rfc.T1, rfc.T2, rfc.AckWait)
	}
	if got := rfc.SessionWait(1800 * time.Second); got != 1832*time.Second {
		t.Errorf("default SessionWait(1800 s) = %v, want 1832 s", got)
	}

	// The ACK wait follows T1; T2 is at least T1.
	if got := (Timers{T1: 10 * time.Millisecond}).resolved(); got.AckWait != 640*time.Millisecond || got.T2 != 4*time.Second {
		t.Errorf("T1 10ms resolves to AckWait %v T2 %v, want 640ms 4s", got.AckWait, got.T2)
	}
	if got := (Timers{T1: 6 * time.Second}).resolved(); got.T2 != 6*time.Second {
		t.Errorf("T1 6s resolves to T2 %v, want 6s", got.T2)
	}

	wait := func(time.Duration) time.Duration { return time.Minute }
	set := Timers{T1: time.Millisecond, T2: 3 * time.Millisecond, AckWait: time.Second, SessionWait: wait}.resolved()
	if set.T1 != time.Millisecond || set.T2 != 3*time.Millisecond || set.AckWait != time.Second || set.SessionWait(time.Hour) != time.Minute {
		t.Errorf("set Timers changed: %+v", set)
	}
}

// The 2xx retransmission intervals double from T1 and stay at T2
// (RFC 3261 13.3.1.4: 500 ms, 1 s, 2 s, 4 s, 4 s, ...).
func TestRetransmitSchedule(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		t1, t2 time.Duration
		want   []time.Duration
	}{
		{rfcT1, rfcT2, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}},
		{2 * time.Millisecond, 5 * time.Millisecond, []time.Duration{2 * time.Millisecond, 4 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond}},
	} {
		iv := tt.t1
		for i, want := range tt.want {
			if iv != want {
				t.Errorf("T1 %v T2 %v: interval %d is %v, want %v", tt.t1, tt.t2, i, iv, want)
			}
			iv = nextRetransmit(iv, tt.t2)
		}
	}
	// Over 64*T1 the RFC schedule sends the 2xx 1 + 10 times: at 0, 0.5,
	// 1.5, 3.5, 7.5, 11.5, ... 31.5 s.
	sent, at := 1, rfcT1
	for iv := rfcT1; at < 64*rfcT1; at += iv {
		sent++
		iv = nextRetransmit(iv, rfcT2)
	}
	if sent != 11 {
		t.Errorf("the RFC schedule sends the 2xx %d times within 64*T1, want 11", sent)
	}
}

// Each server runs its own timers: one whose sessions expire in
// milliseconds leaves alone another's that runs the RFC's, in the same
// process at the same time.
func TestTimersPerServer(t *testing.T) {
	t.Parallel()
	probe := newExpiryProbe(time.Hour)
	slow := startServerTimers(t, Timers{SessionWait: probe.expiry})
	fast := startServerTimers(t, Timers{SessionWait: func(time.Duration) time.Duration { return 10 * time.Millisecond }})

	cs := dialClient(t, "UDP", slow.udpAddr)
	slowTag := admitCall(t, slow, cs, "slow@10.10.1.20")
	recv(t, probe.intervals, "slow server's session timer")
	cf := dialClient(t, "UDP", fast.udpAddr)
	fastTag := admitCall(t, fast, cf, "fast@10.10.1.20")

	bye := cf.readRequest()
	checkBye(t, bye, cf.contact, "fast@10.10.1.20", fastTag, `SIP;cause=408;text="session expired"`)
	cf.respond(bye, 200)
	if e := recv(t, fast.rec.ends, "End"); e.reason != "session_expired" {
		t.Errorf("fast server: End reason %q, want session_expired", e.reason)
	}
	settle(t, fast)

	noMore(t, slow.rec.ends, "End on the slow server")
	if n := slow.srv.Sessions(); n != 1 {
		t.Fatalf("slow server: Sessions() = %d, want 1", n)
	}
	hangUp(t, slow, cs, "slow@10.10.1.20", slowTag)
	settle(t, slow)
}
