package manpage

import (
	"errors"
	"strings"
	"testing"
)

// TestPageWrite: every block in the roff it stands for, sections in
// order after the title line.
func TestPageWrite(t *testing.T) {
	page := Page{Name: "TOOL", Section: "1", Source: "tool 1.0", Manual: "User Commands", Sections: []Section{
		NewSection("NAME", Text("tool - does things")),
		NewSection("SYNOPSIS", Synopsis("tool", "[-v] FILE"), Break(), Synopsis("tool version", "")),
		NewSection("DESCRIPTION", Paragraphs("\nFirst\n  paragraph.\n\n.Second one.\n"), Paragraph("Third.")),
		NewSection("OPTIONS", Flags("[-v] [-o OUT] [-n N]", DoubleDash, []Flag{
			{Name: "v", Usage: "verbose"}, {Name: "o", Arg: "string", Usage: "output"}, {Name: "count", Arg: "int", Usage: "how many"},
		})),
		NewSection("COMMANDS", Subsection("tool version")),
		NewSection("FILES", Definitions([]Definition{{Term: "/etc/tool", Text: "the configuration"}})),
	}}
	var b strings.Builder
	if err := page.Write(&b); err != nil {
		t.Fatal(err)
	}
	want := `.TH "TOOL" "1" "" "tool 1.0" "User Commands"
.SH "NAME"
tool \- does things
.SH "SYNOPSIS"
.B "tool"
[\-v] FILE
.br
.B "tool version"
.SH "DESCRIPTION"
First paragraph.
.PP
\&.Second one.
.PP
Third.
.SH "OPTIONS"
.TP
.B "\-v"
verbose
.TP
.BI "\-o " "OUT"
output
.TP
.BI "\-\-count " "INT"
how many
.SH "COMMANDS"
.SS "tool version"
.SH "FILES"
.TP
.B "/etc/tool"
the configuration
`
	if got := b.String(); got != want {
		t.Errorf("page:\n%s\nwant:\n%s", got, want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPageWriteReportsTheWriterError(t *testing.T) {
	page := Page{Name: "TOOL", Section: "1", Sections: []Section{NewSection("NAME", Text("tool"))}}
	if err := page.Write(failingWriter{}); err == nil || err.Error() != "disk full" {
		t.Errorf("Write to a failing writer = %v, want its error", err)
	}
}
