package siprec

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden JSON files under testdata")

// golden is what one testdata message parses into: the media its SDP
// offers, its metadata in the session model and each participant's
// number, or the status and error it is refused with.
type golden struct {
	Media    []MediaStream `json:"media,omitempty"`
	Metadata *Metadata     `json:"metadata,omitempty"`
	Users    []string      `json:"users,omitempty"`
	Status   int           `json:"status,omitempty"`
	Error    string        `json:"error,omitempty"`
}

func parseGolden(t *testing.T, file string) golden {
	t.Helper()
	refused := func(err error) golden {
		code, _ := statusFor(err)
		return golden{Status: code, Error: err.Error()}
	}
	ct, raw := sampleBody(t, file)
	b, err := SplitBody(ct, raw)
	if err != nil {
		return refused(err)
	}
	var g golden
	if b.SDP != nil {
		if g.Media, err = ParseSDP(b.SDP); err != nil {
			return refused(err)
		}
	}
	if b.Metadata != nil {
		if g.Metadata, err = ParseMetadata(b.Metadata); err != nil {
			return refused(err)
		}
		for _, p := range g.Metadata.Participants {
			g.Users = append(g.Users, p.User())
		}
	}
	return g
}

// TestGolden parses every testdata message into the session model and
// compares it with the golden JSON beside it (name.sip -> name.json);
// `go test ./siprec -run Golden -update` rewrites them.
func TestGolden(t *testing.T) {
	for _, file := range sampleFiles(t) {
		t.Run(file, func(t *testing.T) {
			got, err := json.MarshalIndent(parseGolden(t, file), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", strings.TrimSuffix(file, ".sip")+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./siprec -run Golden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from what %s parses into:\n%s", path, file, got)
			}
		})
	}
}

// The draft schema of BroadWorks and Webex Calling maps onto the same
// session model as RFC 7865: ids from id=, send/recv from <id> children,
// stream ids resolved to labels, the draft's own recording, group and
// extensiondata elements ignored.
func TestParseMetadataDraftSchema(t *testing.T) {
	bwSession := "urn:uuid:8e2b7c44-3f1a-4d6b-a0c9-1b2d3e4f5a03"
	wxT := mustTime("2026-03-02T15:30:00.250Z")
	tests := []struct {
		file  string
		want  *Metadata
		users []string
	}{
		{file: "broadworks/broadworks-draft-invite.sip", want: &Metadata{
			SessionID: bwSession,
			Start:     mustTime("2026-03-02T14:05:11+00:00"),
			Participants: []Participant{
				{ID: "urn:uuid:0c3d5e7f-2a4b-4c6d-8e0f-1a2b3c4d5e04", AOR: "sip:01632960100", Send: []string{"5"}},
				{ID: "urn:uuid:1d4e6f80-3b5c-4d7e-9f10-2b3c4d5e6f06", AOR: "sip:07700900123@voice.example.net;user=phone", Send: []string{"5"}},
			},
			Streams:  []StreamInfo{{ID: "urn:uuid:f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a05", Label: "5"}},
			Caller:   "sip:+441632960100@voice.example.net", // callType/origCall/callingPartyNumber
			Recorded: "01632960100@voice.example.net",       // userID
		}, users: []string{"01632960100", "07700900123"}},
		{file: "webex/webex-draft-invite.sip", want: &Metadata{
			SessionID: "wx-sess-7",
			Start:     wxT,
			Participants: []Participant{
				{ID: "wx-p1", AOR: "sip:Extension-016190619@wxc.example.com", Name: "Dana Desk",
					Send: []string{"1"}, Recv: []string{"2"}, Associated: wxT},
				{ID: "wx-p2", AOR: "tel:+14085550199", Name: "+1 (408) 555-0199",
					Send: []string{"2"}, Recv: []string{"1"}, Associated: wxT},
			},
			Streams: []StreamInfo{{ID: "wx-st-a", Label: "1"}, {ID: "wx-st-b", Label: "2"}},
		}, users: []string{"016190619", "+14085550199"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) { checkSample(t, tt.file, tt.want, tt.users) })
	}
}

// Both roots in both namespaces, a partial draft document, and roots that
// are neither.
func TestParseMetadataRoots(t *testing.T) {
	for _, tt := range []struct {
		doc     string
		partial bool
		ok      bool
	}{
		{doc: `<recording xmlns="urn:ietf:params:xml:ns:recording:1"/>`, ok: true},
		{doc: `<recording xmlns="urn:ietf:params:xml:ns:recording"/>`, ok: true},
		{doc: `<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"/>`, ok: true},
		{doc: `<rm:Recording_Metadata xmlns:rm="urn:ietf:params:xml:ns:siprec"><rm:DATAMODE>partial</rm:DATAMODE></rm:Recording_Metadata>`, partial: true, ok: true},
		{doc: `<recording_metadata xmlns="urn:ietf:params:xml:ns:recording:1"><dataMode>complete</dataMode></recording_metadata>`, ok: true},
		{doc: `<metadata xmlns="urn:ietf:params:xml:ns:siprec"/>`},
		{doc: `<recordingmetadata/>`},
	} {
		md, err := ParseMetadata([]byte(tt.doc))
		if tt.ok != (err == nil) {
			t.Errorf("%s: error %v, want ok %v", tt.doc, err, tt.ok)
			continue
		}
		if err == nil && md.Partial != tt.partial {
			t.Errorf("%s: Partial = %v, want %v", tt.doc, md.Partial, tt.partial)
		}
		if err != nil && !strings.Contains(err.Error(), "want recording or recording_metadata") {
			t.Errorf("%s: error %q does not name the roots accepted", tt.doc, err)
		}
	}
}

