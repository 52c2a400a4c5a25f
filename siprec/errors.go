package siprec

import (
	"errors"
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

// statusFor returns the SIP status and a short reason for err.
func statusFor(err error) (int, string) {
	var se *StatusError
	switch {
	case errors.As(err, &se):
		return se.Code, se.Reason
	case errors.Is(err, errUnsupportedType):
		return 415, err.Error()
	case errors.Is(err, errNoAudio):
		return 488, err.Error()
	case errors.Is(err, errMalformedBody), errors.Is(err, errMalformedSDP),
		errors.Is(err, errMalformedMetadata):
		return 400, err.Error()
	}
	return RefuseInternal.Code, RefuseInternal.Text
}
