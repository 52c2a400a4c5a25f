package phone

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var testLinks = links{"http://rec:8080"}

func TestNextActions(t *testing.T) {
	cases := []struct {
		state string
		a     Action
		want  []Action
	}{
		{StateRecording, ActionResume, []Action{ActionStop, ActionPause}},
		{StateWaiting, ActionStop, []Action{ActionStart}},
		{StateStopped, ActionStop, []Action{ActionStart}},
		{StatePaused, ActionPause, []Action{ActionResume}},
		{StateUnkept, ActionResume, []Action{ActionKeep, ActionPause}},
		{StateKept, ActionKeep, []Action{ActionPause}},
		// Unknown states: the action decides.
		{"", ActionStart, []Action{ActionStop, ActionPause}},
		{"odd", ActionStop, []Action{ActionStart}},
		{"", ActionPause, []Action{ActionResume}},
		{"", ActionKeep, []Action{ActionPause}},
		{"", ActionResume, []Action{ActionPause}},
	}
	for _, c := range cases {
		if got := nextActions(c.state, c.a); !slices.Equal(got, c.want) {
			t.Errorf("nextActions(%q, %s) = %v, want %v", c.state, c.a, got, c.want)
		}
	}
}

func TestResultPageErrors(t *testing.T) {
	cases := []struct {
		err    error
		prompt string
		text   string
		keys   []string
	}{
		{fmt.Errorf("lookup: %w", ErrNoCall), "Ext 2501: no call", "No call of extension 2501 is being recorded.", []string{"Retry", "Exit"}},
		{fmt.Errorf("%w: keep is for live-keep users", ErrNotAllowed), "Ext 2501: not allowed", "Not allowed: keep is for live-keep users.", []string{"Exit"}},
		{fmt.Errorf("recorder: %w", context.DeadlineExceeded), "Ext 2501: no answer", "did not answer in time; the keep may still take effect", []string{"Retry", "Exit"}},
		{fmt.Errorf("disk full!"), "Ext 2501: failed", "Could not keep the recording: Disk full!", []string{"Retry", "Exit"}},
	}
	for _, c := range cases {
		p := resultPage(testLinks, "2501", ActionKeep, Result{}, c.err)
		var names []string
		for _, k := range p.SoftKeys {
			names = append(names, k.Name)
		}
		if p.Prompt != c.prompt || !strings.Contains(p.Text, c.text) || !slices.Equal(names, c.keys) {
			t.Errorf("%v: page %+v, want prompt %q, text %q, keys %v", c.err, p, c.prompt, c.text, c.keys)
		}
		if len(p.SoftKeys) > 1 && p.SoftKeys[0].URL != testLinks.record("2501", ActionKeep) {
			t.Errorf("%v: Retry URL %q", c.err, p.SoftKeys[0].URL)
		}
	}
}

func TestResultPageWithoutState(t *testing.T) {
	p := resultPage(testLinks, "2501", ActionStart, Result{}, nil)
	if p.Prompt != "Ext 2501: done" || p.Text != "Recording started." {
		t.Errorf("page %+v, want a bare headline", p)
	}
}

func TestRenderEscapes(t *testing.T) {
	in := textObject{
		Title:  `<T&"'>`,
		Text:   "line 1\n\tline 2 & <3> \"q\" 'a'",
		Prompt: "p",
		SoftKeys: softKeys(softKey{Name: "Go", URL: "http://h/p?a=1&b=%23"},
			softKey{Name: "Exit", URL: softKeyExit}),
	}
	b, err := render(in)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CiscoIPPhoneText>") {
		t.Errorf("no prolog and root: %q", s)
	}
	for _, want := range []string{"&lt;T&amp;&quot;&apos;&gt;", "line 1\n\tline 2 &amp; &lt;3&gt; &quot;q&quot; &apos;a&apos;", "a=1&amp;b=%23"} {
		if !strings.Contains(s, want) {
			t.Errorf("rendered page lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "&#") {
		t.Errorf("numeric references in:\n%s", s)
	}
	var out textObject
	if err := xml.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	out.XMLName = xml.Name{}
	if out.Title != in.Title || out.Text != in.Text || !slices.Equal(out.SoftKeys, in.SoftKeys) {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
}

func TestRenderDataLookingLikeReferences(t *testing.T) {
	b, err := render(textObject{Title: "t", Text: "&#34; &#xA; &quot;"})
	if err != nil {
		t.Fatal(err)
	}
	var out textObject
	if err := xml.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Text != "&#34; &#xA; &quot;" {
		t.Errorf("Text = %q, want the data unchanged", out.Text)
	}
}

func TestFieldCleaning(t *testing.T) {
	if got := line("a\r\nb\t c\x00d\u0085", 32); got != "a b cd" {
		t.Errorf("line = %q", got)
	}
	if got := line(strings.Repeat("é", 40), 32); utf8.RuneCountInString(got) != 32 || !strings.HasSuffix(got, "...") {
		t.Errorf("line of 40 = %q (%d characters), want 32 ending ...", got, utf8.RuneCountInString(got))
	}
	if got := block("a\r\nb\rc\td\x07\xffe"); got != "a\nb\nc\td?e" {
		t.Errorf("block = %q", got)
	}
	if got := block(strings.Repeat("x", 5000)); utf8.RuneCountInString(got) != maxText {
		t.Errorf("block of 5000 has %d characters", utf8.RuneCountInString(got))
	}
	if got := sentence("  no call "); got != "No call." {
		t.Errorf("sentence = %q", got)
	}
	if got := sentence("éclat?"); got != "Éclat?" {
		t.Errorf("sentence = %q", got)
	}
}
