package media

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bogem/id3v2/v2"
)

// Tags are the ID3 tags of a recording (ARCHITECTURE.md, "ID3v2.3 frames").
type Tags struct {
	RecordID  string // TIT2
	Username  string // TCOP, the owner's username
	FullName  string // TCOM, the owner's first and last name
	Extension string // TPE1, the owner's extension
	Remote    string // TPE2, the remote number
	ScreenID  string // TPE3, only when not empty
	Direction string // TCON, IN or OUT
	// Start is when the call started: TIT3 in UTC, and TYER / TDAT / TIME
	// in Location.
	Start time.Time
	// Location is the server's time zone; nil means time.Local.
	Location *time.Location
	Duration time.Duration // TLEN, in milliseconds
}

// id3Header is the size of an ID3v2 tag header and of a v2.3 frame header.
const id3Header = 10

// ID3 returns a complete ID3v2.3 tag (header and frames, no padding). Every
// frame of the table is written, with an empty value when unknown, except
// TPE3, which is written only for a screen recording. Frames come in table
// order, so equal tags give equal bytes. A value is ISO-8859-1 when every
// character fits, otherwise UTF-16 with a byte-order mark (v2.3 has no
// UTF-8).
func (t Tags) ID3() ([]byte, error) {
	loc := t.Location
	if loc == nil {
		loc = time.Local
	}
	local := t.Start.In(loc)
	frames := []struct{ id, value string }{
		{"TIT2", t.RecordID},
		{"TCOP", t.Username},
		{"TCOM", t.FullName},
		{"TPE1", t.Extension},
		{"TPE2", t.Remote},
		{"TPE3", t.ScreenID},
		{"TIT3", t.Start.UTC().Format("2006-01-02T15:04:05")},
		{"TYER", local.Format("2006")},
		{"TDAT", local.Format("0201")},
		{"TIME", local.Format("1504")},
		{"TLEN", strconv.FormatInt(t.Duration.Milliseconds(), 10)},
		{"TCON", t.Direction},
	}
	// id3v2.Tag keeps frames in a map; write each through its own tag and
	// keep only the frame, to fix the order.
	var body bytes.Buffer
	for _, f := range frames {
		if f.id == "TPE3" && f.value == "" {
			continue
		}
		tag := id3v2.NewEmptyTag()
		tag.SetVersion(3)
		enc, value := textEncoding(f.value)
		tag.AddTextFrame(f.id, enc, value)
		var one bytes.Buffer
		if _, err := tag.WriteTo(&one); err != nil {
			return nil, fmt.Errorf("id3 frame %s: %w", f.id, err)
		}
		body.Write(one.Bytes()[id3Header:])
	}
	size := body.Len()
	if size >= 1<<28 {
		return nil, fmt.Errorf("id3: tag of %d bytes too large", size)
	}
	out := make([]byte, 0, id3Header+size)
	out = append(out, 'I', 'D', '3', 3, 0, 0, // v2.3.0, no flags
		byte(size>>21&0x7F), byte(size>>14&0x7F), byte(size>>7&0x7F), byte(size&0x7F)) // synchsafe
	return append(out, body.Bytes()...), nil
}

// textEncoding picks ISO-8859-1 when every rune of s is in Latin-1, else
// UTF-16; invalid UTF-8 is replaced.
func textEncoding(s string) (id3v2.Encoding, string) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for _, r := range s {
		if r > 0xFF {
			return id3v2.EncodingUTF16, s
		}
	}
	return id3v2.EncodingISO, s
}
