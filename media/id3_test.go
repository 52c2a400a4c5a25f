package media

import (
	"bytes"
	"testing"
	"time"

	"github.com/bogem/id3v2/v2"
)

func readTag(t *testing.T, b []byte) *id3v2.Tag {
	t.Helper()
	tag, err := id3v2.ParseReader(bytes.NewReader(b), id3v2.Options{Parse: true})
	if err != nil {
		t.Fatalf("parse id3: %v", err)
	}
	if tag.Version() != 3 {
		t.Errorf("version = %d, want 3", tag.Version())
	}
	return tag
}

func TestID3RoundTrip(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	tags := Tags{
		RecordID: "2019000001344", Username: "john_doe", FullName: "John Doe",
		Extension: "2501", Remote: "+1555820132", ScreenID: "EVT_63120430e0e4d3",
		Direction: "OUT",
		Start:     time.Date(2019, 10, 4, 14, 52, 29, 0, time.UTC),
		Location:  paris,
		Duration:  138*time.Second + 400*time.Millisecond,
	}
	b, err := tags.ID3()
	if err != nil {
		t.Fatalf("ID3: %v", err)
	}
	want := map[string]string{
		"TIT2": "2019000001344", "TCOP": "john_doe", "TCOM": "John Doe", "TPE1": "2501",
		"TPE2": "+1555820132", "TPE3": "EVT_63120430e0e4d3", "TIT3": "2019-10-04T14:52:29",
		"TYER": "2019", "TDAT": "0410", "TIME": "1652", "TLEN": "138400", "TCON": "OUT",
	}
	tag := readTag(t, b)
	for id, v := range want {
		f := tag.GetTextFrame(id)
		if f.Text != v {
			t.Errorf("%s = %q, want %q", id, f.Text, v)
		}
		if f.Encoding.Key != id3v2.EncodingISO.Key {
			t.Errorf("%s encoding = %s, want ISO-8859-1", id, f.Encoding)
		}
	}
	if n := tag.Count(); n != len(want) {
		t.Errorf("%d frames, want %d", n, len(want))
	}
	if tag.Size() != len(b) {
		t.Errorf("tag size %d, encoded %d bytes", tag.Size(), len(b))
	}
	again, _ := tags.ID3()
	if !bytes.Equal(b, again) {
		t.Errorf("ID3 not deterministic")
	}
}

// TestID3EmptyAndUnicode: unknown owner fields are written empty, TPE3 is
// left out, and a name outside Latin-1 is UTF-16.
func TestID3EmptyAndUnicode(t *testing.T) {
	tags := Tags{RecordID: "2026000000007", FullName: "Zoë Łukasiewicz", Remote: "Müller",
		Direction: "IN", Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Location: time.UTC}
	b, err := tags.ID3()
	if err != nil {
		t.Fatalf("ID3: %v", err)
	}
	tag := readTag(t, b)
	if len(tag.GetFrames("TPE3")) != 0 {
		t.Errorf("TPE3 written without a screen recording")
	}
	for _, id := range []string{"TCOP", "TPE1"} {
		if fs := tag.GetFrames(id); len(fs) != 1 || tag.GetTextFrame(id).Text != "" {
			t.Errorf("%s: %d frames %q, want one empty frame", id, len(fs), tag.GetTextFrame(id).Text)
		}
	}
	if f := tag.GetTextFrame("TCOM"); f.Text != "Zoë Łukasiewicz" || f.Encoding.Key != id3v2.EncodingUTF16.Key {
		t.Errorf("TCOM = %q in %s, want UTF-16", f.Text, f.Encoding)
	}
	if f := tag.GetTextFrame("TPE2"); f.Text != "Müller" || f.Encoding.Key != id3v2.EncodingISO.Key {
		t.Errorf("TPE2 = %q in %s, want ISO-8859-1", f.Text, f.Encoding)
	}
	for id, v := range map[string]string{"TIT3": "2026-01-02T03:04:05", "TYER": "2026", "TDAT": "0201", "TIME": "0304", "TLEN": "0"} {
		if got := tag.GetTextFrame(id).Text; got != v {
			t.Errorf("%s = %q, want %q", id, got, v)
		}
	}
}
