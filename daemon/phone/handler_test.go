package phone

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/callvault/callvault/internal/syncbuf"
)

// The wire view of the pages, declared apart from the package's own types
// so that the tests read what a phone would.
type wireText struct {
	XMLName  xml.Name  `xml:"CiscoIPPhoneText"`
	Title    string    `xml:"Title"`
	Prompt   string    `xml:"Prompt"`
	Text     string    `xml:"Text"`
	SoftKeys []wireKey `xml:"SoftKeyItem"`
}

type wireMenu struct {
	XMLName xml.Name `xml:"CiscoIPPhoneMenu"`
	Title   string   `xml:"Title"`
	Prompt  string   `xml:"Prompt"`
	Items   []struct {
		Name string `xml:"Name"`
		URL  string `xml:"URL"`
	} `xml:"MenuItem"`
	SoftKeys []wireKey `xml:"SoftKeyItem"`
}

type wireInput struct {
	XMLName xml.Name `xml:"CiscoIPPhoneInput"`
	Title   string   `xml:"Title"`
	Prompt  string   `xml:"Prompt"`
	URL     string   `xml:"URL"`
	Items   []struct {
		DisplayName      string `xml:"DisplayName"`
		QueryStringParam string `xml:"QueryStringParam"`
		InputFlags       string `xml:"InputFlags"`
	} `xml:"InputItem"`
}

type wireKey struct {
	Name     string `xml:"Name"`
	URL      string `xml:"URL"`
	Position int    `xml:"Position"`
}

// call is one trigger call.
type call struct {
	ext string
	a   Action
}

// fakeRecorder is a Trigger that records its calls and answers with the
// state each action leads to, or with err.
type fakeRecorder struct {
	mu    sync.Mutex
	calls []call
	err   error
	res   *Result // answer instead of the action's state
}

var stateAfter = map[Action]string{
	ActionStart:  StateRecording,
	ActionStop:   StateWaiting,
	ActionKeep:   StateKept,
	ActionPause:  StatePaused,
	ActionResume: StateRecording,
}

func (f *fakeRecorder) trigger(ctx context.Context, ext string, a Action) (Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{ext, a})
	if f.err != nil {
		return Result{}, f.err
	}
	if f.res != nil {
		return *f.res, nil
	}
	return Result{Call: "0612345678", State: stateAfter[a]}, nil
}

func (f *fakeRecorder) got() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// syncBuffer collects output written from other goroutines.
type syncBuffer = syncbuf.Buffer

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// startService serves the phone service on a loopback port until the
// test ends, and returns its base URL and log.
func startService(t *testing.T, cfg Config, trigger Trigger) (string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return serveHandler(t, NewHandler(cfg, trigger)), logs
}

// serveHandler serves h with Serve on a loopback port until the test
// ends, and checks Serve then returns nil.
func serveHandler(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	return "http://" + ln.Addr().String()
}

var client = &http.Client{Timeout: 30 * time.Second}

// fetch sends a request and reads the whole answer.
func fetch(t *testing.T, method, u string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, u, err)
	}
	return resp, body
}

