package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

var errNoColumns = errors.New("table has no columns")

// columnGap separates table columns.
const columnGap = "  "

// minLastColumn is the least width left for the last column, however wide the
// other columns are.
const minLastColumn = 20

// writeTable writes header and rows as left-aligned columns. The last column is
// not padded and is truncated so that lines fit in width display columns.
func writeTable(w io.Writer, header []string, rows [][]string, width int) error {
	if len(header) == 0 {
		return errNoColumns
	}
	widths := columnWidths(header, rows)
	last := width
	for _, cw := range widths[:len(widths)-1] {
		last -= cw + len(columnGap)
	}
	last = max(last, minLastColumn)
	for _, row := range append([][]string{header}, rows...) {
		if _, err := io.WriteString(w, formatRow(row, widths, last)+"\n"); err != nil {
			return fmt.Errorf("write row: %w", err)
		}
	}
	return nil
}

func columnWidths(header []string, rows [][]string) []int {
	widths := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, cell := range row {
			widths[i] = max(widths[i], displayWidth(cell))
		}
	}
	return widths
}

func formatRow(row []string, widths []int, last int) string {
	var b strings.Builder
	for i, cell := range row[:len(row)-1] {
		b.WriteString(cell)
		b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(cell)))
		b.WriteString(columnGap)
	}
	b.WriteString(truncate(row[len(row)-1], last))
	return b.String()
}

// displayWidth approximates the terminal width of s: East Asian wide and
// full-width characters take two columns, everything else one.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case unicode.Is(unicode.Han, r), unicode.Is(unicode.Hangul, r),
		unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r),
		r >= 0x3000 && r <= 0x303F, // CJK symbols and punctuation
		r >= 0xFF01 && r <= 0xFF60, // full-width forms
		r >= 0xFFE0 && r <= 0xFFE6:
		return 2
	}
	return 1
}

const ellipsis = "…"

// truncate shortens s to at most width display columns, ending it with an
// ellipsis. Text with spaces is cut at a word boundary when one is near.
func truncate(s string, width int) string {
	if displayWidth(s) <= width {
		return s
	}
	budget := width - displayWidth(ellipsis)
	var b strings.Builder
	used := 0
	for _, r := range s {
		if used+runeWidth(r) > budget {
			break
		}
		b.WriteRune(r)
		used += runeWidth(r)
	}
	cut := b.String()
	if splitsWord(cut, s[len(cut):]) {
		if i := strings.LastIndexByte(cut, ' '); i > len(cut)*2/3 {
			cut = cut[:i]
		}
	}
	return strings.TrimRight(cut, " ,;:") + ellipsis
}

// splitsWord reports whether cutting between kept and rest breaks a Latin word.
func splitsWord(kept, rest string) bool {
	return kept != "" && rest != "" && isWordByte(kept[len(kept)-1]) && isWordByte(rest[0])
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}
