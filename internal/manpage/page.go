// Package manpage writes manual pages in roff (the man macros) for the
// callvault binaries, whose `-print-man` and `help --man` hooks describe
// themselves from their own help text: a Page of sections made of
// blocks, and the helpers that read Go flag sets' help (ParseDefaults,
// ArgOf). It uses the standard library alone.
package manpage

import (
	"io"
	"strings"
)

// Page is a manual page: the title line's fields and the sections.
type Page struct {
	Name     string // the page's name in capitals, CALLVAULTD
	Section  string // the manual section, "8"
	Source   string // the footer, "callvault 1.4.0"
	Manual   string // the header, "System Administration"
	Sections []Section
}

// Section is a .SH section: a heading and its body.
type Section struct {
	Name   string
	Blocks []Block
}

// NewSection is the section name made of blocks.
func NewSection(name string, blocks ...Block) Section {
	return Section{Name: name, Blocks: blocks}
}

// Block is a piece of a section's body; the functions below make them.
type Block interface {
	write(r *roff)
}

// Write writes the page in roff to w.
func (p Page) Write(w io.Writer) error {
	var r roff
	r.macro("TH", p.Name, p.Section, "", p.Source, p.Manual)
	for _, s := range p.Sections {
		r.macro("SH", s.Name)
		for _, b := range s.Blocks {
			b.write(&r)
		}
	}
	_, err := io.WriteString(w, r.String())
	return err
}

// blockFunc is a Block written by a function.
type blockFunc func(r *roff)

func (f blockFunc) write(r *roff) { f(r) }

// Text is a line of running text.
func Text(s string) Block {
	return blockFunc(func(r *roff) { r.text(s) })
}

// Paragraphs is text whose paragraphs are separated by blank lines, each
// filled onto one line, .PP between them.
func Paragraphs(s string) Block {
	return blockFunc(func(r *roff) {
		for i, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
			if i > 0 {
				r.macro("PP")
			}
			r.text(strings.Join(strings.Fields(p), " "))
		}
	})
}

// Paragraph starts a new paragraph (.PP) with the line s.
func Paragraph(s string) Block {
	return blockFunc(func(r *roff) {
		r.macro("PP")
		r.text(s)
	})
}

// Break is a line break (.br), as between two synopses.
func Break() Block {
	return blockFunc(func(r *roff) { r.macro("br") })
}

// Subsection is a .SS heading.
func Subsection(name string) Block {
	return blockFunc(func(r *roff) { r.macro("SS", name) })
}

// Synopsis is a command in bold and its arguments, if any, after it.
func Synopsis(command, args string) Block {
	return blockFunc(func(r *roff) {
		r.macro("B", command)
		if args != "" {
			r.text(args)
		}
	})
}

// Definition is a term and its text.
type Definition struct{ Term, Text string }

// Definitions is one tagged paragraph (.TP) per term, the term in bold.
func Definitions(defs []Definition) Block {
	return blockFunc(func(r *roff) {
		for _, d := range defs {
			r.macro("TP")
			r.macro("B", d.Term)
			r.text(d.Text)
		}
	})
}

// Flags is one tagged paragraph per flag: the flag spelled with d, in
// bold, its argument (as synopsis names it, see ArgOf) in italics, then
// its usage.
func Flags(synopsis string, d Dashes, flags []Flag) Block {
	return blockFunc(func(r *roff) {
		for _, f := range flags {
			r.macro("TP")
			if arg := ArgOf(synopsis, f); arg != "" {
				r.macro("BI", d.Spell(f.Name)+" ", arg)
			} else {
				r.macro("B", d.Spell(f.Name))
			}
			r.text(f.Usage)
		}
	})
}
