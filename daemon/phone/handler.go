package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// The paths the service answers (GET and HEAD only).
const (
	MenuPath   = "/phone/menu"
	RecordPath = "/phone/record"
)

const (
	// triggerTimeout bounds an action; the phone gets its page before the
	// server's write timeout even when the recorder is stuck.
	triggerTimeout = 5 * time.Second
	// logPeriod rations the log lines about one source's refused or
	// malformed requests.
	logPeriod = 10 * time.Second
	// logSources bounds the sources a ration remembers.
	logSources = 4096
)

// expired is the Expires header of every page but the menu: an expired
// page is not added to the phone's history, so Exit goes back to the
// menu, and no key ever re-sends an action by going back.
var expired = time.Unix(0, 0).UTC().Format(http.TimeFormat)

// Config is the service's configuration.
type Config struct {
	// Allow lists the networks of the phones. Anything else gets 403;
	// with no prefix, every request does.
	Allow []netip.Prefix
	// BaseURL is the service's absolute URL as phones reach it, for the
	// URLs of softkeys and menu items, e.g. "http://recorder:8080" (see
	// CheckBaseURL). Empty: the scheme and Host of each request.
	BaseURL string
	// Log gets one line per action, and rationed lines about refused and
	// malformed requests. Nil: no logging.
	Log *slog.Logger
}

// CheckBaseURL returns what is wrong with a Config.BaseURL: it must be an
// absolute http or https URL with a host and no query, user or fragment;
// a path is kept as a prefix of the service's paths.
func CheckBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("phone base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("phone base URL %q: want http://host[:port][/path] or https://...", s)
	}
	return nil
}

type handler struct {
	allow   []netip.Prefix
	base    string // "": from the request
	log     *slog.Logger
	trigger Trigger
	mux     *http.ServeMux
	now     func() time.Time
	timeout time.Duration // of an action: triggerTimeout

	refused   *ration // log lines about sources outside the allow-list
	malformed *ration // log lines about malformed requests
}

