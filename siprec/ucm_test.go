package siprec

import (
	"reflect"
	"testing"
	"time"
)

// From headers as UCM versions and the boxes between send them: the
// issue's and Cisco's use-case examples, a UCM 10.5 trace with cluster
// ids, a gateway-forked call (network-based recording) with GUIDs and an
// E.164 far end, CUBE Media Proxy's copy with x-sessionid, parameters
// moved after the URI by an SBC, and odd case and escaping.
func TestParseUCM(t *testing.T) {
	tests := []struct {
		name string
		from string
		want UCMHalf
	}{
		{"issue near", `<sip:2000@ucm1;x-nearend;x-refci=25139262;x-nearenddevice=SEP00AABBCCDDEE;x-farendrefci=25139261;x-farenddevice=SEP001122334455;x-farendaddr=1000>;tag=a`,
			UCMHalf{Role: UCMNear, RefCI: "25139262", FarRefCI: "25139261", NearDevice: "SEP00AABBCCDDEE", FarDevice: "SEP001122334455",
				NearNumber: "2000", FarNumber: "1000", Host: "ucm1", Caller: UCMFar}},
		{"issue far", `<sip:2000@ucm1;x-farend;x-refci=25139262;x-nearenddevice=SEP00AABBCCDDEE;x-farendrefci=25139261;x-farenddevice=SEP001122334455;x-farendaddr=1000>;tag=b`,
			UCMHalf{Role: UCMFar, RefCI: "25139262", FarRefCI: "25139261", NearDevice: "SEP00AABBCCDDEE", FarDevice: "SEP001122334455",
				NearNumber: "2000", FarNumber: "1000", Host: "ucm1", Caller: UCMFar}},
		{"ucm 10.5 with clusters", `<sip:9110001@10.48.32.90;x-farend;x-refci=38960750;x-nearendclusterid=glenscucm10-5;x-nearenddevice=sep001795bdd16b;x-nearendaddr=9110001;x-farendrefci=38960749;x-farendclusterid=glenscucm10-5;x-farenddevice=sep0018195aa209;x-farendaddr=9110006>;tag=73602~713e2333-4032-45f1-b1f5-e33cf471acec-38960757`,
			UCMHalf{Role: UCMFar, RefCI: "38960750", FarRefCI: "38960749", NearDevice: "sep001795bdd16b", FarDevice: "sep0018195aa209",
				NearNumber: "9110001", FarNumber: "9110006", NearCluster: "glenscucm10-5", FarCluster: "glenscucm10-5", Host: "10.48.32.90", Caller: UCMFar}},
		{"gateway forking, E.164 far end", `<sip:+14085559876@ucm2.example.com;x-nearend;x-refci=43358625;x-nearendclusterid=eu91;x-nearenddevice=LCP_47483708;x-nearendaddr=9876;x-farendrefci=43358624;x-farendclusterid=eu91;x-farenddevice=EU91BCUBE002-Trk;x-farendaddr=+1234567890;x-farendguid=694646BC1D2311E7A8D2826ACB31D85A>;tag=x`,
			UCMHalf{Role: UCMNear, RefCI: "43358625", FarRefCI: "43358624", NearDevice: "LCP_47483708", FarDevice: "EU91BCUBE002-Trk",
				NearNumber: "9876", FarNumber: "+1234567890", NearCluster: "eu91", FarCluster: "eu91", FarGUID: "694646BC1D2311E7A8D2826ACB31D85A", Host: "ucm2.example.com", Caller: UCMFar}},
		{"cube media proxy copy, display name", `"abcd" <sip:198101@10.200.25.137;x-nearend;x-refci=27298698;x-nearendclusterid=NY-NJ-Labcluster;x-nearenddevice=SEP2834A28318CE;x-nearendaddr=198101;x-farendrefci=27298699;x-farendclusterid=NY-NJ-Labcluster;x-farenddevice=AFIFIM-VI1;x-farendaddr=172001;x-sessionid=696dd5d3f7755c6abdc438e93d01febf>;tag=14087`,
			UCMHalf{Role: UCMNear, RefCI: "27298698", FarRefCI: "27298699", NearDevice: "SEP2834A28318CE", FarDevice: "AFIFIM-VI1",
				NearNumber: "198101", FarNumber: "172001", NearCluster: "NY-NJ-Labcluster", FarCluster: "NY-NJ-Labcluster", Host: "10.200.25.137", Caller: UCMNear}},
		{"parameters after the URI, any order and case", `<sip:2000@ucm1>;X-FarEndAddr=%2B15551234567;x-REFCI=7;X-FAREND;x-NearEndDevice=SEP1;tag=c`,
			UCMHalf{Role: UCMFar, RefCI: "7", NearDevice: "SEP1", NearNumber: "2000", FarNumber: "+15551234567", Host: "ucm1"}},
		{"addr-spec with header parameters", `sip:2000@ucm1:5060;x-nearend;x-refci=8;x-farendaddr=1000;tag=d`,
			UCMHalf{Role: UCMNear, RefCI: "8", NearNumber: "2000", FarNumber: "1000", Host: "ucm1:5060"}},
		{"spaces around parameters", `<sip:2000@ucm1; x-nearend; x-refci=9 ; x-farendaddr = 1000>;tag=e`,
			UCMHalf{Role: UCMNear, RefCI: "9", NearNumber: "2000", FarNumber: "1000", Host: "ucm1"}},
	}
	for _, tt := range tests {
		got, ok := ParseUCM(tt.from)
		if !ok || got != tt.want {
			t.Errorf("%s: ParseUCM = %+v, %t\nwant %+v", tt.name, got, ok, tt.want)
		}
	}
}

