package siprec

import (
	"reflect"
	"testing"
	"time"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func sampleMetadata(t *testing.T, file string) (*Metadata, error) {
	t.Helper()
	ct, raw := sampleBody(t, file)
	b, err := SplitBody(ct, raw)
	if err != nil {
		t.Fatalf("SplitBody: %v", err)
	}
	return ParseMetadata(b.Metadata)
}

var cubeMetadata = &Metadata{
	SessionID: "Bb3BWPAmEeaAbqDmCU4vOg==",
	Start:     mustTime("2026-03-02T09:15:02.112Z"),
	Participants: []Participant{
		{ID: "Bb3BWPAmEeaAb6DmCU4vOg==", AOR: "sip:2501@10.10.1.20", Name: "Alice Agent", Send: []string{"1"}, Recv: []string{"2"},
			Associated: mustTime("2026-03-02T09:15:02.112Z")},
		{ID: "Bb3BWPAmEeaAcKDmCU4vOg==", AOR: "sip:+15558201@10.10.1.1", Send: []string{"2"}, Recv: []string{"1"},
			Associated: mustTime("2026-03-02T09:15:02.112Z")},
	},
	Streams: []StreamInfo{{ID: "Bb3BWPAmEeaAc6DmCU4vOg==", Label: "1"}, {ID: "Bb3BWPAmEeaAdKDmCU4vOg==", Label: "2"}},
}

func TestParseMetadataSamples(t *testing.T) {
	acmeT := mustTime("2026-03-02T10:00:00Z")
	tests := []struct {
		file string
		want *Metadata
	}{
		{file: "cisco/cube-invite.sip", want: cubeMetadata},
		{file: "acme/acme-draft.sip", want: &Metadata{
			SessionID: "urn:uuid:2f9b0e8a-1c1d-4e1b-9f2b-0a1b2c3d4e5f",
			Start:     acmeT, // Oracle sends the session's associate-time, no start-time
			Participants: []Participant{
				{ID: "p1-acme", AOR: "sip:+15551230001@192.0.2.1", Name: "Caller One", Send: []string{"16777227"}, Recv: []string{"16777228"}, Associated: acmeT},
				{ID: "p2-acme", AOR: "sip:4100@192.0.2.2", Send: []string{"16777228"}, Recv: []string{"16777227"}, Associated: acmeT},
			},
			Streams: []StreamInfo{{ID: "s1-acme", Label: "16777227"}, {ID: "s2-acme", Label: "16777228"}},
			Caller:  "sip:+15551230001@192.0.2.1", // apkt:callingParty
		}},
		{file: "ribbon/ribbon-tns.sip", want: &Metadata{
			SessionID: "rbbn-sess-1",
			Start:     mustTime("2026-03-02T11:00:00Z"),
			Participants: []Participant{
				{ID: "rbbn-p1", AOR: "sip:+15557770001@192.0.2.40", Send: []string{"1"}, Recv: []string{"2"}},
				{ID: "rbbn-p2", AOR: "tel:+15558880002", Name: "Support Line", Send: []string{"2"}, Recv: []string{"1"}},
			},
			Streams: []StreamInfo{{ID: "rbbn-s1", Label: "1"}, {ID: "rbbn-s2", Label: "2"}},
			Caller:  "sip:+15557770001@192.0.2.40", // callData fromhdr
		}},
		{file: "audiocodes/audiocodes.sip", want: &Metadata{
			SessionID: "ac-sess-9",
			Start:     mustTime("2026-03-02T12:00:00Z"),
			Participants: []Participant{
				{ID: "ac-p1", AOR: "sip:3001@192.0.2.50", Name: "Desk 3001", Send: []string{"1"}},
				{ID: "ac-p2", AOR: "sip:+15550009999@192.0.2.50", Send: []string{"2"}},
			},
			Streams: []StreamInfo{{ID: "ac-st1", Label: "1"}, {ID: "ac-st2", Label: "2"}},
			Caller:  "sip:3001@192.0.2.50", // ac:role caller
		}},
		{file: "broadworks/broadworks.sip", want: &Metadata{
			SessionID: "bw-s",
			Start:     mustTime("2026-03-02T13:00:00-05:00"),
			Participants: []Participant{
				{ID: "bw-p1", AOR: "sip:7001@as.example.com", Send: []string{"mixed"}},
				{ID: "bw-p2", AOR: "sip:+15553334444@as.example.com", Send: []string{"mixed"}},
			},
			Streams: []StreamInfo{{ID: "bw-st", Label: "mixed"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) { checkSample(t, tt.file, tt.want, nil) })
	}
}

// checkSample parses a sample message's metadata, compares it with want
// and, when users is given, each participant's number with users.
func checkSample(t *testing.T, file string, want *Metadata, users []string) {
	t.Helper()
	got, err := sampleMetadata(t, file)
	if err != nil {
		t.Fatalf("ParseMetadata: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseMetadata =\n%+v\nwant\n%+v", got, want)
	}
	for i, p := range got.Participants {
		if u := p.User(); i < len(users) && u != users[i] {
			t.Errorf("participant %d User() = %q, want %q", i, u, users[i])
		}
	}
}

func TestParseMetadataErrors(t *testing.T) {
	if _, err := sampleMetadata(t, "broken/broken-xml.sip"); err == nil {
		t.Errorf("broken-xml: no error")
	} else if code, _ := statusFor(err); code != 400 {
		t.Errorf("broken-xml: status %d, want 400", code)
	}
	for name, doc := range map[string]string{
		"empty":        "",
		"not xml":      "hello",
		"wrong root":   "<html><body/></html>",
		"unclosed":     "<recording><session>",
		"two roots":    "<recording/><recording/>",
		"bad charset":  `<?xml version="1.0" encoding="EBCDIC"?><recording/>`,
		"bad entity":   "<recording>&nope;</recording>",
		"mismatch tag": "<recording><participant></session></recording>",
	} {
		if _, err := ParseMetadata([]byte(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseMetadataUser(t *testing.T) {
	md, err := sampleMetadata(t, "ribbon/ribbon-tns.sip")
	if err != nil {
		t.Fatalf("ParseMetadata: %v", err)
	}
	if u := md.Participants[0].User(); u != "+15557770001" {
		t.Errorf("User() = %q", u)
	}
	if u := md.Participants[1].User(); u != "+15558880002" {
		t.Errorf("User() = %q", u)
	}
}

func TestMerge(t *testing.T) {
	base := cubeMetadata

	// Complete (CUBE BYE): end and disassociate times added, names kept.
	bye, err := sampleMetadata(t, "cisco/cube-bye.sip")
	if err != nil {
		t.Fatalf("ParseMetadata bye: %v", err)
	}
	got := Merge(base, bye)
	end := mustTime("2026-03-02T09:17:20.500Z")
	if !got.End.Equal(end) || !got.Start.Equal(base.Start) || got.SessionID != base.SessionID {
		t.Errorf("merged session fields: %+v", got)
	}
	if len(got.Participants) != 2 || got.Participants[0].Name != "Alice Agent" ||
		!got.Participants[0].Disassociated.Equal(end) || !reflect.DeepEqual(got.Participants[0].Send, []string{"1"}) {
		t.Errorf("merged participants: %+v", got.Participants)
	}
	if base.Participants[0].Disassociated != (time.Time{}) {
		t.Errorf("Merge changed its input")
	}

	// Complete: a participant absent from the update is gone (transfer).
	xfer := &Metadata{Participants: []Participant{base.Participants[0], {ID: "new", AOR: "sip:3000@x", Send: []string{"2"}}}}
	got = Merge(base, xfer)
	if len(got.Participants) != 2 || got.Participants[1].ID != "new" {
		t.Errorf("complete merge: %+v", got.Participants)
	}

	// Partial: by participant id, others kept; ids resolved against old streams.
	part := &Metadata{Partial: true, Participants: []Participant{
		{ID: "Bb3BWPAmEeaAcKDmCU4vOg==", Name: "Bob Remote"},
		{ID: "p3", AOR: "sip:3@x", Recv: []string{"Bb3BWPAmEeaAc6DmCU4vOg=="}},
	}}
	got = Merge(base, part)
	if len(got.Participants) != 3 || got.Partial {
		t.Fatalf("partial merge: %+v", got)
	}
	if p := got.Participants[1]; p.Name != "Bob Remote" || p.AOR != "sip:+15558201@10.10.1.1" {
		t.Errorf("partial merge participant: %+v", p)
	}
	if r := got.Participants[2].Recv; !reflect.DeepEqual(r, []string{"1"}) {
		t.Errorf("partial merge recv = %v, want [1]", r)
	}

	if Merge(base, nil) != base {
		t.Errorf("Merge(x, nil) != x")
	}
	if got := Merge(nil, base); !reflect.DeepEqual(got, base) {
		t.Errorf("Merge(nil, x) = %+v", got)
	}
}

func FuzzParseMetadata(f *testing.F) {
	for _, name := range sampleFiles(f) {
		ct, raw := sampleBody(f, name)
		if b, err := SplitBody(ct, raw); err == nil && b.Metadata != nil {
			f.Add(b.Metadata)
		}
	}
	// Draft shapes and participants without a scheme or with a placeholder.
	f.Add([]byte(`<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"><participant id="a"><aor>Extension-016190619@h</aor>` +
		`<send><id>s</id></send><recv><id>s</id><id></id></recv></participant><stream id="s"><label>1</label></stream></recording_metadata>`))
	f.Add([]byte(`<Recording_Metadata><participant id="b"><NameID aor="sip:ASBCE@10.0.0.1"><name>"Agent (4100)"</name></NameID>` +
		`<nameID aor="tel:+1-555-0100;phone-context=x"/><nameID aor='"X" &lt;sip:+15550100@gw;user=phone&gt;'/></participant></Recording_Metadata>`))
	f.Add([]byte(`<recording><participant id="c"><aor>sip:[2001:db8::1]:5060</aor><aor>sip:10.0.0.1</aor><name>+</name></participant></recording>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		md, err := ParseMetadata(doc)
		if err != nil {
			return
		}
		_ = Merge(Merge(nil, md), md)
		for _, p := range md.Participants {
			_ = p.User()
		}
	})
}

// Home-grown clients put a participant's name and a stream's label in
// attributes and the AOR in an element; the draft schema nests send in
// participant. All of it is read.
func TestParseMetadataAttributeForms(t *testing.T) {
	doc := `<?xml version="1.0"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <participant id="p1" name="Alice"><aor>sip:alice@example.com</aor><send>a</send></participant>
  <participant id="p2"><aor>tel:+15551234</aor><send>b</send></participant>
  <stream label="7" streamid="a"/>
  <stream stream_id="b"><label>8</label></stream>
</recording>`
	md, err := ParseMetadata([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Participants) != 2 || md.Participants[0].Name != "Alice" || md.Participants[0].AOR != "sip:alice@example.com" {
		t.Fatalf("participants = %+v", md.Participants)
	}
	if s := md.Participants[0].Send; len(s) != 1 || s[0] != "7" {
		t.Errorf("alice sends %v, want label 7", s)
	}
	if s := md.Participants[1].Send; len(s) != 1 || s[0] != "8" {
		t.Errorf("the second participant sends %v, want label 8", s)
	}
}
