package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/phone"
	"github.com/callvault/callvault/daemon/recorder"
)

// phoneService is the Cisco IP Phone service's listener and handler, or
// nil when [phone] listen is empty.
type phoneService struct {
	ln  net.Listener
	cfg phone.Config
	rec *recorder.Recorder
}

// listenPhone opens the phone service's listener ([phone] listen).
func listenPhone(c Config, p parsed, rec *recorder.Recorder, log *slog.Logger) (*phoneService, error) {
	if c.Phone.Listen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", c.Phone.Listen)
	if err != nil {
		return nil, fmt.Errorf("phone service: %w", err)
	}
	return &phoneService{ln: ln, rec: rec, cfg: phone.Config{Allow: p.phoneAllow, BaseURL: c.Phone.BaseURL, Log: log}}, nil
}

// addr is where the service listens, "" without one.
func (s *phoneService) addr() string {
	if s == nil {
		return ""
	}
	return s.ln.Addr().String()
}

func (s *phoneService) close() {
	if s != nil {
		s.ln.Close()
	}
}

// serve serves the phones until ctx ends.
func (s *phoneService) serve(ctx context.Context) error {
	if s == nil {
		<-ctx.Done()
		return nil
	}
	return phone.Serve(ctx, s.ln, phone.NewHandler(s.cfg, phoneTrigger(s.rec)))
}

// phoneTrigger applies a phone's action to its extension's live call, in
// the words the phone shows.
func phoneTrigger(rec *recorder.Recorder) phone.Trigger {
	return func(ctx context.Context, ext string, a phone.Action) (phone.Result, error) {
		res, err := rec.Record(ext, string(a))
		switch {
		case errors.Is(err, control.ErrNotFound):
			return phone.Result{}, phone.ErrNoCall
		case errors.Is(err, control.ErrNotAllowed):
			// The innermost reason, without the API's prefixes.
			msg := err.Error()
			if i := strings.LastIndex(msg, ": "); i >= 0 {
				msg = msg[i+2:]
			}
			return phone.Result{}, fmt.Errorf("%w: %s", phone.ErrNotAllowed, msg)
		case err != nil:
			return phone.Result{}, err
		}
		call := res.Call.Remote
		if call == "" {
			call = res.Call.RecordID
		}
		return phone.Result{Call: call, State: res.State}, nil
	}
}
