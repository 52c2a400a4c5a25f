package model

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/callvault/callvault/daemon/control"
)

// BenchmarkApplyStats1000 is the console's share of the once-a-second
// stats event with 1,000 live calls: decoding its JSON (as the stream
// reader does) and applying it, every call's legs changed.
func BenchmarkApplyStats1000(b *testing.B) {
	m := New()
	var calls []control.Call
	var legs []control.CallLegs
	for i := range 1000 {
		id := fmt.Sprintf("c%04d@gw", i)
		calls = append(calls, control.Call{ID: id, Start: t0, Legs: []control.Leg{{Label: "1"}, {Label: "2"}}})
		legs = append(legs, control.CallLegs{ID: id, Legs: []control.Leg{
			{Label: "1", Port: 20000 + 2*i, Codec: "PCMA", Packets: 9000, Bytes: 1440000},
			{Label: "2", Port: 20001 + 2*i, Codec: "PCMA", Packets: 8990, Bytes: 1438400, LegCounters: control.LegCounters{Concealed: 3}}}})
	}
	m.Apply(snapshot(1, calls...))
	ev := stats(2, t0, 1)
	ev.Stats.Calls = legs
	body, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var e control.Event
		if err := json.Unmarshal(body, &e); err != nil {
			b.Fatal(err)
		}
		e.Seq = uint64(i + 2)
		e.Stats.Calls[0].Legs[0].Packets = uint64(i) // a change, always
		if !m.Apply(e).Has(ChangeCalls) {
			b.Fatal("no call changed")
		}
	}
}
