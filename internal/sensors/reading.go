package sensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Kind is what a reading measures.
type Kind string

// The kinds of reading Hearth understands.
const (
	Temperature Kind = "temperature"
	Humidity    Kind = "humidity"
	Motion      Kind = "motion"
	Door        Kind = "door"
	Battery     Kind = "battery"
)

// kindSpec is the unit and the physically possible range of one kind; readings outside
// it are refused, not clamped. Two-state kinds (motion, door) take only 0 or 1.
type kindSpec struct {
	unit     string
	min, max float64
	binary   bool
}

var kinds = map[Kind]kindSpec{
	Temperature: {unit: "C", min: -40, max: 125},
	Humidity:    {unit: "%", min: 0, max: 100},
	Motion:      {unit: "", binary: true},
	Door:        {unit: "", binary: true},
	Battery:     {unit: "%", min: 0, max: 100},
}

// Kinds lists the known kinds in a stable order.
func Kinds() []Kind { return []Kind{Temperature, Humidity, Motion, Door, Battery} }

// Unit is the unit readings of k carry ("" for two-state kinds).
func (k Kind) Unit() string { return kinds[k].unit }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { _, ok := kinds[k]; return ok }

// Reading is one validated measurement.
type Reading struct {
	Kind  Kind
	Value float64
	Time  time.Time
}

// Limits of the reading payload.
const (
	// MaxPayload is the largest reading accepted, in bytes.
	MaxPayload = 256
	// MaxAge is how old a reading may be: a sensor that buffered while the gateway was
	// away sends its backlog later, but not from before the readings retention.
	MaxAge = 7 * 24 * time.Hour
	// MaxSkew is how far in the future a reading's clock may be.
	MaxSkew = 5 * time.Minute
)

