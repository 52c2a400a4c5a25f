package media

import (
	"errors"
	"strings"
	"testing"
)

func TestNewDecoder(t *testing.T) {
	for _, c := range []struct {
		name string
		rate int
		ok   bool
	}{
		{"PCMU", 8000, true}, {"pcmu", 8000, true}, {"PCMA", 8000, true}, {"Pcma", 8000, true},
		{"PCMU", 16000, false}, {"G722", 8000, false}, {"telephone-event", 8000, false}, {"", 8000, false},
		{"G729", 8000, true}, {"g729", 8000, true}, {"G729A", 8000, true}, {"g729a", 8000, true},
		{"G729", 16000, false}, {"G729D", 8000, false}, {"G729E", 8000, false}, {"G.729", 8000, false},
		{"CN", 8000, false},
	} {
		d, err := NewDecoder(c.name, c.rate)
		if (err == nil) != c.ok || Supported(c.name, c.rate) != c.ok {
			t.Errorf("NewDecoder(%q, %d) error = %v, Supported = %v; want ok=%v", c.name, c.rate, err, Supported(c.name, c.rate), c.ok)
		}
		if d == nil {
			continue
		}
		// Two bytes are two G.711 samples, or one G.729 SID frame (80).
		want := 3
		if strings.HasPrefix(strings.ToUpper(c.name), "G729") {
			want = 81
		}
		got := d.Decode([]int16{7}, []byte{0xFF, 0xD5})
		if len(got) != want || got[0] != 7 {
			t.Errorf("%s: Decode did not append: %d samples, want %d", c.name, len(got), want)
		}
		closeDecoder(d)
	}
	if _, err := NewDecoder("G729B", 8000); !errors.Is(err, errUnsupportedCodec) {
		t.Errorf("NewDecoder(G729B) error = %v, want errUnsupportedCodec", err)
	}
	d, _ := NewDecoder("PCMA", 8000)
	if got := d.Decode(nil, []byte{0xD5, 0x55}); got[0] != 8 || got[1] != -8 {
		t.Errorf("PCMA decode = %v, want [8 -8]", got)
	}
}
