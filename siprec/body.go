package siprec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"
)

// maxParts bounds the number of multipart parts read from one body.
const maxParts = 16

// Body is a SIP message body split into the parts a recording server reads.
// Both hold the part's bytes exactly as received.
type Body struct {
	SDP      []byte // the application/sdp part, nil when absent
	Metadata []byte // the application/rs-metadata(+xml) part, nil when absent
}

// SplitBody splits a SIP body by its Content-Type into the SDP part and the
// recording metadata part. It accepts multipart/mixed (parts in any order,
// unknown parts such as application/gtd ignored, a missing closing
// delimiter after a complete last part tolerated: see closeMultipart), application/sdp alone,
// and application/rs-metadata+xml or application/rs-metadata alone (a
// metadata-only re-INVITE or UPDATE). An empty body gives an empty Body.
// Part contents are returned byte for byte; line endings are not touched.
func SplitBody(contentType string, body []byte) (Body, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return Body{}, nil
	}
	if strings.TrimSpace(contentType) == "" {
		return Body{}, fmt.Errorf("split body: %w: missing Content-Type", errUnsupportedType)
	}
	mt, params := parseContentType(contentType)
	switch {
	case mt == "application/sdp":
		return Body{SDP: body}, nil
	case isMetadataType(mt):
		return Body{Metadata: body}, nil
	case strings.HasPrefix(mt, "multipart/"):
		b, err := splitMultipart(params["boundary"], body)
		if err != nil {
			return Body{}, fmt.Errorf("split body: %w", err)
		}
		return b, nil
	}
	return Body{}, fmt.Errorf("split body: %w: %q", errUnsupportedType, mt)
}

func isMetadataType(mt string) bool {
	return mt == "application/rs-metadata+xml" || mt == "application/rs-metadata"
}

// parseContentType returns the lower-cased media type and its parameters.
// It falls back to a plain split when mime.ParseMediaType rejects the value
// (gateways put characters in boundaries that RFC 2045 does not allow).
func parseContentType(v string) (string, map[string]string) {
	if mt, params, err := mime.ParseMediaType(v); err == nil {
		return mt, params
	}
	fields := strings.Split(v, ";")
	mt := strings.ToLower(strings.TrimSpace(fields[0]))
	params := make(map[string]string)
	for _, f := range fields[1:] {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if _, dup := params[k]; !dup {
			params[k] = val
		}
	}
	return mt, params
}

func splitMultipart(boundary string, body []byte) (Body, error) {
	if boundary == "" {
		return Body{}, fmt.Errorf("%w: multipart without boundary", errMalformedBody)
	}
	if !bytes.Contains(body, []byte("--"+boundary)) {
		return Body{}, fmt.Errorf("%w: boundary %q not found", errMalformedBody, boundary)
	}
	body, err := closeMultipart(boundary, body)
	if err != nil {
		return Body{}, err
	}
	var b Body
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	parts := 0
	for ; parts < maxParts; parts++ {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Body{}, fmt.Errorf("%w: part %d: %w", errMalformedBody, parts+1, err)
		}
		content, err := io.ReadAll(p)
		if err != nil {
			return Body{}, fmt.Errorf("%w: part %d: %w", errMalformedBody, parts+1, err)
		}
		mt, _ := parseContentType(p.Header.Get("Content-Type"))
		switch {
		case mt == "application/sdp" && b.SDP == nil:
			b.SDP = content
		case isMetadataType(mt) && b.Metadata == nil:
			b.Metadata = content
		}
	}
	if parts == 0 {
		return Body{}, fmt.Errorf("%w: no part delimited by boundary %q", errMalformedBody, boundary)
	}
	return b, nil
}

// closeMultipart returns body with its closing delimiter. CUBE, Sonus and
// SEMS sometimes end a body with its last part and no "--boundary--" line,
// or with a "--boundary" line that lacks the final "--"; other recorders
// accept that, so callvault does too, when the last part is complete: its
// content ends at a line break, or at the ">" closing an XML document. A
// part that ends anywhere else was cut short and is an error. A body that
// has its closing delimiter is returned as it is.
func closeMultipart(boundary string, body []byte) ([]byte, error) {
	dash := "--" + boundary
	if bytes.Contains(body, []byte(dash+"--")) {
		return body, nil
	}
	end := bytes.TrimRight(body, " \t\r\n")
	switch {
	case bytes.HasSuffix(end, []byte(dash)):
		// The last delimiter line is there without its final "--".
		return append(end[:len(end):len(end)], "--"...), nil
	case len(end) < len(body) && bytes.IndexByte(body[len(end):], '\n') >= 0:
		// The last part ends at a line break: the delimiter follows it.
		return append(body[:len(body):len(body)], dash+"--"...), nil
	case len(end) > 0 && end[len(end)-1] == '>':
		return append(body[:len(body):len(body)], "\r\n"+dash+"--"...), nil
	}
	return nil, fmt.Errorf("%w: last part cut short (no closing delimiter %q and the body ends mid-line)", errMalformedBody, dash+"--")
}
