//go:build !linux

package media

import (
	"errors"
	"net"
	"time"
)

var errNoStamps = errors.New("kernel timestamps not read on this system")

// enableStamps reports that arrival times come from the clock here.
func enableStamps(*net.UDPConn) error { return errNoStamps }

// parseStamp finds no timestamp here.
func parseStamp([]byte) (time.Time, bool) { return time.Time{}, false }
