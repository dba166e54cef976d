package auth

import (
	"errors"
	"testing"
)

func TestRate(t *testing.T) {
	pc := PolicyContext{Username: "owner", DeviceWords: []string{"HG-100"}}
	cases := []struct {
		pw       string
		ok       bool
		problem  error
		minScore int
		maxScore int
	}{
		{"", false, ErrPasswordTooShort, 0, 0},
		{"short", false, ErrPasswordTooShort, 0, 0},
		{"qwerty123456", false, ErrPasswordCommon, 0, 1},
		{"owner password 1", false, ErrPasswordContext, 0, 1},
		{"aaaaaaaaaaaaaaaaaaaaaaa", true, nil, 0, 3},
		{"abcdefghijklmnopqrstuv", true, nil, 0, 3},
		{"tuesday lamp 7", true, nil, 2, 2},
		{"violet harbour lantern", true, nil, 4, 4},
		{"月光照在安靜的河面上閃閃發亮", true, nil, 2, 3},
	}
	for _, tc := range cases {
		v := Rate(tc.pw, pc)
		if v.Acceptable != tc.ok || !errors.Is(v.Problem, tc.problem) || v.Score < tc.minScore || v.Score > tc.maxScore {
			t.Errorf("Rate(%q) = %+v, want ok=%v problem=%v score %d-%d", tc.pw, v, tc.ok, tc.problem, tc.minScore, tc.maxScore)
		}
	}
}
