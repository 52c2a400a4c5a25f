package manpage

import "strings"

// Escape makes s literal roff text: backslashes and minus signs escaped,
// and a leading dot or quote kept from reading as a request.
func Escape(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// Unescape is the text of roff that Escape and a macro's quoting wrote,
// for searching a page as a reader sees it.
func Unescape(s string) string {
	return strings.NewReplacer(`\-`, "-", `\e`, `\`, `\&`, "", `\(dq`, `"`).Replace(s)
}

// roff builds a page in the man macros.
type roff struct{ strings.Builder }

// macro writes a request with its arguments, each quoted.
func (r *roff) macro(name string, args ...string) {
	r.WriteString("." + name)
	for _, a := range args {
		r.WriteString(` "` + strings.ReplaceAll(Escape(a), `"`, `\(dq`) + `"`)
	}
	r.WriteString("\n")
}

// text writes a line of running text.
func (r *roff) text(s string) { r.WriteString(Escape(s) + "\n") }
