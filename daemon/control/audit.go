package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// AuditEntry is one entry of the audit trail: what was done (Action), to
// which recording (ID, when any), by whom (Actor, the unix user of the
// control socket's caller, or "system" with UID -1), and the SHA-256 of
// the entry before it (Prev), which makes the trail a hash chain.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	ID     string    `json:"id,omitempty"`
	Actor  string    `json:"actor"`
	UID    int       `json:"uid"`
	Detail string    `json:"detail,omitempty"`
	Prev   string    `json:"prev"`
}

// AuditQuery selects audit entries: of one recording, and From and To
// inclusive; zero values do not filter.
type AuditQuery struct {
	ID       string
	From, To time.Time
}

// AuditReport is what checking the audit trail found: FirstBroken is the
// number of the first entry that breaks the chain (0 when it is intact),
// Problem says how.
type AuditReport struct {
	Entries     int    `json:"entries"`
	FirstBroken uint64 `json:"first_broken,omitempty"`
	Problem     string `json:"problem,omitempty"`
	HeadSeq     uint64 `json:"head_seq"`
}

// Intact reports whether the trail checked out.
func (r AuditReport) Intact() bool { return r.FirstBroken == 0 && r.Problem == "" }

func (q AuditQuery) values() url.Values {
	v := url.Values{}
	if q.ID != "" {
		v.Set("id", q.ID)
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.RFC3339Nano))
	}
	return v
}

// parseAuditQuery reads an AuditQuery from a request's query string.
func parseAuditQuery(v url.Values) (AuditQuery, error) {
	q := AuditQuery{ID: v.Get("id")}
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if s := v.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return q, fmt.Errorf("%w: %s %q is not an RFC 3339 time", ErrInvalid, name, s)
			}
			*dst = t
		}
	}
	return q, nil
}

// audit streams the entries of the trail that match the query, one a line.
func (h *handler) audit(w http.ResponseWriter, r *http.Request) {
	q, err := parseAuditQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	streamLines(h, w, "audit", func(each func(AuditEntry) error) error { return h.b.Audit(r.Context(), q, each) })
}

func (h *handler) auditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := h.b.AuditVerify(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, http.StatusOK, rep)
}

// Audit calls fn with each audit entry that matches q, oldest first.
func (c *Client) Audit(ctx context.Context, q AuditQuery, fn func(AuditEntry) error) error {
	resp, err := c.send(ctx, http.MethodGet, "/v1/audit", q.values(), nil)
	if err != nil {
		return err
	}
	return readLines(ctx, resp, "audit", fn)
}

// AuditVerify checks the whole audit trail and reports the first broken
// entry.
func (c *Client) AuditVerify(ctx context.Context) (AuditReport, error) {
	var rep AuditReport
	err := c.do(ctx, http.MethodGet, "/v1/audit/verify", nil, nil, &rep)
	return rep, err
}

// streamLines writes what each hands it as JSON, one value a line
// (NDJSON), flushing each; a failure after the first line is reported in
// the TrailerError trailer.
func streamLines[T any](h *handler, w http.ResponseWriter, what string, each func(func(T) error) error) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Trailer", TrailerError)
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	n := 0
	err := each(func(v T) error {
		n++
		if err := enc.Encode(v); err != nil {
			return err
		}
		return rc.Flush()
	})
	if err != nil {
		h.log.Error(what+" failed", "lines", n, "err", err)
		w.Header().Set(TrailerError, fmt.Sprintf("%s stopped after %d lines: %v", what, n, err))
	}
}

// readLines reads an NDJSON stream written by streamLines into fn.
func readLines[T any](ctx context.Context, resp *http.Response, what string, fn func(T) error) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return readError(resp)
	}
	dec := json.NewDecoder(resp.Body)
	for n := 0; ; n++ {
		var v T
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return fmt.Errorf("%s: stream broke after %d lines: %w", what, n, err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if msg := resp.Trailer.Get(TrailerError); msg != "" {
		return fmt.Errorf("%s: %s", what, msg)
	}
	return nil
}
