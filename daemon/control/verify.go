package control

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
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
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Trailer", TrailerError)
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	n := 0
	err := h.b.VerifyAll(r.Context(), func(c Check) error {
		n++
		if err := enc.Encode(c); err != nil {
			return err
		}
		return rc.Flush()
	})
	if err != nil {
		h.log.Error("verify all failed", "checked", n, "err", err)
		w.Header().Set(TrailerError, fmt.Sprintf("verify stopped after %d files: %v", n, err))
	}
}