// ErrInvalid wraps every reason a payload is refused.
var ErrInvalid = errors.New("invalid reading")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// ParseReading validates one payload received at now: syntax (one JSON object with
// exactly the fields "type", "value", "unit" and "ts", each once, nothing else),
// content (a known kind, its unit, a finite value in the kind's range, an RFC 3339 time
// not older than MaxAge nor more than MaxSkew ahead) and size.
//
// TS-0045 5.5.2.1: input from sensors is validated before it is stored or shown.
func ParseReading(payload []byte, now time.Time) (Reading, error) {
	if len(payload) > MaxPayload {
		return Reading{}, invalid("payload of %d bytes exceeds %d", len(payload), MaxPayload)
	}
	typ, num, unit, ts, err := scanReading(payload)
	if err != nil {
		return Reading{}, err
	}
	k := Kind(typ)
	spec, ok := kinds[k]
	if !ok {
		return Reading{}, invalid("unknown type %.32q", typ)
	}
	if unit != spec.unit {
		return Reading{}, invalid("%s is measured in %q, not %.16q", k, spec.unit, unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Reading{}, invalid("value %.32q is not a finite number", num)
	}
	if spec.binary {
		if v != 0 && v != 1 {
			return Reading{}, invalid("%s is 0 or 1, not %v", k, v)
		}
	} else if v < spec.min || v > spec.max {
		return Reading{}, invalid("%s %v outside %v..%v %s", k, v, spec.min, spec.max, spec.unit)
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return Reading{}, invalid("ts %.40q is not an RFC 3339 time", ts)
	}
	if t.After(now.Add(MaxSkew)) {
		return Reading{}, invalid("ts %s is in the future", t.UTC().Format(time.RFC3339))
	}
	if t.Before(now.Add(-MaxAge)) {
		return Reading{}, invalid("ts %s is older than %v", t.UTC().Format(time.RFC3339), MaxAge)
	}
	return Reading{Kind: k, Value: v, Time: t.UTC()}, nil
}

var fieldNames = [4]string{"type", "value", "unit", "ts"}

// scanReading checks the syntax of a payload: one JSON object (RFC 8259) whose members
// are exactly "type", "value", "unit" and "ts", each once, the value a number and the
// others strings, and nothing after it. It returns the members' values, the number as
// written. It reads the few bytes of a reading in one pass without allocating beyond the
// strings it returns: a gateway parses every reading of every sensor, and a general JSON
// decoder spent a quarter of the broker's CPU on it. FuzzParseReading checks it
// against encoding/json.
func scanReading(b []byte) (typ, num, unit, ts string, err error) {
	sc := jsonScanner{b: b}
	switch c := sc.peek(); {
	case c == '{':
		sc.i++
	case c == 0 && sc.i == len(b):
		return "", "", "", "", invalid("not JSON: empty")
	case c == '[' || c == '"' || c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n':
		return "", "", "", "", invalid("a reading is a JSON object")
	default:
		return "", "", "", "", invalid("not JSON: unexpected %q", c)
	}
	var seen [4]bool
	if sc.peek() == '}' {
		sc.i++
	} else {
		for {
			key, ok := sc.str()
			if !ok {
				return "", "", "", "", invalid("not JSON: a member name must be a string")
			}
			i := slices.Index(fieldNames[:], key)
			if i < 0 {
				return "", "", "", "", invalid("unknown field %.16q", key)
			}
			if seen[i] {
				return "", "", "", "", invalid("field %q given twice", key)
			}
			seen[i] = true
			if sc.peek() != ':' {
				return "", "", "", "", invalid("not JSON: ':' expected after %q", key)
			}
			sc.i++
			var v string
			if i == 1 {
				v, ok = sc.number()
			} else {
				v, ok = sc.str()
			}
			if !ok {
				return "", "", "", "", invalid("field %q has the wrong type", key)
			}
			switch i {
			case 0:
				typ = v
			case 1:
				num = v
			case 2:
				unit = v
			case 3:
				ts = v
			}
			c := sc.peek()
			sc.i++
			if c == '}' {
				break
			}
			if c != ',' {
				return "", "", "", "", invalid("not JSON: ',' or '}' expected after %q", key)
			}
		}
	}
	if sc.peek(); sc.i != len(b) {
		return "", "", "", "", invalid("trailing data after the reading")
	}
	if seen != [4]bool{true, true, true, true} {
		return "", "", "", "", invalid(`"type", "value", "unit" and "ts" are all required`)
	}
	return typ, num, unit, ts, nil
}

// jsonScanner reads JSON tokens from b at i.
type jsonScanner struct {
	b []byte
	i int
}

// peek skips white space and returns the next byte, 0 at the end.
func (s *jsonScanner) peek() byte {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// str reads a string. Strings with escapes or invalid UTF-8 (which becomes U+FFFD) are
// decoded by encoding/json: readings have neither, and the rare one costs an
// allocation more.
func (s *jsonScanner) str() (string, bool) {
	if s.peek() != '"' {
		return "", false
	}
	start := s.i
	s.i++
	plain := true // no escape and only ASCII so far
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			raw := s.b[start:s.i]
			if plain {
				return string(raw[1 : len(raw)-1]), true
			}
			if !bytes.Contains(raw, []byte{'\\'}) && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), true
			}
			var out string
			if err := json.Unmarshal(raw, &out); err != nil {
				return "", false
			}
			return out, true
		case c == '\\':
			plain = false
			s.i += 2
		case c < 0x20:
			return "", false
		default:
			if c >= 0x80 {
				plain = false
			}
			s.i++
		}
	}
	return "", false
}

// number reads a number as written, checking the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScanner) number() (string, bool) {
	s.peek()
	start := s.i
	if s.at('-') {
		s.i++
	}
	switch {
	case s.at('0'):
		s.i++
	case s.digits() == 0:
		return "", false
	}
	if s.at('.') {
		s.i++
		if s.digits() == 0 {
			return "", false
		}
	}
	if s.at('e') || s.at('E') {
		s.i++
		if s.at('+') || s.at('-') {
			s.i++
		}
		if s.digits() == 0 {
			return "", false
		}
	}
	return string(s.b[start:s.i]), true
}

func (s *jsonScanner) at(c byte) bool { return s.i < len(s.b) && s.b[s.i] == c }

// digits skips decimal digits and returns how many; a number's integer part does not
// start with 0 (checked by number before).
func (s *jsonScanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// Marshal renders r as the wire payload.
func (r Reading) Marshal() []byte {
	b, _ := json.Marshal(map[string]any{"type": r.Kind, "value": r.Value, "unit": r.Kind.Unit(), "ts": r.Time.UTC().Format(time.RFC3339Nano)})
	return b
}
