package auth

import (
	"errors"
	"unicode/utf8"
)

// Verdict rates a candidate password for the strength meter.
type Verdict struct {
	Acceptable bool
	// Score runs from 0 (guessable) to 4 (very strong).
	Score int
	// Problem is the policy error when not acceptable.
	Problem error
}

// Rate applies the password policy and estimates strength, cheaply enough to run on
// every keystroke. Length carries most of the weight (NIST SP 800-63B: length over
// composition); runs of one character, keyboard or alphabet sequences and low variety
// cost a grade.
func Rate(pw string, pc PolicyContext) Verdict {
	v := Verdict{Acceptable: true}
	if err := CheckPassword(pw, pc); err != nil {
		v.Acceptable, v.Problem = false, err
		if errors.Is(err, ErrPasswordTooShort) || errors.Is(err, ErrPasswordCommon) || errors.Is(err, ErrPasswordContext) {
			v.Score = min(1, lengthScore(pw))
			return v
		}
	}
	v.Score = lengthScore(pw)
	if monotonous(normalize(pw)) && v.Score > 0 {
		v.Score--
	}
	return v
}

func lengthScore(pw string) int {
	switch n := utf8.RuneCountInString(pw); {
	case n >= 20:
		return 4
	case n >= 16:
		return 3
	case n >= MinPasswordLen:
		return 2
	case n >= 8:
		return 1
	}
	return 0
}

// monotonous reports little variety: few distinct characters, or mostly steps of +1/-1
// between neighbours ("abcdef", "987654", "qwerty" rows are caught by the common list).
func monotonous(pw string) bool {
	runes := []rune(pw)
	if len(runes) < 2 {
		return true
	}
	distinct := map[rune]bool{}
	steps := 0
	for i, r := range runes {
		distinct[r] = true
		if i > 0 {
			if d := r - runes[i-1]; d == 1 || d == -1 || d == 0 {
				steps++
			}
		}
	}
	return len(distinct)*3 < len(runes) || steps*2 > len(runes)
}
