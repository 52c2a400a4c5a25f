package control

import (
	"context"
	"net/http"
)

// KeyRotation is what a rotation of the key-encryption key did: the old
// KEK's id (kept as keys/kek-<old>, still reading the older recordings)
// and the new one's, which seals every recording from now on.
type KeyRotation struct {
	Old string `json:"old"`
	New string `json:"new"`
}

func (h *handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	rot, err := h.b.RotateKey(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("key-encryption key rotated", "old", rot.Old, "new", rot.New)
	h.reply(w, r, http.StatusOK, rot)
}

// RotateKey makes a new key-encryption key current (admins only).
func (c *Client) RotateKey(ctx context.Context) (KeyRotation, error) {
	var rot KeyRotation
	err := c.do(ctx, http.MethodPost, "/v1/keys/rotate", nil, nil, &rot)
	return rot, err
}
