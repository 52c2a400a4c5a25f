package vault

import badger "github.com/dgraph-io/badger/v4"

// Ping reads the index once (the KEK's id, which every store has): the
// daemon's watchdog pings systemd only while it answers.
func (s *Store) Ping() error {
	return s.view("ping the index", func(txn *badger.Txn) error {
		_, err := txn.Get([]byte("meta/kek"))
		return err
	})
}
