package control

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// PurgeRequest asks for a purge: with Before, of every recording that
// started before it (an admin's purge up to a date); without, of what
// retention no longer keeps. DryRun lists without removing. Held
// recordings are never removed.
type PurgeRequest struct {
	Before time.Time `json:"before,omitzero"`
	Reason string    `json:"reason,omitempty"`
	DryRun bool      `json:"dry_run,omitempty"`
}

// PurgeResult lists the recordings removed (or, in a dry run, that would
// be) and those a hold kept.
type PurgeResult struct {
	DryRun bool     `json:"dry_run"`
	Purged []string `json:"purged"`
	Held   []string `json:"held"`
}

// HoldRequest puts recordings under legal hold, or with Release lifts
// it: the recordings named by IDs, or those of User and/or within From and
// To (inclusive). Reason is required to hold.
type HoldRequest struct {
	IDs     []string  `json:"ids,omitempty"`
	User    string    `json:"user,omitempty"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`
	Reason  string    `json:"reason,omitempty"`
	Release bool      `json:"release,omitempty"`
}

// Hold is a recording's legal hold.
type Hold struct {
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	Actor  string    `json:"actor"`
}

func (h *handler) purge(w http.ResponseWriter, r *http.Request) {
	var req PurgeRequest
	if err := decodeBody(w, r, "purge", &req); err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.b.Purge(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, http.StatusOK, res)
}

func (h *handler) hold(w http.ResponseWriter, r *http.Request) {
	var req HoldRequest
	if err := decodeBody(w, r, "hold", &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := req.Validate(); err != nil {
		h.fail(w, r, err)
		return
	}
	recs, err := h.b.Hold(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, http.StatusOK, recs)
}

// Purge asks the daemon to purge (see PurgeRequest).
func (c *Client) Purge(ctx context.Context, req PurgeRequest) (PurgeResult, error) {
	var res PurgeResult
	err := c.do(ctx, http.MethodPost, "/v1/purge", nil, req, &res)
	return res, err
}

// Hold puts recordings under legal hold or releases them, and returns
// them as they now stand.
func (c *Client) Hold(ctx context.Context, req HoldRequest) ([]Recording, error) {
	var recs []Recording
	err := c.do(ctx, http.MethodPost, "/v1/holds", nil, req, &recs)
	return recs, err
}

// Validate checks a hold request: something to select, and a reason to
// hold.
func (r HoldRequest) Validate() error {
	var problems []string
	if len(r.IDs) == 0 && r.User == "" && r.From.IsZero() && r.To.IsZero() {
		problems = append(problems, "no recording selected: give ids, a user or a time range")
	}
	if !r.Release && r.Reason == "" {
		problems = append(problems, "a hold needs a reason")
	}
	if !r.From.IsZero() && !r.To.IsZero() && r.To.Before(r.From) {
		problems = append(problems, "to is before from")
	}
	return invalid(problems)
}

// EraseRequest erases one recording (crypto-shredding its data key, then
// removing its file, copies and index entry); refused under hold.
type EraseRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

func (h *handler) erase(w http.ResponseWriter, r *http.Request) {
	var req EraseRequest
	if err := decodeBody(w, r, "erase", &req); err != nil {
		h.fail(w, r, err)
		return
	}
	var problems []string
	if len(req.ID) != 13 {
		problems = append(problems, fmt.Sprintf("recording id %q is malformed", req.ID))
	}
	if req.Reason == "" {
		problems = append(problems, "an erasure needs a reason")
	}
	if err := invalid(problems); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.b.Erase(r.Context(), req); err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, http.StatusOK, req)
}

// Erase erases one recording for good.
func (c *Client) Erase(ctx context.Context, req EraseRequest) error {
	return c.do(ctx, http.MethodPost, "/v1/erase", nil, req, nil)
}