// page fetches u and checks what every page shares: 200, text/xml in
// UTF-8 declared by the prolog, named escapes only.
func page(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, body := fetch(t, http.MethodGet, u)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body %q", u, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q", u, ct)
	}
	if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="utf-8"?>`)) {
		t.Errorf("GET %s: body does not start with the UTF-8 prolog: %q", u, body)
	}
	if !utf8.Valid(body) {
		t.Errorf("GET %s: body is not UTF-8", u)
	}
	if bytes.Contains(body, []byte("&#")) {
		t.Errorf("GET %s: numeric character reference in %s", u, body)
	}
	return resp, body
}

// textPage fetches a CiscoIPPhoneText and checks its limits and keys.
func textPage(t *testing.T, u string) (wireText, *http.Response) {
	t.Helper()
	resp, body := page(t, u)
	var p wireText
	if err := xml.Unmarshal(body, &p); err != nil {
		t.Fatalf("GET %s: not a CiscoIPPhoneText: %v\n%s", u, err, body)
	}
	checkLimits(t, p.Title, p.Prompt, p.Text)
	checkKeys(t, p.SoftKeys)
	if len(p.SoftKeys) == 0 || p.SoftKeys[len(p.SoftKeys)-1] != (wireKey{Name: "Exit", URL: "SoftKey:Exit", Position: len(p.SoftKeys)}) {
		t.Errorf("GET %s: last softkey is not Exit: %+v", u, p.SoftKeys)
	}
	return p, resp
}

func checkLimits(t *testing.T, title, prompt, text string) {
	t.Helper()
	if title == "" || utf8.RuneCountInString(title) > 32 {
		t.Errorf("Title %q: want 1 to 32 characters", title)
	}
	if utf8.RuneCountInString(prompt) > 32 {
		t.Errorf("Prompt %q: longer than 32 characters", prompt)
	}
	if utf8.RuneCountInString(text) > 4000 {
		t.Errorf("Text of %d characters: longer than 4000", utf8.RuneCountInString(text))
	}
}

// checkKeys checks softkey positions run 1, 2, ... with short names.
func checkKeys(t *testing.T, keys []wireKey) {
	t.Helper()
	for i, k := range keys {
		if k.Position != i+1 || k.Name == "" || len(k.Name) > 8 || k.URL == "" {
			t.Errorf("softkey %d = %+v: want position %d, a short name and a URL", i, k, i+1)
		}
	}
}

// recordKeys returns the actions of the softkeys that call the record
// URL, checking each carries ext.
func recordKeys(t *testing.T, base, ext string, keys []wireKey) []Action {
	t.Helper()
	var as []Action
	for _, k := range keys {
		if strings.HasPrefix(k.URL, "SoftKey:") {
			continue
		}
		if !strings.HasPrefix(k.URL, base+RecordPath+"?") {
			t.Errorf("softkey %s URL %q is not under %s", k.Name, k.URL, base+RecordPath)
			continue
		}
		u, err := url.Parse(k.URL)
		if err != nil {
			t.Errorf("softkey %s URL %q: %v", k.Name, k.URL, err)
			continue
		}
		if got := u.Query().Get("ext"); got != ext {
			t.Errorf("softkey %s URL %q: ext %q, want %q", k.Name, k.URL, got, ext)
		}
		as = append(as, Action(u.Query().Get("action")))
	}
	return as
}

func recordURL(base, ext string, a Action) string {
	return base + RecordPath + "?" + url.Values{"ext": {ext}, "action": {string(a)}}.Encode()
}

func TestRecordActions(t *testing.T) {
	rec := &fakeRecorder{}
	base, logs := startService(t, Config{Allow: loopback}, rec.trigger)
	cases := []struct {
		a        Action
		headline string
		next     []Action
	}{
		{ActionStart, "Recording started.", []Action{ActionStop, ActionPause}},
		{ActionStop, "Recording stopped.", []Action{ActionStart}},
		{ActionKeep, "This call will be kept.", []Action{ActionPause}},
		{ActionPause, "Recording paused.", []Action{ActionResume}},
		{ActionResume, "Recording resumed.", []Action{ActionStop, ActionPause}},
	}
	for i, c := range cases {
		p, resp := textPage(t, base+RecordPath+"?ext=2501&action="+string(c.a))
		if got := rec.got(); len(got) != i+1 || got[i] != (call{"2501", c.a}) {
			t.Fatalf("%s: trigger calls %v, want the last to be 2501 %s", c.a, got, c.a)
		}
		if !strings.Contains(p.Text, c.headline) || !strings.Contains(p.Text, "0612345678") || !strings.Contains(p.Text, stateAfter[c.a]) {
			t.Errorf("%s: Text %q, want %q, the call and the state", c.a, p.Text, c.headline)
		}
		if !strings.Contains(p.Prompt, "2501") {
			t.Errorf("%s: Prompt %q does not name the extension", c.a, p.Prompt)
		}
		if got := recordKeys(t, base, "2501", p.SoftKeys); !slices.Equal(got, c.next) {
			t.Errorf("%s: softkey actions %v, want %v", c.a, got, c.next)
		}
		exp, err := http.ParseTime(resp.Header.Get("Expires"))
		if err != nil || !exp.Before(time.Now()) {
			t.Errorf("%s: Expires %q, want a date in the past", c.a, resp.Header.Get("Expires"))
		}
	}
	if n := strings.Count(logs.String(), "phone record action"); n != len(cases) {
		t.Errorf("logged %d actions, want %d:\n%s", n, len(cases), logs)
	}
}

func TestRecordExtensionCharacters(t *testing.T) {
	rec := &fakeRecorder{}
	base, _ := startService(t, Config{Allow: loopback}, rec.trigger)

	ext := "+4930*12#"
	p, _ := textPage(t, recordURL(base, ext, ActionStart))
	if got := recordKeys(t, base, ext, p.SoftKeys); len(got) == 0 {
		t.Errorf("no action softkeys: %+v", p.SoftKeys)
	}
	// A '+' typed as is in a service URL arrives as a space.
	textPage(t, base+RecordPath+"?ext=+4930&action=Pause")
	want := []call{{ext, ActionStart}, {"+4930", ActionPause}}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Errorf("trigger calls %v, want %v", got, want)
	}
}

func TestRecordRefusals(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		text    string
		actions []Action // action softkeys besides Exit
	}{
		{"no call", fmt.Errorf("ext 2501: %w", ErrNoCall), "No call of extension 2501 is being recorded.", []Action{ActionKeep}},
		{"not allowed", fmt.Errorf("%w: always-on calls are recorded whole", ErrNotAllowed), "Not allowed: always-on calls are recorded whole.", nil},
		{"other", errors.New("vault: disk full"), "Could not keep the recording: Vault: disk full.", []Action{ActionKeep}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &fakeRecorder{err: c.err}
			base, _ := startService(t, Config{Allow: loopback}, rec.trigger)
			p, _ := textPage(t, base+RecordPath+"?ext=2501&action=keep")
			if !strings.Contains(p.Text, c.text) {
				t.Errorf("Text %q, want %q", p.Text, c.text)
			}
			if got := recordKeys(t, base, "2501", p.SoftKeys); !slices.Equal(got, c.actions) {
				t.Errorf("softkey actions %v, want %v", got, c.actions)
			}
			if got := rec.got(); len(got) != 1 {
				t.Errorf("trigger calls %v, want one", got)
			}
		})
	}
}

func TestRecordMalformed(t *testing.T) {
	rec := &fakeRecorder{}
	base, logs := startService(t, Config{Allow: loopback}, rec.trigger)
	cases := []struct {
		query string
		text  string
	}{
		{"action=start", "No extension"},
		{"ext=&action=start", "No extension"},
		{"ext=SEP001122334455&action=start", "device name"},
		{"ext=%23DEVICENAME%23&action=start", "device name"},
		{"ext=25a1&action=start", "may hold only digits"},
		{"ext=" + strings.Repeat("1", 33) + "&action=start", "longer than 32"},
		{"ext=2501", "No action"},
		{"ext=2501&action=record", `Unknown action "record"`},
		{"ext=2501&action=%3Cscript%3E", `Unknown action "<script>"`},
	}
	for _, c := range cases {
		p, _ := textPage(t, base+RecordPath+"?"+c.query)
		if !strings.Contains(p.Text, c.text) {
			t.Errorf("%s: Text %q, want %q", c.query, p.Text, c.text)
		}
		if p.Prompt != "Bad request" || len(p.SoftKeys) != 1 {
			t.Errorf("%s: Prompt %q, softkeys %+v; want Bad request and Exit", c.query, p.Prompt, p.SoftKeys)
		}
	}
	if got := rec.got(); len(got) != 0 {
		t.Errorf("trigger called for malformed requests: %v", got)
	}
	// Logged, but rationed per source: one line for the burst.
	if n := strings.Count(logs.String(), "phone bad request"); n != 1 {
		t.Errorf("logged %d bad requests, want 1:\n%s", n, logs)
	}
}

func TestRefusedSource(t *testing.T) {
	rec := &fakeRecorder{}
	base, logs := startService(t, Config{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, rec.trigger)
	for _, path := range []string{RecordPath + "?ext=2501&action=start", MenuPath + "?ext=2501", "/elsewhere"} {
		resp, body := fetch(t, http.MethodGet, base+path)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", path, resp.StatusCode)
		}
		if len(body) > 64 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s: body %q (%s), want a short plain text", path, body, resp.Header.Get("Content-Type"))
		}
	}
	if got := rec.got(); len(got) != 0 {
		t.Errorf("trigger called for a refused source: %v", got)
	}
	if n := strings.Count(logs.String(), "outside the allow-list"); n != 1 {
		t.Errorf("logged %d refusals, want 1 (rationed):\n%s", n, logs)
	}
}

func TestEmptyAllowListRefusesAll(t *testing.T) {
	rec := &fakeRecorder{}
	base, logs := startService(t, Config{}, rec.trigger)
	if resp, _ := fetch(t, http.MethodGet, base+MenuPath+"?ext=2501"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("status %d, want 403", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), "allow-list is empty") {
		t.Errorf("no warning about the empty allow-list:\n%s", logs)
	}
}

func TestMenu(t *testing.T) {
	rec := &fakeRecorder{}
	base, _ := startService(t, Config{Allow: loopback}, rec.trigger)

	resp, body := page(t, base+MenuPath+"?ext=2501")
	var m wireMenu
	if err := xml.Unmarshal(body, &m); err != nil {
		t.Fatalf("menu is not a CiscoIPPhoneMenu: %v\n%s", err, body)
	}
	checkLimits(t, m.Title, m.Prompt, "")
	if resp.Header.Get("Expires") != "" {
		t.Errorf("the menu expires (%q): Exit from a result would skip it", resp.Header.Get("Expires"))
	}
	var keys []wireKey
	for _, it := range m.Items {
		keys = append(keys, wireKey{Name: it.Name, URL: it.URL})
	}
	if got := recordKeys(t, base, "2501", keys); !slices.Equal(got, allActions) {
		t.Errorf("menu actions %v, want %v", got, allActions)
	}
	checkKeys(t, m.SoftKeys)
	if len(m.SoftKeys) != 2 || m.SoftKeys[0].URL != "SoftKey:Select" || m.SoftKeys[1].URL != "SoftKey:Exit" {
		t.Errorf("menu softkeys %+v, want Select and Exit", m.SoftKeys)
	}

	// Without an extension, the menu asks for one and comes back.
	_, body = page(t, base+MenuPath)
	var in wireInput
	if err := xml.Unmarshal(body, &in); err != nil {
		t.Fatalf("menu without ext is not a CiscoIPPhoneInput: %v\n%s", err, body)
	}
	checkLimits(t, in.Title, in.Prompt, "")
	if in.URL != base+MenuPath || len(in.Items) != 1 || in.Items[0].QueryStringParam != "ext" || in.Items[0].InputFlags != "T" {
		t.Errorf("input = %+v, want one telephone-digits item ext sent to %s", in, base+MenuPath)
	}

	// A device name instead of an extension.
	p, _ := textPage(t, base+MenuPath+"?ext=SEP001122334455")
	if !strings.Contains(p.Text, "#DEVICENAME#") {
		t.Errorf("Text %q does not explain the device name", p.Text)
	}
	if got := rec.got(); len(got) != 0 {
		t.Errorf("the menu triggered actions: %v", got)
	}
}

func TestMethodsAndPaths(t *testing.T) {
	rec := &fakeRecorder{}
	base, _ := startService(t, Config{Allow: loopback}, rec.trigger)
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, RecordPath + "?ext=2501&action=start", http.StatusMethodNotAllowed},
		{http.MethodDelete, MenuPath + "?ext=2501", http.StatusMethodNotAllowed},
		{http.MethodGet, "/phone", http.StatusNotFound},
		{http.MethodGet, RecordPath + "/x?ext=2501&action=start", http.StatusNotFound},
		{http.MethodHead, RecordPath + "?ext=2501&action=start", http.StatusOK},
		{http.MethodHead, MenuPath + "?ext=2501", http.StatusOK},
	} {
		resp, _ := fetch(t, c.method, base+c.path)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
	}
	if got := rec.got(); len(got) != 0 {
		t.Errorf("trigger called by %v", got)
	}
}

func TestEscapingAndLimits(t *testing.T) {
	rec := &fakeRecorder{res: &Result{
		Call:  `A&B <x> "q" 'a'` + "\x00\x1b" + strings.Repeat("9", 5000),
		State: "recording\r\nfor now",
	}}
	base, _ := startService(t, Config{Allow: loopback}, rec.trigger)
	p, _ := textPage(t, base+RecordPath+"?ext=2501&action=start")
	if !strings.Contains(p.Text, `Call: A&B <x> "q" 'a'999`) {
		t.Errorf("Text does not carry the call as given: %.80q", p.Text)
	}
	if strings.ContainsAny(p.Text, "\x00\x1b\r") {
		t.Errorf("Text keeps control characters: %.80q", p.Text)
	}
	if utf8.RuneCountInString(p.Text) != 4000 || !strings.HasSuffix(p.Text, "...") {
		t.Errorf("Text of %d characters, want cut to 4000 ending ...", utf8.RuneCountInString(p.Text))
	}
	if want := "Ext 2501: recording for now"; p.Prompt != want {
		t.Errorf("Prompt %q, want %q", p.Prompt, want)
	}
}

func TestBaseURL(t *testing.T) {
	rec := &fakeRecorder{}
	base, _ := startService(t, Config{Allow: loopback, BaseURL: "http://recorder.example:8080/cv/"}, rec.trigger)
	p, _ := textPage(t, base+RecordPath+"?ext=2501&action=pause")
	if got := recordKeys(t, "http://recorder.example:8080/cv", "2501", p.SoftKeys); !slices.Equal(got, []Action{ActionResume}) {
		t.Errorf("softkey actions %v under the base URL, want resume", got)
	}

	// A bad one is ignored: links follow the request.
	base, logs := startService(t, Config{Allow: loopback, BaseURL: "recorder:8080"}, rec.trigger)
	p, _ = textPage(t, base+RecordPath+"?ext=2501&action=pause")
	recordKeys(t, base, "2501", p.SoftKeys)
	if !strings.Contains(logs.String(), "base URL ignored") {
		t.Errorf("bad base URL not logged:\n%s", logs)
	}
}