// Of several nameIDs, the first that names a number is kept.
func TestParseMetadataSeveralAORs(t *testing.T) {
	doc := `<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec">
  <participant id="a"><nameID aor="sip:ASBCE@10.0.0.1"/><nameID aor="tel:+15551230000"/><nameID aor="sip:4100@pbx"/></participant>
  <participant id="b"><aor>sip:4100@pbx</aor><aor>tel:+15551230000</aor></participant>
  <participant id="c"><nameID aor="sip:ASBCE@10.0.0.1"/><nameID aor="sip:gateway@10.0.0.2"/></participant>
</recording_metadata>`
	md, err := ParseMetadata([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tel:+15551230000", "sip:4100@pbx", "sip:ASBCE@10.0.0.1"}
	for i, p := range md.Participants {
		if p.AOR != want[i] {
			t.Errorf("participant %s AOR = %q, want %q", p.ID, p.AOR, want[i])
		}
	}
}

// User reads the shapes real clients send.
func TestParticipantUser(t *testing.T) {
	for _, tt := range []struct {
		aor, name, want string
	}{
		// Plain numbers.
		{aor: "sip:2501@10.0.0.1", want: "2501"},
		{aor: "sips:2501@pbx.example.com:5061;transport=tls", want: "2501"},
		{aor: "SIP:2501@10.0.0.1", want: "2501"},
		// Avaya / Oracle E.164 with user=phone.
		{aor: "sip:+15551230001@192.0.2.1;user=phone", want: "+15551230001"},
		{aor: "<sip:+15551230001@192.0.2.1;user=phone>", want: "+15551230001"},
		{aor: `"Caller One" <sip:+15551230001@192.0.2.1;user=phone>`, want: "+15551230001"},
		{aor: "sip:+1-555-123-0001@gw;user=phone", want: "+15551230001"},
		{aor: "sip:(0)30.1234.5678@gw", want: "03012345678"},
		// tel URIs.
		{aor: "tel:+15558201", want: "+15558201"},
		{aor: "tel:2501;phone-context=example.com", want: "2501"},
		{aor: "<tel:+15558201>", want: "+15558201"},
		// No scheme (BroadWorks, Webex).
		{aor: "Extension-016190619@host", want: "016190619"},
		{aor: "016190619@host", want: "016190619"},
		{aor: "sip:02077705371", want: "02077705371"},
		{aor: "agent2501-desk7@pbx", want: "2501"},
		// Placeholders: the name gives the number, else none.
		{aor: "sip:ASBCE@10.0.0.1", want: ""},
		{aor: "sip:ASBCE@10.0.0.1", name: "4100", want: "4100"},
		{aor: "sip:ASBCE@10.0.0.1", name: `"Agent 4100"`, want: "4100"},
		{aor: "sip:ASBCE@10.0.0.1", name: "+1 (408) 555-0199", want: "+14085550199"},
		{aor: "sip:ASBCE@10.0.0.1", name: "+14085550199", want: "+14085550199"},
		{aor: "sip:ASBCE@10.0.0.1", name: "ASBCE", want: ""},
		{aor: "sip:anonymous@anonymous.invalid", want: ""},
		{aor: "sip:10.10.1.20", want: ""},
		{aor: "sip:10.10.1.20:5060", want: ""},
		{aor: "sip:[2001:db8::1]:5060", want: ""},
		{aor: "", name: "Desk 3001", want: "3001"},
		{aor: "", want: ""},
		{aor: "sip:@host", want: ""},
		{aor: "<>", want: ""},
	} {
		p := Participant{AOR: tt.aor, Name: tt.name}
		if got := p.User(); got != tt.want {
			t.Errorf("Participant{AOR: %q, Name: %q}.User() = %q, want %q", tt.aor, tt.name, got, tt.want)
		}
	}
}

// A partial draft document after a transfer merges into the call's state:
// the party who left keeps its number and gets its time, the new one's
// stream ids resolve to the labels the first document gave.
func TestMergeDraftTransfer(t *testing.T) {
	base, err := sampleMetadata(t, "webex/webex-draft-invite.sip")
	if err != nil {
		t.Fatal(err)
	}
	upd, err := sampleMetadata(t, "webex/webex-draft-update.sip")
	if err != nil {
		t.Fatal(err)
	}
	got := Merge(base, upd)
	if len(got.Participants) != 3 {
		t.Fatalf("merged participants = %+v, want 3", got.Participants)
	}
	left, joined := got.Participants[1], got.Participants[2]
	if left.User() != "+14085550199" || !left.Disassociated.Equal(mustTime("2026-03-02T15:32:10Z")) {
		t.Errorf("party who left = %+v", left)
	}
	if joined.User() != "+14085550177" || !reflect.DeepEqual(joined.Send, []string{"2"}) || !reflect.DeepEqual(joined.Recv, []string{"1"}) {
		t.Errorf("party who joined = %+v (User %q)", joined, joined.User())
	}
}
