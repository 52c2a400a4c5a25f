package phone

import (
	"bytes"
	"encoding/xml"
	"strings"
	"unicode/utf8"
)

// The CiscoIPPhone XML objects the service answers with, from Cisco's
// IP Phone Services Application Development Notes. Element names are
// case sensitive, and the phones' parser knows no other elements, so
// the structs carry exactly the documented ones.

// Field limits of the objects, in characters.
const (
	maxTitle  = 32
	maxPrompt = 32
	maxText   = 4000
	maxName   = 64 // a MenuItem's Name
)

// xmlProlog declares the encoding: without it a phone decodes the page
// in its user locale's character set, not UTF-8.
const xmlProlog = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// contentType is the phones' MIME type for XML objects.
const contentType = "text/xml; charset=utf-8"

// softKeyExit is the phone's own Exit: back to the last page that did not
// expire (the menu, or the phone's services list).
const (
	softKeyExit   = "SoftKey:Exit"
	softKeySelect = "SoftKey:Select"
)

// textObject is a CiscoIPPhoneText: a page of text and softkeys.
type textObject struct {
	XMLName  xml.Name  `xml:"CiscoIPPhoneText"`
	Title    string    `xml:"Title,omitempty"`
	Prompt   string    `xml:"Prompt,omitempty"`
	Text     string    `xml:"Text"`
	SoftKeys []softKey `xml:"SoftKeyItem"`
}

// menuObject is a CiscoIPPhoneMenu: a list to pick from.
type menuObject struct {
	XMLName  xml.Name   `xml:"CiscoIPPhoneMenu"`
	Title    string     `xml:"Title,omitempty"`
	Prompt   string     `xml:"Prompt,omitempty"`
	Items    []menuItem `xml:"MenuItem"`
	SoftKeys []softKey  `xml:"SoftKeyItem"`
}

type menuItem struct {
	Name string `xml:"Name"`
	URL  string `xml:"URL"`
}

// inputObject is a CiscoIPPhoneInput: a form whose values the phone
// appends to URL as a query string (it never POSTs).
type inputObject struct {
	XMLName xml.Name    `xml:"CiscoIPPhoneInput"`
	Title   string      `xml:"Title,omitempty"`
	Prompt  string      `xml:"Prompt,omitempty"`
	URL     string      `xml:"URL"`
	Items   []inputItem `xml:"InputItem"`
}

type inputItem struct {
	DisplayName      string `xml:"DisplayName"`
	QueryStringParam string `xml:"QueryStringParam"`
	DefaultValue     string `xml:"DefaultValue,omitempty"`
	InputFlags       string `xml:"InputFlags"` // T: telephone digits, * and #
}

// softKey is a SoftKeyItem. Any custom softkey removes all of the page's
// default ones, so a page lists every key it wants, Exit included.
type softKey struct {
	Name     string `xml:"Name"`
	URL      string `xml:"URL"`
	Position int    `xml:"Position"`
}

// softKeys numbers keys from position 1 in the order given.
func softKeys(keys ...softKey) []softKey {
	for i := range keys {
		keys[i].Position = i + 1
	}
	return keys
}

// namedEntities turns the numeric references encoding/xml writes into the
// escapes Cisco documents for its phones (&quot; and &apos;), and tabs
// and line feeds back into plain characters, which element content may
// hold as they are (carriage returns never get here: block turns them
// into line feeds, as an XML parser would). Each pattern can only come from escaping: a '&'
// of the data is written &amp;, so "&#34;" never appears on its own.
var namedEntities = strings.NewReplacer(
	"&#34;", "&quot;",
	"&#39;", "&apos;",
	"&#x9;", "\t",
	"&#xA;", "\n",
)

// render encodes a phone object: the prolog, then the element, escaped by
// encoding/xml.
func render(v any) ([]byte, error) {
	body, err := xml.MarshalIndent(v, "", "\t")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(xmlProlog) + len(body) + 1)
	b.WriteString(xmlProlog)
	b.WriteString(namedEntities.Replace(string(body)))
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// line makes s fit a one-line field of at most n characters: line breaks
// become spaces, runs of spaces one, other control characters go.
func line(s string, n int) string {
	return clip(strings.Join(strings.Fields(clean(s, false)), " "), n)
}

// block makes s fit the Text field: it keeps line breaks (as LF) and tabs
// (the phone wraps and pages the rest itself) and drops other controls.
func block(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return clip(clean(s, true), maxText)
}

// clean drops what the phones' Text must not hold: control characters
// (but LF and tab, kept when keepBreaks and otherwise made spaces) and
// invalid UTF-8.
func clean(s string, keepBreaks bool) string {
	s = strings.ToValidUTF8(s, "?")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			if keepBreaks && r != '\r' {
				return r
			}
			return ' '
		case r < ' ', r == 0x7f, r >= 0x80 && r <= 0x9f, r == utf8.RuneError:
			return -1
		}
		return r
	}, s)
}

// clip cuts s to at most n characters, ending it with "..." when cut
// (ASCII: the older phones show only Latin-1).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 3 {
		return string([]rune(s)[:n])
	}
	return string([]rune(s)[:n-3]) + "..."
}