func TestParseUCMNotUCM(t *testing.T) {
	for _, from := range []string{
		`<sip:10.10.1.1>;tag=cube`,
		`"Alice" <sip:2501@pbx;user=phone>;tag=1`,
		`<sip:2000@ucm1;x-refci=1;x-farendaddr=1000>;tag=a`,  // the pair's parameters, but no role
		`<sip:2000@ucm1;x-nearend;x-farend;x-refci=1>;tag=a`, // both roles
		`<sip:2000@ucm1;x-nearenddevice=SEP1>;tag=a`,
		``,
	} {
		if h, ok := ParseUCM(from); ok {
			t.Errorf("ParseUCM(%q) = %+v: want no UCM call", from, h)
		}
	}
}

func TestUCMKey(t *testing.T) {
	near, _ := ParseUCM(`<sip:2000@ucm1;x-nearend;x-refci=25139262;x-nearendclusterid=C1;x-nearenddevice=SEP00AABBCCDDEE;x-farendaddr=1000>;tag=a`)
	far, _ := ParseUCM(`<sip:2000@ucm1;x-farend;x-refci=25139262;x-nearendclusterid=c1;x-nearenddevice=sep00aabbccddee;x-farendaddr=1000>;tag=b`)
	if near.Key() == "" || near.Key() != far.Key() {
		t.Errorf("keys %q and %q: want one key for the two halves", near.Key(), far.Key())
	}
	other, _ := ParseUCM(`<sip:2000@ucm1;x-farend;x-refci=25139263;x-nearendclusterid=c1;x-nearenddevice=SEP00AABBCCDDEE>;tag=b`)
	if other.Key() == near.Key() {
		t.Error("another call leg has the same key")
	}
	if k := (UCMHalf{Role: UCMNear, NearDevice: "SEP1"}).Key(); k != "" {
		t.Errorf("a half without x-refci has key %q, want none", k)
	}
}

// TestUCMDirection: UCM says nothing of who called; the lower call leg
// number (created first) is the caller's.
func TestUCMDirection(t *testing.T) {
	tests := []struct {
		near, far  string
		out, known bool
	}{
		{"25139262", "25139261", false, true}, // Cisco's example: the customer (far) called the agent
		{"27298698", "27298699", true, true},  // the agent called
		{"38960750", "", false, false},
		{"ci2", "ci1", false, false},
		{"5", "5", false, false},
	}
	for _, tt := range tests {
		out, known := UCMHalf{RefCI: tt.near, FarRefCI: tt.far}.Outbound()
		if out != tt.out || known != tt.known {
			t.Errorf("Outbound(near %q, far %q) = %t, %t; want %t, %t", tt.near, tt.far, out, known, tt.out, tt.known)
		}
	}
}

