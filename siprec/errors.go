package siprec

import (
	"errors"
	"strings"
)

// Parse errors. The parsers wrap them with specifics; statusFor maps them to
// the SIP status the client gets.
var (
	// errUnsupportedType: a body whose Content-Type we do not read (415).
	errUnsupportedType = errors.New("unsupported content type")
	// errMalformedBody: a body that cannot be split into its parts (400).
	errMalformedBody = errors.New("malformed body")
	// errMalformedSDP: SDP that cannot be read at all (400).
	errMalformedSDP = errors.New("malformed sdp")
	// errNoAudio: an offer without any m=audio line (488).
	errNoAudio = errors.New("no audio stream offered")
	// errMalformedMetadata: recording metadata that is not well-formed XML
	// of the expected shape (400).
	errMalformedMetadata = errors.New("malformed recording metadata")
)

// statusFor returns the SIP status and a short reason for err: the
// reason starts at the refusal's own words (the README's status table),
// without the context a parser put before them.
func statusFor(err error) (int, string) {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code, se.Reason
	}
	for _, k := range []struct {
		sentinel error
		code     int
	}{
		{errUnsupportedType, 415}, {errNoAudio, 488},
		{errMalformedBody, 400}, {errMalformedSDP, 400}, {errMalformedMetadata, 400},
	} {
		if errors.Is(err, k.sentinel) {
			msg := err.Error()
			if i := strings.Index(msg, k.sentinel.Error()); i > 0 {
				msg = msg[i:]
			}
			return k.code, msg
		}
	}
	return RefuseInternal.Code, RefuseInternal.Text
}
