package events_test

import (
	"database/sql"
	"encoding/hex"
	"testing"

	_ "modernc.org/sqlite"
)

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
func hexEncode(b []byte) string          { return hex.EncodeToString(b) }

// openRaw opens the database file directly, as someone with the disk would.
func openRaw(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}