func TestUCMMetadata(t *testing.T) {
	in, _ := ParseUCM(`<sip:2000@ucm1;x-nearend;x-refci=25139262;x-farendrefci=25139261;x-farendaddr=1000>;tag=a`)
	want := &Metadata{SessionID: "25139262", Recorded: "sip:2000@ucm1", OnlyRecorded: true, Caller: "sip:1000@ucm1",
		Participants: []Participant{
			{ID: "far:1000", AOR: "sip:1000@ucm1", Send: []string{UCMFar}, Recv: []string{UCMNear}},
			{ID: "near:2000", AOR: "sip:2000@ucm1", Send: []string{UCMNear}, Recv: []string{UCMFar}},
		}}
	if got := in.Metadata(); !reflect.DeepEqual(got, want) {
		t.Errorf("inbound metadata = %+v\nwant %+v", got, want)
	}
	out, _ := ParseUCM(`<sip:2000@ucm1;x-farend;x-refci=11;x-farendrefci=12;x-farendaddr=+15551234567>;tag=a`)
	md := out.Metadata()
	if md.Caller != "sip:2000@ucm1" || md.Participants[0].AOR != "sip:2000@ucm1" || md.Participants[1].User() != "+15551234567" {
		t.Errorf("outbound metadata = %+v: want the near end first and the caller, the far end +15551234567", md)
	}
	// A new far end is a new participant: its id changes with the number.
	moved, _ := ParseUCM(`<sip:2000@ucm1;x-farend;x-refci=11;x-farendrefci=12;x-farendaddr=3000>;tag=a`)
	if moved.Metadata().Participants[1].ID == md.Participants[1].ID {
		t.Error("the far end's participant id did not change with its number")
	}
}

func TestLabelUCM(t *testing.T) {
	media := []MediaStream{{Index: 0, Kind: "video"}, {Index: 1, Kind: "audio", Label: "1"}, {Index: 2, Kind: "audio"}}
	got := labelUCM(media, UCMFar)
	var labels []string
	for _, m := range got {
		labels = append(labels, m.Label)
	}
	if want := []string{"far-0", "far", "far-2"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("labels = %v, want %v", labels, want)
	}
	if media[1].Label != "1" {
		t.Error("labelUCM changed its argument")
	}
}

// TestUCMPairs: the pairing decision, with the clock passed in.
func TestUCMPairs(t *testing.T) {
	half := func(role, refci string) UCMHalf {
		return UCMHalf{Role: role, RefCI: refci, NearDevice: "SEP1", NearCluster: "c1"}
	}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		name    string
		half    UCMHalf
		id      string
		at      time.Duration
		partner string // "" = a recording of its own
	}{
		{"near first", half(UCMNear, "1"), "a", 0, ""},
		{"far 5 ms later joins", half(UCMFar, "1"), "b", 5 * time.Millisecond, "a"},
		{"far first", half(UCMFar, "2"), "c", time.Second, ""},
		{"near 50 ms later joins", half(UCMNear, "2"), "d", time.Second + 50*time.Millisecond, "c"},
		{"a pair taken is not taken again", half(UCMFar, "2"), "e", time.Second + 60*time.Millisecond, ""},
		{"near alone", half(UCMNear, "3"), "f", 2 * time.Second, ""},
		{"a second near of the same leg replaces it", half(UCMNear, "3"), "g", 2*time.Second + 10*time.Millisecond, ""},
		{"its far joins the second", half(UCMFar, "3"), "h", 2*time.Second + 20*time.Millisecond, "g"},
		{"near waits", half(UCMNear, "4"), "i", 3 * time.Second, ""},
		{"far after the window: alone", half(UCMFar, "4"), "j", 3*time.Second + UCMPairWindow + time.Millisecond, ""},
		{"no refci never pairs", UCMHalf{Role: UCMNear, NearDevice: "SEP1"}, "k", 10 * time.Second, ""},
		{"... even with its like", UCMHalf{Role: UCMFar, NearDevice: "SEP1"}, "l", 10 * time.Second, ""},
		{"another device's leg", UCMHalf{Role: UCMNear, RefCI: "5", NearDevice: "SEP2"}, "m", 11 * time.Second, ""},
		{"a clock gone back is within the window", UCMHalf{Role: UCMFar, RefCI: "5", NearDevice: "SEP2"}, "n", 10 * time.Second, "m"},
	}
	var p UCMPairs
	for _, s := range steps {
		got, ok := p.Pair(s.half, s.id, t0.Add(s.at))
		if got != s.partner || ok != (s.partner != "") {
			t.Errorf("%s: Pair = %q, %t; want %q", s.name, got, ok, s.partner)
		}
	}
}

