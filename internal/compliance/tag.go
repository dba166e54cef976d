package compliance

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"hearth/internal/standard"
)

// Errors wrapped by Scan and Generate for tags that cannot be trusted.
var (
	// ErrUnknownID is an id that names no item or clause of the standard.
	ErrUnknownID = errors.New("unknown TS-0045 id")
	// ErrBadRange is a range that is reversed, malformed or crosses groups.
	ErrBadRange = errors.New("bad TS-0045 range")
	// ErrNoTest is a tag in a test file that is not inside or directly above a
	// Test, Fuzz or Benchmark function.
	ErrNoTest = errors.New("TS-0045 tag in a test file is not in or directly above a Test, Fuzz or Benchmark function")
)

// idPattern is one id of two or more dotted numbers, optionally a range.
const idPattern = `\d+(?:\.\d+)+(?:-\d+(?:\.\d+)*)?`

// tagPattern finds a tag; the first group is its comma-separated id list, which
// may continue on the next comment line after a comma.
var tagPattern = regexp.MustCompile(`TS-0045\s+(` + idPattern + `(?:[ \t]*,\s*` + idPattern + `)*)`)

// parseList expands a tag's id list into the item ids it cites, in order.
// Clause references cite no item and contribute nothing. Every bad id yields
// its own error.
func parseList(list string) ([]string, []error) {
	var ids []string
	var errs []error
	for _, part := range strings.Split(list, ",") {
		got, err := parseID(strings.TrimSpace(part))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, got...)
	}
	return ids, errs
}

func parseID(s string) ([]string, error) {
	if from, to, ok := strings.Cut(s, "-"); ok {
		return expandRange(from, to)
	}
	return resolve(s)
}

// resolve returns the item an id cites. A four-part id names an item, which
// must be in the catalogue. A shorter id refers to a clause: in section 5 an
// aspect or group, which must exist; in sections 1 to 4 (scope, references,
// terms) any clause. A clause reference cites no item.
func resolve(id string) ([]string, error) {
	parts := strings.Split(id, ".")
	switch {
	case len(parts) == 4:
		if _, ok := standard.Lookup(id); ok {
			return []string{id}, nil
		}
	case len(parts) < 4 && parts[0] == "5":
		if sectionExists(id) {
			return nil, nil
		}
	case len(parts) < 4 && frontClause(parts[0]):
		return nil, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownID, id)
}

// frontClause reports whether section is one of the clauses before the
// requirements of section 5.
func frontClause(section string) bool {
	switch section {
	case "1", "2", "3", "4":
		return true
	}
	return false
}

func sectionExists(id string) bool {
	for _, a := range standard.Aspects() {
		if a.ID == id {
			return true
		}
	}
	for _, g := range standard.Groups() {
		if g.ID == id {
			return true
		}
	}
	return false
}

// expandRange expands from-to into the items between them, inclusive. from is
// a full item id; to is either the last number alone or a full item id in the
// same group. Every item in the range must be in the catalogue.
func expandRange(from, to string) ([]string, error) {
	group, first, ok := splitItemID(from)
	if !ok {
		return nil, fmt.Errorf("%w %q: %s is not an item", ErrBadRange, from+"-"+to, from)
	}
	last, ok := rangeEnd(group, to)
	if !ok || last < first {
		return nil, fmt.Errorf("%w %q: end is not a later item of group %s", ErrBadRange, from+"-"+to, group)
	}
	var ids []string
	for n := first; n <= last; n++ {
		id := group + "." + strconv.Itoa(n)
		if _, ok := standard.Lookup(id); !ok {
			return nil, fmt.Errorf("%w %q in range %q", ErrUnknownID, id, from+"-"+to)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// rangeEnd returns the last number of a range that starts in group.
func rangeEnd(group, to string) (int, bool) {
	if !strings.Contains(to, ".") {
		n, err := strconv.Atoi(to)
		return n, err == nil
	}
	g, n, ok := splitItemID(to)
	return n, ok && g == group
}

// splitItemID splits a four-part item id into its group and last number.
func splitItemID(id string) (group string, n int, ok bool) {
	cut := strings.LastIndexByte(id, '.')
	if cut < 0 || strings.Count(id, ".") != 3 {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[cut+1:])
	if err != nil {
		return "", 0, false
	}
	return id[:cut], n, true
}
