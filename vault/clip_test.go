package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestClipString(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 4, ""},
		{"abcd", 4, "abcd"},
		{"abcde", 4, "abcd"},
		{"abcé", 4, "abc"},              // é is 2 bytes: not split
		{"ab€", 4, "ab"},                // € is 3 bytes
		{"a😀", 4, "a"},                  // 4 bytes
		{"😀😀", 4, "😀"},                  // cut right after a rune
		{"\xff\xfe\xfd", 2, "\xff\xfe"}, // not UTF-8: cut at the byte
	} {
		got := clipString(tc.s, tc.n)
		if got != tc.want {
			t.Errorf("clipString(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
		if utf8.ValidString(tc.s) && !utf8.ValidString(got) {
			t.Errorf("clipString(%q, %d) split a rune: %q", tc.s, tc.n, got)
		}
	}
}

func TestClipRecording(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // 2n bytes
	ps := make([]Participant, 100)
	for i := range ps {
		ps[i] = Participant{AOR: fmt.Sprintf("sip:%d@pbx", i)}
	}
	ps[3] = Participant{AOR: long(200), Name: long(100)}
	orig := ps[3]
	rec := clipRecording(Recording{
		CallID: long(200), FullName: long(100), User: long(40), Extension: long(40), Remote: long(40),
		Direction: long(40), Codec: long(40), Status: long(40), Participants: ps,
	})
	for name, f := range map[string]struct {
		got string
		max int
	}{
		"call id": {rec.CallID, maxCallIDLen}, "full name": {rec.FullName, maxNameLen},
		"user": {rec.User, maxShortLen}, "extension": {rec.Extension, maxShortLen}, "remote": {rec.Remote, maxShortLen},
		"direction": {rec.Direction, maxShortLen}, "codec": {rec.Codec, maxShortLen}, "status": {rec.Status, maxShortLen},
		"participant aor": {rec.Participants[3].AOR, maxAORLen}, "participant name": {rec.Participants[3].Name, maxNameLen},
	} {
		if len(f.got) != f.max || !utf8.ValidString(f.got) {
			t.Errorf("%s: %d bytes (valid UTF-8: %v), want %d", name, len(f.got), utf8.ValidString(f.got), f.max)
		}
	}
	if len(rec.Participants) != maxParticipants || rec.Participants[63].AOR != "sip:63@pbx" {
		t.Errorf("participants: %d, last %+v", len(rec.Participants), rec.Participants[len(rec.Participants)-1])
	}
	if ps[3] != orig {
		t.Errorf("clipRecording changed the caller's participants")
	}
	small := Recording{User: "john_doe", Participants: ps[:2]}
	if got := clipRecording(small); &got.Participants[0] != &ps[0] {
		t.Errorf("clipRecording copied participants that needed no clipping")
	}
}

func TestFitRecordingDropOrder(t *testing.T) {
	ps := make([]Participant, 10)
	for i := range ps {
		ps[i] = Participant{AOR: fmt.Sprintf("sip:%03d@pbx", i), Name: strings.Repeat("n", 100)}
	}
	full := Recording{ID: "2026000000001", User: "john_doe", FullName: strings.Repeat("f", 100), CallID: strings.Repeat("c", 200), Participants: ps}
	size := func(r Recording) int {
		_, m, err := fitRecording(r, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return len(m)
	}
	noParts := full
	noParts.Participants = nil
	noCallID := noParts
	noCallID.CallID = ""
	minimal := noCallID
	minimal.FullName = ""
	withParts := func(k int) Recording { r := full; r.Participants = ps[:k]; return r }
	for _, tc := range []struct {
		name   string
		budget int
		want   Recording
	}{
		{"everything fits", size(full), full},
		{"last participant goes", size(full) - 1, withParts(9)},
		{"three participants fit", size(withParts(3)), withParts(3)},
		{"three participants and a byte", size(withParts(4)) - 1, withParts(3)},
		{"no participants", size(withParts(1)) - 1, noParts},
		{"call id goes", size(noParts) - 1, noCallID},
		{"full name goes", size(noCallID) - 1, minimal},
		{"minimal exactly", size(minimal), minimal},
	} {
		got, meta, err := fitRecording(full, tc.budget)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(meta) > tc.budget {
			t.Errorf("%s: %d bytes of JSON over a budget of %d", tc.name, len(meta), tc.budget)
		}
		if len(got.Participants) != len(tc.want.Participants) || got.CallID != tc.want.CallID || got.FullName != tc.want.FullName || got.User != "john_doe" {
			t.Errorf("%s: kept %d participants, call id %d bytes, full name %d bytes; want %d, %d, %d", tc.name,
				len(got.Participants), len(got.CallID), len(got.FullName), len(tc.want.Participants), len(tc.want.CallID), len(tc.want.FullName))
		}
	}
	if _, _, err := fitRecording(full, size(minimal)-1); !errors.Is(err, ErrHeadSlotFull) {
		t.Errorf("budget below the minimal record: %v, want ErrHeadSlotFull", err)
	}
	if _, _, err := fitRecording(full, -5); !errors.Is(err, ErrHeadSlotFull) {
		t.Errorf("negative budget: %v, want ErrHeadSlotFull", err)
	}
}

// TestHostileMetadataSeals: values from the wire never cost a recording.
func TestHostileMetadataSeals(t *testing.T) {
	crowd := make([]Participant, 10_000)
	for i := range crowd {
		crowd[i] = Participant{AOR: fmt.Sprintf("sip:+1555%07d@gateway.example.com", i), Name: "Caller <" + strings.Repeat("&", 120) + ">"}
	}
	for _, tc := range []struct {
		name string
		rec  Recording
	}{
		{"8,000-byte Call-ID", Recording{CallID: strings.Repeat("a1b2c3d4", 1000)}},
		{"10,000 participants", Recording{Participants: crowd}},
		{"both, escaped characters everywhere", Recording{CallID: strings.Repeat("<\x01>", 3000), FullName: strings.Repeat("\"<", 500), Participants: crowd}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, t.TempDir())
			head, audio := fakeMP3(10_000)
			rec := tc.rec
			rec.User, rec.Extension, rec.Remote, rec.Direction = "john_doe", "2501", "+15551234", "OUT"
			w, err := s.Create(time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Describe(rec); err != nil {
				t.Fatalf("Describe: %v", err)
			}
			w.Write(audio)
			sealed, err := w.Seal(rec, head)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if len(sealed.CallID) > maxCallIDLen || len(sealed.Participants) > maxParticipants || sealed.User != "john_doe" || sealed.Status != StatusComplete {
				t.Errorf("sealed: call id %d bytes, %d participants, user %q, status %q", len(sealed.CallID), len(sealed.Participants), sealed.User, sealed.Status)
			}
			got, err := s.Get(sealed.ID)
			if err != nil || got.CallID != sealed.CallID || len(got.Participants) != len(sealed.Participants) {
				t.Errorf("Get = %+v, %v; want what Seal returned", got, err)
			}
			if b, err := exportBytes(s, sealed.ID); err != nil || !bytes.Equal(b, append(bytes.Clone(head), audio...)) {
				t.Errorf("Export: %v", err)
			}
		})
	}
}

// Leg counters are bounded and are the first thing left out of a head
// that is short of room, before any participant.
func TestClipAndFitLegs(t *testing.T) {
	rec := Recording{ID: "2026000000001", User: "u", Participants: []Participant{{AOR: "sip:2501@pbx"}, {AOR: "sip:+15551234@gw"}}}
	for i := range 50 {
		rec.Legs = append(rec.Legs, LegSummary{Label: fmt.Sprintf("label-%d-%s", i, strings.Repeat("x", 40)), Codec: "PCMU", Packets: 3000})
	}
	c := clipRecording(rec)
	if len(c.Legs) != maxLegs || len(c.Legs[0].Label) != maxLabelLen || len(rec.Legs) != 50 {
		t.Errorf("clipped legs: %d, first label %d bytes (caller's slice %d)", len(c.Legs), len(c.Legs[0].Label), len(rec.Legs))
	}
	full, _ := json.Marshal(c)
	noLegs := c
	noLegs.Legs = nil
	small, _ := json.Marshal(noLegs)
	got, meta, err := fitRecording(c, len(small))
	if err != nil || got.Legs != nil || len(got.Participants) != 2 || len(meta) != len(small) {
		t.Errorf("fit in %d bytes (full %d): legs %d, participants %d, %v", len(small), len(full), len(got.Legs), len(got.Participants), err)
	}
}
