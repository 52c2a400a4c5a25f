package vault

import (
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// maxFieldLen bounds each free-text field of a file name (in bytes, after
// replacement), so names stay far below NAME_MAX (255).
const maxFieldLen = 64

// FileName returns the contract base name of a sealed recording:
//
//	<id>_<yyyymmddHHmmss>_<username>_<extension>_<remote>_<IN|OUT>.mp3.enc
//
// The timestamp is rec.Start in loc (nil: time.Local). In the user,
// extension, remote and direction fields every character outside
// [A-Za-z0-9+.-] is replaced by '-', one '-' per character; each field is
// then cut to 64 bytes. The username alone keeps '_' (john_doe is a common
// username): the name still splits unambiguously, since the id and time
// before it and the three fields after it never hold one. Direction is
// upper-cased first. Empty fields stay empty, e.g.
// 2026000000007_20261125170102__2501_+15551234_IN.mp3.enc.
func FileName(rec Recording, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	var b strings.Builder
	b.Grow(128)
	b.WriteString(safeField(rec.ID, 0))
	b.WriteByte('_')
	b.WriteString(rec.Start.In(loc).Format("20060102150405"))
	b.WriteByte('_')
	b.WriteString(safeField(rec.User, '_'))
	for _, f := range []string{rec.Extension, rec.Remote, strings.ToUpper(rec.Direction)} {
		b.WriteByte('_')
		b.WriteString(safeField(f, 0))
	}
	b.WriteString(".mp3.enc")
	return b.String()
}

// dayDir is records/YYYY/MM/DD (slash-separated) for t in loc.
func dayDir(t time.Time, loc *time.Location) string {
	return path.Join("records", t.In(loc).Format("2006/01/02"))
}

// relPath is the path of a sealed file relative to the data dir, with
// forward slashes: the day of dirStart, the name from rec.
func relPath(rec Recording, dirStart time.Time, loc *time.Location) string {
	return path.Join(dayDir(dirStart, loc), FileName(rec, loc))
}

// safeField replaces unsafe characters and bounds the length; keep, when
// not 0, is one more character allowed to stay.
func safeField(s string, keep rune) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxFieldLen; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if safeRune(r) || (keep != 0 && r == keep) {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func safeRune(r rune) bool {
	switch {
	case 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		return true
	case r == '+', r == '.', r == '-':
		return true
	}
	return false
}

// joinUnder joins a slash-separated relative path under dir without ever
// leaving dir (".." components are dropped).
func joinUnder(dir, rel string) string {
	return filepath.Join(dir, filepath.FromSlash(path.Clean("/"+rel)))
}