// NewHandler returns the phone service: GET MenuPath?ext=EXT and GET
// RecordPath?ext=EXT&action=ACTION, answered with CiscoIPPhone XML
// objects; trigger does the actions. A BaseURL that CheckBaseURL refuses
// is logged and ignored. It panics when trigger is nil.
func NewHandler(cfg Config, trigger Trigger) http.Handler {
	if trigger == nil {
		panic("phone: NewHandler without a trigger")
	}
	h := &handler{
		allow:     append([]netip.Prefix(nil), cfg.Allow...),
		log:       cfg.Log,
		trigger:   trigger,
		now:       time.Now,
		timeout:   triggerTimeout,
		refused:   newRation(logPeriod, logSources),
		malformed: newRation(logPeriod, logSources),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if cfg.BaseURL != "" {
		if err := CheckBaseURL(cfg.BaseURL); err != nil {
			h.log.Warn("phone base URL ignored: softkeys point at the host each phone asked", "err", err)
		} else {
			h.base = strings.TrimRight(cfg.BaseURL, "/")
		}
	}
	if len(h.allow) == 0 {
		h.log.Warn("phone allow-list is empty: every phone request is refused; list the phones' networks")
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET "+RecordPath, h.record) // GET patterns match HEAD too
	h.mux.HandleFunc("GET "+MenuPath, h.menu)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	src, ok := h.admit(r)
	if !ok {
		h.refuse(w, r, src)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// admit reports whether the request comes from an allowed network.
func (h *handler) admit(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	src := ap.Addr().Unmap().WithZone("")
	for _, p := range h.allow {
		if p.Contains(src) {
			return src, true
		}
	}
	return src, false
}

// refuse answers a source outside the allow-list: 403 and a word, logged
// at most once per source per logPeriod.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, src netip.Addr) {
	if ok, held := h.refused.take(src, h.now()); ok {
		attrs := []any{"source", r.RemoteAddr, "method", r.Method, "path", clip(r.URL.Path, 100)}
		if held > 0 {
			attrs = append(attrs, "suppressed", held)
		}
		h.log.Warn("phone request refused: source outside the allow-list", attrs...)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte("forbidden\n"))
}

// record applies an action and answers what happened.
func (h *handler) record(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ext, err := ParseExt(q.Get("ext"))
	var a Action
	if err == nil {
		a, err = ParseAction(q.Get("action"))
	}
	if err != nil {
		h.badRequest(w, r, err)
		return
	}
	if r.Method == http.MethodHead { // a HEAD acts on nothing
		h.headers(w, true)
		return
	}
	res, err := h.run(r.Context(), ext, a)
	attrs := []any{"source", r.RemoteAddr, "ext", ext, "action", string(a)}
	switch {
	case err == nil:
		h.log.Info("phone record action", append(attrs, "state", res.State)...)
	case errors.Is(err, ErrNoCall) || errors.Is(err, ErrNotAllowed):
		h.log.Info("phone record action refused", append(attrs, "err", err)...)
	default:
		h.log.Warn("phone record action failed", append(attrs, "err", err)...)
	}
	h.send(w, r, resultPage(h.links(r), ext, a, res, err), true)
}

// run calls the trigger with its own deadline, detached from the phone's
// connection: an action the phone gave up waiting for still completes.
// The page does not wait past the deadline for a trigger that ignores it.
func (h *handler) run(ctx context.Context, ext string, a Action) (Result, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
	defer cancel()
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				h.log.Error("phone trigger panicked", "ext", ext, "action", string(a), "panic", fmt.Sprint(p))
				done <- outcome{err: errors.New("internal error")}
			}
		}()
		res, err := h.trigger(ctx, ext, a)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// menu offers the actions to ext's phone, or asks for the extension when
// the URL carries none.
func (h *handler) menu(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("ext")
	if strings.TrimSpace(raw) == "" {
		h.send(w, r, extInputPage(h.links(r)), true)
		return
	}
	ext, err := ParseExt(raw)
	if err != nil {
		h.badRequest(w, r, err)
		return
	}
	h.send(w, r, menuPage(h.links(r), ext), false)
}

// badRequest shows the phone why its request is no good, and logs it at
// most once per source per logPeriod: a malformed service URL is an
// administrator's mistake, repeated by every press.
func (h *handler) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	src, _ := h.admit(r)
	if ok, held := h.malformed.take(src, h.now()); ok {
		attrs := []any{"source", r.RemoteAddr, "path", clip(r.URL.Path, 100), "query", clip(r.URL.RawQuery, 200), "err", err}
		if held > 0 {
			attrs = append(attrs, "suppressed", held)
		}
		h.log.Warn("phone bad request", attrs...)
	}
	h.send(w, r, badRequestPage(err), true)
}

// headers sets the headers of a page; expire keeps it out of the phone's
// history.
func (h *handler) headers(w http.ResponseWriter, expire bool) {
	w.Header().Set("Content-Type", contentType)
	if expire {
		w.Header().Set("Expires", expired)
	}
}

// send renders a page and writes it with status 200.
func (h *handler) send(w http.ResponseWriter, r *http.Request, page any, expire bool) {
	body, err := render(page)
	if err != nil {
		h.log.Error("phone page", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h.headers(w, expire)
	_, _ = w.Write(body)
}

// links are the URLs of softkeys and menu items: under BaseURL, or the
// scheme and host the phone asked (the listener's address when the Host
// header is missing or odd).
func (h *handler) links(r *http.Request) links {
	if h.base != "" {
		return links{h.base}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if !plainHost(host) {
		host = ""
		if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = la.String()
		}
	}
	return links{scheme + "://" + host}
}

// plainHost reports whether a Host header is a host name or an IP
// literal, with an optional port, and nothing else.
func plainHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_:[]", c) >= 0) {
			return false
		}
	}
	return true
}
