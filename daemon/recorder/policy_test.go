package recorder

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/callvault/callvault/siprec"
)

func TestClassify(t *testing.T) {
	users := map[string]user{
		"2501": {Username: "john_doe", FullName: "John Doe"},
		"2600": {Username: "amy", FullName: "Amy Pond"},
	}
	lookup := func(ext string) (user, bool) { u, ok := users[ext]; return u, ok }
	md := func(aors ...string) *siprec.Metadata {
		m := &siprec.Metadata{}
		for i, a := range aors {
			m.Participants = append(m.Participants, siprec.Participant{AOR: a, Send: []string{string(rune('1' + i))}})
		}
		return m
	}
	for _, c := range []struct {
		name string
		md   *siprec.Metadata
		want parties
	}{
		{"owner calls out", md("sip:2501@10.0.0.1", "sip:+15558201320@10.0.0.2"),
			parties{Username: "john_doe", FullName: "John Doe", Extension: "2501", Remote: "+15558201320", Direction: "OUT", OwnerLabel: "1"}},
		{"owner is called", md("tel:+442071234567", "sip:2501@pbx;user=phone"),
			parties{Username: "john_doe", FullName: "John Doe", Extension: "2501", Remote: "+442071234567", Direction: "IN", OwnerLabel: "2"}},
		{"two users: the caller owns", md("sip:2600@pbx", "sip:2501@pbx"),
			parties{Username: "amy", FullName: "Amy Pond", Extension: "2600", Remote: "2501", Direction: "OUT", OwnerLabel: "1"}},
		{"nobody known", md("sip:5551000@a", "sip:5552000@b"),
			parties{Extension: "5552000", Remote: "5551000", Direction: "IN", OwnerLabel: "2"}},
		{"one participant", md("sip:5551000@a"), parties{Remote: "5551000", Direction: "IN"}},
		{"no metadata yet", nil, parties{Direction: "IN"}},
		{"absurd number", md("sip:2501@pbx", "sip:"+strings.Repeat("9", 5000)+"@gw"),
			parties{Username: "john_doe", FullName: "John Doe", Extension: "2501", Remote: strings.Repeat("9", 64), Direction: "OUT", OwnerLabel: "1"}},
	} {
		if got := classify(c.md, lookup); got != c.want {
			t.Errorf("%s: classify = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestChooseMedia(t *testing.T) {
	offer := []siprec.MediaStream{
		{Index: 0, Kind: "audio", Label: "1", Port: 17000, Formats: []siprec.Format{{PT: 18, Name: "G729", Rate: 8000}, {PT: 8, Name: "PCMA", Rate: 8000}, {PT: 101, Name: "telephone-event", Rate: 8000}}},
		{Index: 1, Kind: "video", Label: "3", Port: 17004, Formats: []siprec.Format{{PT: 96, Name: "H264", Rate: 90000}}},
		{Index: 2, Kind: "audio", Label: "2", Port: 17002, Formats: []siprec.Format{{PT: 0, Name: "PCMU", Rate: 8000}}},
	}
	answers, legs, err := chooseMedia(offer)
	if err != nil {
		t.Fatal(err)
	}
	if answers[0].PT != 8 || answers[0].Port != -1 || answers[1].Port != 0 || answers[2].PT != 0 || answers[2].Port != -1 {
		t.Fatalf("answers = %+v: want PCMA (G.711 preferred to G.729) for label 1, video rejected, PCMU for label 2", answers)
	}
	if len(legs) != 2 || legs[0].label != "1" || legs[0].codec != "PCMA" || legs[1].label != "2" {
		t.Fatalf("legs = %+v", legs)
	}

	answers, legs, err = chooseMedia([]siprec.MediaStream{{Kind: "audio", Port: 1, Formats: []siprec.Format{{PT: 18, Name: "G729", Rate: 8000}, {PT: 101, Name: "telephone-event", Rate: 8000}}}})
	if err != nil || answers[0].PT != 18 || legs[0].codec != "G729" || legs[0].label != "m0" {
		t.Fatalf("G729 only: %+v %+v %v, want G729 chosen on leg m0", answers, legs, err)
	}
	_, _, err = chooseMedia([]siprec.MediaStream{{Kind: "audio", Port: 1, Formats: []siprec.Format{{PT: 9, Name: "G722", Rate: 8000}}}})
	if se, ok := err.(*siprec.StatusError); !ok || se.Code != 488 {
		t.Fatalf("only G722 offered: err = %v, want 488", err)
	}
	_, _, err = chooseMedia(offer[1:2])
	if se, ok := err.(*siprec.StatusError); !ok || se.Code != 488 {
		t.Fatalf("video only: err = %v, want 488", err)
	}
}

func TestChooseMediaSRTP(t *testing.T) {
	gw := make([]byte, 30)
	offer := []siprec.MediaStream{{Index: 0, Kind: "audio", Label: "1", Port: 17000, Proto: "RTP/SAVP",
		Addr:    netip.MustParseAddr("10.0.0.1"),
		Formats: []siprec.Format{{PT: 0, Name: "PCMU", Rate: 8000}},
		Crypto: []siprec.Crypto{{Tag: 1, Suite: "F8_128_HMAC_SHA1_80", Key: gw},
			{Tag: 2, Suite: "AES_CM_128_HMAC_SHA1_32", Key: gw}}}}
	answers, legs, err := chooseMedia(offer)
	if err != nil {
		t.Fatal(err)
	}
	a := answers[0].Crypto
	if a == nil || a.Tag != 2 || a.Suite != "AES_CM_128_HMAC_SHA1_32" || len(a.Key) != 30 || string(a.Key) == string(gw) {
		t.Fatalf("answer crypto = %v: want tag 2, the first supported suite, a key of our own", a)
	}
	if l := legs[0]; l.srtp == nil || string(l.srtp.Key) != string(gw) || l.srtp.Suite != a.Suite || l.source != netip.MustParseAddrPort("10.0.0.1:17000") {
		t.Errorf("leg = %+v: want the gateway's key to decrypt with and its announced source", l)
	}
	offer[0].Crypto = offer[0].Crypto[:1]
	if _, _, err := chooseMedia(offer); err == nil || !strings.Contains(err.Error(), "488") || !strings.Contains(err.Error(), "F8_128_HMAC_SHA1_80") {
		t.Errorf("an offer with no supported suite: %v, want 488 naming the suites", err)
	}
	offer[0].Crypto = nil
	if _, _, err := chooseMedia(offer); err == nil || !strings.Contains(err.Error(), "488") {
		t.Errorf("an SRTP offer without crypto: %v, want 488", err)
	}
}

// TestVendorCallData: the vendors' own call data decides the caller and
// the recorded party where the order of the participants would mislead.
func TestVendorCallData(t *testing.T) {
	users := map[string]user{"4100": {Username: "agent", FullName: "Agent"}, "2002": {Username: "desk", FullName: "Front Desk"},
		"3001": {Username: "desk3001", FullName: "Desk 3001"}, "+15558880002": {Username: "support", FullName: "Support"}}
	lookup := func(ext string) (user, bool) { u, ok := users[ext]; return u, ok }
	for _, c := range []struct {
		sample                       string
		user, ext, remote, direction string
	}{
		// Oracle/Acme: the caller's participant says callingParty=true.
		{"acme/acme-draft.sip", "agent", "4100", "+15551230001", "IN"},
		// Metaswitch: the recorded user is listed first, but callType says it was called.
		{"metaswitch/metaswitch.sip", "desk", "2002", "+15553330100", "IN"},
		// AudioCodes: <ac:role>caller</ac:role>.
		{"audiocodes/audiocodes.sip", "desk3001", "3001", "+15550009999", "OUT"},
		// Ribbon: callData's fromhdr names the caller; the support line was called.
		{"ribbon/ribbon-tns.sip", "support", "+15558880002", "+15557770001", "IN"},
		// BroadWorks: no user known; the recorded user (userID) stands as
		// owner, and origCall's callingPartyNumber (+44...) is its number.
		{"broadworks/broadworks-draft-invite.sip", "", "01632960100", "07700900123", "OUT"},
	} {
		md := sampleMetadata(t, c.sample)
		got := classify(md, lookup)
		if got.Username != c.user || got.Extension != c.ext || got.Remote != c.remote || got.Direction != c.direction {
			t.Errorf("%s: classify = %+v; want user %q, ext %s, remote %s, %s", c.sample, got, c.user, c.ext, c.remote, c.direction)
		}
	}
}

// sampleMetadata parses the metadata of one of siprec's golden samples.
func sampleMetadata(t *testing.T, name string) *siprec.Metadata {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "siprec", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := strings.Cut(string(raw), "\r\n\r\n")
	ct := regexp.MustCompile(`(?mi)^Content-Type:\s*(.+?)\r?$`).FindStringSubmatch(head)
	if ct == nil {
		t.Fatalf("%s: no Content-Type", name)
	}
	b, err := siprec.SplitBody(ct[1], []byte(body))
	if err != nil || b.Metadata == nil {
		t.Fatalf("%s: body: %v", name, err)
	}
	md, err := siprec.ParseMetadata(b.Metadata)
	if err != nil {
		t.Fatalf("%s: metadata: %v", name, err)
	}
	return siprec.Merge(nil, md)
}
