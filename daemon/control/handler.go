package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/callvault/callvault/internal/vocab"
)

// TrailerError is the HTTP trailer that reports a failure of the audio
// stream after its 200 status was sent.
const TrailerError = "Callvault-Error"

// maxBodyBytes caps request bodies.
const maxBodyBytes = 64 << 10

type handler struct {
	b   Backend
	log *slog.Logger
}

// NewHandler serves the control API from b. log may be nil.
//
// The event stream and audio export are long responses: do not give the
// http.Server a WriteTimeout (the handler clears per-request write
// deadlines for them anyway), and end event streams on shutdown by closing
// the Backend's subscription channels or by cancelling the server's
// BaseContext, or http.Server.Shutdown waits for them.
func NewHandler(b Backend, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{b: b, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", h.status)
	mux.HandleFunc("GET /v1/calls", h.calls)
	mux.HandleFunc("GET /v1/recordings", h.search)
	mux.HandleFunc("GET /v1/recordings/{id}", h.recording)
	mux.HandleFunc("GET /v1/recordings/{id}/audio", h.audio)
	mux.HandleFunc("GET /v1/recordings/{id}/verify", h.verify)
	mux.HandleFunc("GET /v1/verify", h.verifyAll)
	mux.HandleFunc("GET /v1/users", h.users)
	mux.HandleFunc("POST /v1/users", h.addUser)
	mux.HandleFunc("DELETE /v1/users/{username}", h.removeUser)
	mux.HandleFunc("PUT /v1/users/{username}", h.updateUser)
	mux.HandleFunc("GET /v1/events", h.events)
	mux.HandleFunc("POST /v1/record", h.record)
	mux.HandleFunc("PUT /v1/license", h.installLicense)
	mux.HandleFunc("GET /v1/audit", h.audit)
	mux.HandleFunc("GET /v1/audit/verify", h.auditVerify)
	mux.HandleFunc("POST /v1/purge", h.purge)
	mux.HandleFunc("POST /v1/holds", h.hold)
	mux.HandleFunc("POST /v1/keys/rotate", h.rotateKey)
	mux.HandleFunc("POST /v1/erase", h.erase)
	return mux
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	st, err := h.b.Status(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, http.StatusOK, st)
}

func (h *handler) calls(w http.ResponseWriter, r *http.Request) {
	calls, err := h.b.Calls(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if calls == nil {
		calls = []Call{}
	}
	h.reply(w, r, http.StatusOK, calls)
}

func (h *handler) search(w http.ResponseWriter, r *http.Request) {
	q, err := ParseQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	page := q.Limit
	q.Limit++ // one more tells whether a next page follows
	recs, err := h.b.Search(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(recs) > page {
		recs = recs[:page]
		last := recs[page-1]
		w.Header().Set(HeaderNextCursor, NewCursor(last.Start, last.ID))
	}
	if recs == nil {
		recs = []Recording{}
	}
	h.reply(w, r, http.StatusOK, recs)
}

// recordIDRE is a loose check of a record id taken from the path: the
// contract's ids are 13 digits, but the check only keeps junk out.
var recordIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (h *handler) recordID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !recordIDRE.MatchString(id) {
		h.fail(w, r, fmt.Errorf("%w: recording id %q is malformed", ErrInvalid, id))
		return "", false
	}
	return id, true
}

func (h *handler) recording(w http.ResponseWriter, r *http.Request) {
	id, ok := h.recordID(w, r)
	if !ok {
		return
	}
	rec, err := h.b.Recording(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, http.StatusOK, rec)
}

// audioWriter sends the 200 status and the audio headers on the first
// write, so that an error before any audio still gets its own status.
type audioWriter struct {
	w       http.ResponseWriter
	id      string
	started bool
	n       int64
}

func (a *audioWriter) start() {
	if a.started {
		return
	}
	a.started = true
	hdr := a.w.Header()
	hdr.Set("Content-Type", "audio/mpeg")
	hdr.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", a.id+".mp3"))
	hdr.Set("Trailer", TrailerError)
	a.w.WriteHeader(http.StatusOK)
}

func (a *audioWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	a.start()
	n, err := a.w.Write(p)
	a.n += int64(n)
	return n, err
}

func (h *handler) audio(w http.ResponseWriter, r *http.Request) {
	id, ok := h.recordID(w, r)
	if !ok {
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	aw := &audioWriter{w: w, id: id}
	err := h.b.Export(r.Context(), id, aw)
	if err == nil {
		aw.start() // an empty file still gets its 200
		return
	}
	if !aw.started {
		h.fail(w, r, err)
		return
	}
	h.log.Error("export failed mid-stream", "recording_id", id, "bytes", aw.n, "err", err)
	w.Header().Set(TrailerError, err.Error())
}

func (h *handler) users(w http.ResponseWriter, r *http.Request) {
	users, err := h.b.Users(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if users == nil {
		users = []User{}
	}
	h.reply(w, r, http.StatusOK, users)
}

func (h *handler) addUser(w http.ResponseWriter, r *http.Request) {
	u, err := readUser(w, r)
	if err == nil {
		err = h.b.AddUser(r.Context(), u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("user added", "username", u.Username, "mode", u.Mode)
	h.reply(w, r, http.StatusCreated, u)
}

// readUser reads a User body: one JSON value, known fields only, an empty
// mode taken as ModeAlways, validated.
func readUser(w http.ResponseWriter, r *http.Request) (User, error) {
	var u User
	if err := decodeBody(w, r, "user", &u); err != nil {
		return u, err
	}
	if u.Mode == "" {
		u.Mode = ModeAlways
	}
	return u, u.Validate()
}

// decodeBody reads a request body holding one JSON value with known
// fields only into v; the error wraps ErrInvalid and names what.
func decodeBody(w http.ResponseWriter, r *http.Request, what string, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s body: %w", ErrInvalid, what, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: %s body: more than one JSON value", ErrInvalid, what)
	}
	return nil
}

func (h *handler) record(w http.ResponseWriter, r *http.Request) {
	var req RecordRequest
	if err := decodeBody(w, r, "record", &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := req.Validate(); err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.b.Record(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("record action", "target", req.Target, "action", req.Action, "state", res.State, "record_id", res.Call.RecordID)
	h.reply(w, r, http.StatusOK, res)
}

func (h *handler) installLicense(w http.ResponseWriter, r *http.Request) {
	file, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		h.fail(w, r, fmt.Errorf("%w: licence file: %w", ErrInvalid, err))
		return
	}
	lic, err := h.b.InstallLicense(r.Context(), file)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("licence installed", "customer", lic.Customer, "model", lic.Model, "count", lic.Count, "expires", lic.Expires)
	h.reply(w, r, http.StatusOK, lic)
}

func (h *handler) updateUser(w http.ResponseWriter, r *http.Request) {
	u, err := readUser(w, r)
	if name := r.PathValue("username"); err == nil && u.Username != name {
		err = fmt.Errorf("%w: the body names user %q, the path %q", ErrInvalid, u.Username, name)
	}
	if err == nil {
		err = h.b.UpdateUser(r.Context(), u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("user updated", "username", u.Username, "mode", u.Mode)
	h.reply(w, r, http.StatusOK, u)
}

func (h *handler) removeUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	if problem := vocab.CheckUsername(name); problem != "" {
		h.fail(w, r, fmt.Errorf("%w: %s", ErrInvalid, problem))
		return
	}
	if err := h.b.RemoveUser(r.Context(), name); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("user removed", "username", name)
	w.WriteHeader(http.StatusNoContent)
}

// events streams JSON lines until the client goes away or the backend
// closes the subscription: first a snapshot of the status and live calls
// (seq 1), read after subscribing so that nothing falls between, then each
// event the backend hands out, numbered on. In place of the events the
// backend dropped for a slow reader (its EventResync marker) the stream
// carries a resync and a fresh snapshot.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	ch := h.b.Subscribe(ctx)
	snap, err := h.snapshot(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	var seq uint64
	send := func(ev Event) error {
		seq++
		ev.Seq = seq
		if err := enc.Encode(ev); err != nil {
			return err
		}
		return rc.Flush()
	}
	if send(snap) != nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if send(ev) != nil {
				return
			}
			if ev.Type != EventResync {
				continue
			}
			if snap, err = h.snapshot(ctx); err != nil {
				// Ending the stream is the one honest answer left: the
				// client reconnects and starts from a new snapshot.
				h.log.Warn("event stream: snapshot after resync", "err", err)
				return
			}
			if send(snap) != nil {
				return
			}
		}
	}
}

// snapshot reads the state an event stream starts from.
func (h *handler) snapshot(ctx context.Context) (Event, error) {
	st, err := h.b.Status(ctx)
	if err != nil {
		return Event{}, err
	}
	calls, err := h.b.Calls(ctx)
	if err != nil {
		return Event{}, err
	}
	if calls == nil {
		calls = []Call{}
	}
	return Event{Type: EventSnapshot, Time: time.Now().UTC(), Snapshot: &Snapshot{Status: st, Calls: calls}}, nil
}

type errorBody struct {
	Error string `json:"error"`
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	if code == http.StatusInternalServerError {
		h.log.Error("control request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		h.log.Debug("control request refused", "method", r.Method, "path", r.URL.Path, "status", code, "err", err)
	}
	h.reply(w, r, code, errorBody{Error: err.Error()})
}

func (h *handler) reply(w http.ResponseWriter, r *http.Request, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		h.log.Error("encode control reply", "path", r.URL.Path, "err", err)
		code = http.StatusInternalServerError
		body, _ = json.Marshal(errorBody{Error: fmt.Sprintf("encode reply: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}

var _ io.Writer = (*audioWriter)(nil)
