package sensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
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
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return Reading{}, invalid("not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return Reading{}, invalid("a reading is a JSON object")
	}
	var typ, unit, ts string
	var num json.Number
	var seen [4]bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Reading{}, invalid("not JSON: %v", err)
		}
		key, _ := tok.(string)
		i := slices.Index(fieldNames[:], key)
		if i < 0 {
			return Reading{}, invalid("unknown field %.16q", key)
		}
		if seen[i] {
			return Reading{}, invalid("field %q given twice", key)
		}
		seen[i] = true
		val, err := dec.Token()
		if err != nil {
			return Reading{}, invalid("not JSON: %v", err)
		}
		var ok bool
		switch i {
		case 0:
			typ, ok = val.(string)
		case 1:
			num, ok = val.(json.Number)
		case 2:
			unit, ok = val.(string)
		case 3:
			ts, ok = val.(string)
		}
		if !ok {
			return Reading{}, invalid("field %q has the wrong type", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return Reading{}, invalid("not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Reading{}, invalid("trailing data after the reading")
	}
	if seen != [4]bool{true, true, true, true} {
		return Reading{}, invalid(`"type", "value", "unit" and "ts" are all required`)
	}
	k := Kind(typ)
	spec, ok := kinds[k]
	if !ok {
		return Reading{}, invalid("unknown type %.32q", typ)
	}
	if unit != spec.unit {
		return Reading{}, invalid("%s is measured in %q, not %.16q", k, spec.unit, unit)
	}
	v, err := num.Float64()
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Reading{}, invalid("value %.32q is not a finite number", num.String())
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

// Marshal renders r as the wire payload.
func (r Reading) Marshal() []byte {
	b, _ := json.Marshal(map[string]any{"type": r.Kind, "value": r.Value, "unit": r.Kind.Unit(), "ts": r.Time.UTC().Format(time.RFC3339Nano)})
	return b
}
