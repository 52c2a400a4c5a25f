package control

import (
	"net/http"
)

func (h *handler) verify(w http.ResponseWriter, r *http.Request) {
	id, ok := h.recordID(w, r)
	if !ok {
		return
	}
	c, err := h.b.Verify(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, http.StatusOK, c)
}

// verifyAll streams one Check per line (NDJSON) as the backend produces
// them; a failure after the first line is reported in the TrailerError
// trailer, as for audio.
func (h *handler) verifyAll(w http.ResponseWriter, r *http.Request) {
	streamLines(h, w, "verify", func(each func(Check) error) error { return h.b.VerifyAll(r.Context(), each) })
}
