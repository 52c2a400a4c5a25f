package siprec

import (
	"errors"
	"net/http"
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
	return 500, "internal error"
}

// reasonPhrase returns the standard reason phrase of a SIP status code.
func reasonPhrase(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 415:
		return "Unsupported Media Type"
	case 420:
		return "Bad Extension"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 491:
		return "Request Pending"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 513:
		return "Message Too Large"
	}
	if t := http.StatusText(code); t != "" {
		return t
	}
	switch {
	case code >= 600:
		return "Global Failure"
	case code >= 500:
		return "Server Error"
	case code >= 400:
		return "Request Failed"
	}
	return "OK"
}