func TestUCMPairsForget(t *testing.T) {
	h := UCMHalf{Role: UCMNear, RefCI: "1", NearDevice: "SEP1"}
	t0 := time.Unix(1000, 0)
	var p UCMPairs
	p.Pair(h, "a", t0)
	p.Forget(h, "other")
	if p.Pending() != 1 {
		t.Fatal("Forget of another id dropped the pending half")
	}
	p.Forget(h, "a") // refused, or ended before its partner came
	if p.Pending() != 0 {
		t.Fatal("Forget left the half pending")
	}
	if partner, ok := p.Pair(UCMHalf{Role: UCMFar, RefCI: "1", NearDevice: "SEP1"}, "b", t0); ok {
		t.Errorf("a half forgotten was paired with %q", partner)
	}
}

// TestUCMPairsSweep: halves whose partner never came do not pile up.
func TestUCMPairsSweep(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var p UCMPairs
	for i := range 2 * ucmPairsSweep {
		p.Pair(UCMHalf{Role: UCMNear, RefCI: itoa(i)}, itoa(i), t0)
	}
	p.Pair(UCMHalf{Role: UCMNear, RefCI: "last"}, "last", t0.Add(UCMPairWindow+time.Second))
	if n := p.Pending(); n != 1 {
		t.Errorf("%d halves pending after the window, want only the last", n)
	}
}

// BenchmarkParseUCM reads a UCM 10.5 recording call's From header, with
// cluster ids and eleven parameters.
func BenchmarkParseUCM(b *testing.B) {
	from := `<sip:9110001@10.48.32.90;x-farend;x-refci=38960750;x-nearendclusterid=glenscucm10-5;x-nearenddevice=sep001795bdd16b;x-nearendaddr=9110001;x-farendrefci=38960749;x-farendclusterid=glenscucm10-5;x-farenddevice=sep0018195aa209;x-farendaddr=9110006>;tag=73602~713e2333-4032-45f1-b1f5-e33cf471acec-38960757`
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseUCM(from); !ok {
			b.Fatal("not parsed")
		}
	}
}

// BenchmarkUCMPairs pairs the two halves of one recording after another,
// with 1000 lone halves waiting in the table.
func BenchmarkUCMPairs(b *testing.B) {
	var p UCMPairs
	t0 := time.Unix(1000, 0)
	for i := range 1000 {
		p.Pair(UCMHalf{Role: UCMNear, RefCI: "lone" + itoa(i), NearDevice: "SEP1"}, "lone", t0)
	}
	near := UCMHalf{Role: UCMNear, RefCI: "25139262", NearDevice: "SEP00AABBCCDDEE", NearCluster: "c1"}
	far := near
	far.Role = UCMFar
	b.ReportAllocs()
	for b.Loop() {
		p.Pair(near, "a", t0)
		if _, ok := p.Pair(far, "b", t0); !ok {
			b.Fatal("not paired")
		}
	}
}
