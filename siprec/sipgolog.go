package siprec

import (
	"context"
	"log/slog"
	"strings"
)

// SipgoLogger returns the logger to hand sipgo, also as its package-wide
// default (sip.SetDefaultLogger): its records go to log, with the
// per-transaction chatter and the routine transport noise at Debug and
// SDES keys redacted.
func SipgoLogger(log *slog.Logger) *slog.Logger {
	return slog.New(demoteInfo{log.With("component", "sipgo").Handler()})
}

// demoteInfo logs sipgo's Info records at Debug: they are per-transaction
// chatter, not operator news.
type demoteInfo struct{ slog.Handler }

func (h demoteInfo) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo || routineTransportError(r) || routineBookkeeping(r) {
		r.Level = slog.LevelDebug
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, redactRecord(r))
}

// routineTransportError reports a sipgo record about a gateway closing its
// TCP or TLS connection (reset or EOF): sipgo logs it as an error, but it
// is how many gateways end a connection, not a fault to alarm anyone.
func routineTransportError(r slog.Record) bool {
	if r.Level < slog.LevelWarn {
		return false
	}
	routine := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" {
			e := a.Value.String()
			routine = strings.Contains(e, "connection reset by peer") || strings.HasSuffix(e, "EOF")
		}
		return !routine
	})
	return routine
}

// routineBookkeeping reports sipgo records that say nothing an operator
// can act on:
//   - "TCP ref went negative": its connection reference count dropping
//     below zero when a connection is closed from both ends at once (a
//     gateway closing after a BYE, a shutdown); the connection is closed
//     either way.
//   - "Server tx failed to handle request" for an ACK: an ACK needs no
//     answer, but sipgo looks up a connection to answer it on and, when
//     the gateway closed its connection right after sending the ACK (as
//     gateways do after a refused INVITE), tries to dial the gateway;
//     and the same for any request whose answer our dialer would not
//     carry to a host with no session here.
func routineBookkeeping(r slog.Record) bool {
	if r.Level < slog.LevelWarn {
		return false
	}
	if strings.Contains(r.Message, "ref went negative") {
		return true
	}
	if r.Message != "Server tx failed to handle request" {
		return false
	}
	routine := false
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "req":
			routine = strings.HasPrefix(a.Value.String(), "ACK ")
		case "error":
			// Our dialer refused to connect where a stranger's Via
			// pointed (see dialControl): that is the guard working.
			routine = strings.Contains(a.Value.String(), errUnknownPeer.Error())
		}
		return !routine
	})
	return routine
}

// redactRecord hides SDES keys in sipgo's records: it logs the raw text of
// a message it could not parse, which may hold a=crypto lines.
func redactRecord(r slog.Record) slog.Record {
	var attrs []slog.Attr
	changed := false
	r.Attrs(func(a slog.Attr) bool {
		var text string
		switch a.Value.Kind() {
		case slog.KindString:
			text = a.Value.String()
		case slog.KindAny:
			if b, ok := a.Value.Any().([]byte); ok {
				text = string(b)
			}
		}
		if strings.Contains(text, "inline:") {
			a.Value, changed = slog.StringValue(redactKeys([]byte(text))), true
		}
		attrs = append(attrs, a)
		return true
	})
	msg := r.Message
	if strings.Contains(msg, "inline:") {
		msg, changed = redactKeys([]byte(msg)), true
	}
	if !changed {
		return r
	}
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	out.AddAttrs(attrs...)
	return out
}

func (h demoteInfo) Enabled(ctx context.Context, l slog.Level) bool {
	if l == slog.LevelInfo {
		l = slog.LevelDebug
	}
	return h.Handler.Enabled(ctx, l)
}

func (h demoteInfo) WithAttrs(as []slog.Attr) slog.Handler {
	return demoteInfo{h.Handler.WithAttrs(as)}
}

func (h demoteInfo) WithGroup(name string) slog.Handler {
	return demoteInfo{h.Handler.WithGroup(name)}
}
