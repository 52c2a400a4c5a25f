package main

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/callvault/callvault/vault"
)

const keysUsage = `usage:
  callvaultd keys rotate [-config FILE] [-data DIR]
      make a new key-encryption key current (the daemon stopped); the old
      one is kept as DATA/keys/kek-<id> so older recordings stay readable
  callvaultd keys rewrap [-config FILE] [-data DIR]
      rewrap every older recording's data key under the current key (the
      daemon stopped) and say which old key files can then be removed
`

// runKeys is `callvaultd keys rotate|rewrap`: key rotation on a data dir
// whose daemon is stopped.
func runKeys(args []string, stdout, stderr io.Writer) error {
	return runVerbs("keys", keysUsage, []verb{{"rotate", runKeysRotate}, {"rewrap", runKeysRewrap}}, args, stdout, stderr)
}

// runKeysRotate makes a new KEK current and prints both ids. The audit
// entry names the unix user who ran it.
func runKeysRotate(args []string, stdout, stderr io.Writer) error {
	cfg, _, log, err := offlineStore("keys rotate", args, stderr, nil)
	if err != nil {
		return err
	}
	actor, uid := invoker()
	oldID, newID, err := vault.RotateDir(cfg, log, actor, uid)
	if oldID != "" {
		fmt.Fprintf(stdout, "key-encryption key rotated: %s -> %s\n", oldID, newID)
		fmt.Fprintf(stdout, "new recordings use %s; older ones are read through %s until `callvaultd keys rewrap`\n",
			newID, filepath.Join(cfg.Dir, "keys", "kek-"+oldID))
		fmt.Fprintf(stdout, "back up %s now: without it no new recording can be read\n", filepath.Join(cfg.Dir, "keys", "kek"))
	}
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	return nil
}

// runKeysRewrap rewraps the older recordings' data keys, prints the
// counts, one line per file it could not rewrap, and the commands that
// remove the old key files no recording needs any more. It fails when a
// file could not be rewrapped.
func runKeysRewrap(args []string, stdout, stderr io.Writer) error {
	cfg, _, log, err := offlineStore("keys rewrap", args, stderr, nil)
	if err != nil {
		return err
	}
	rep, err := vault.RewrapDir(cfg, log, func(id string, err error) {
		if err != nil {
			fmt.Fprintf(stdout, "%s\tnot rewrapped\t%v\n", id, err)
		}
	})
	if err != nil {
		return fmt.Errorf("keys rewrap: %w", err)
	}
	printRewrap(stdout, cfg.Dir, rep)
	if rep.Failed > 0 {
		return fmt.Errorf("keys rewrap: %d files could not be rewrapped", rep.Failed)
	}
	return nil
}

// printRewrap prints a rewrap's counts and what may be removed.
func printRewrap(w io.Writer, dir string, rep vault.RewrapReport) {
	fmt.Fprintf(w, "rewrapped %d, already under %s %d, failed %d\n", rep.Rewrapped, rep.Current, rep.Skipped, rep.Failed)
	if rep.Evicted > 0 {
		fmt.Fprintf(w, "%d recordings are only on storage targets (evicted): their copies keep the key they were written under: keep every keys/kek-* file\n", rep.Evicted)
	}
	for _, id := range rep.InUse {
		if id != rep.Current {
			fmt.Fprintf(w, "still needed: %s (files under it were not rewrapped)\n", filepath.Join(dir, "keys", "kek-"+id))
		}
	}
	if len(rep.Retirable) == 0 {
		return
	}
	fmt.Fprintln(w, "no recording needs these old keys any more; remove them with:")
	for _, id := range rep.Retirable {
		fmt.Fprintf(w, "  rm %s\n", filepath.Join(dir, "keys", "kek-"+id))
	}
}

// invoker returns the unix user running the command, and its uid, for
// the audit trail.
func invoker() (string, int) {
	uid := os.Getuid()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username, uid
	}
	return "uid " + strconv.Itoa(uid), uid
}
