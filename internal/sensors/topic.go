package sensors

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
)

// A sensor ID is 16 characters of lower-case base32 (80 random bits): safe in MQTT
// topics, URLs and file names, and not guessable.
const idLen = 16

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a fresh random sensor ID.
func NewID() string {
	var b [10]byte
	rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

// ValidID reports whether s has the form of a sensor ID.
func ValidID(s string) bool {
	if len(s) != idLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// ReadingTopic is where sensor id publishes its readings.
func ReadingTopic(id string) string { return "sensors/" + id + "/reading" }

// ParseTopic returns the sensor ID of a reading topic, "sensors/<id>/reading". Any
// other topic, including wildcards, empty levels and other leaves, is refused.
//
// TS-0045 5.5.2.1: topic names from sensors are validated.
func ParseTopic(topic string) (string, error) {
	rest, ok := strings.CutPrefix(topic, "sensors/")
	if !ok {
		return "", fmt.Errorf("topic %.64q is not under sensors/", topic)
	}
	id, leaf, ok := strings.Cut(rest, "/")
	if !ok || leaf != "reading" {
		return "", fmt.Errorf("topic %.64q is not sensors/<id>/reading", topic)
	}
	if !ValidID(id) {
		return "", fmt.Errorf("topic %.64q does not name a sensor", topic)
	}
	return id, nil
}
